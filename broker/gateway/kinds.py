"""``Kind``: the JSON discriminator of the XSD's choices.

In XML a member of a choice is named by its element (``<ld:BankRotatingFreeze>``); in JSON
the members are bare objects, and some share a shape: ``BankRotatingFreeze`` has exactly the
fields of ``BankFreeze``, ``PropertyPreSeize`` and ``PropertyRotatingSeize`` those of
``PropertySeize`` (:mod:`broker.documents.measures`). pydantic alone would take every such
object for the first member, so a court could not ask for a rotating freeze (轮候冻结, 003 bank
rules 10) or a pre-seizure (预查封, 001 arts. 11–12) in JSON. So each member of a choice
carries ``"Kind"``, its element name:

- on the way in (:func:`resolve`), an object with ``Kind`` is validated as that member, and only
  that one; an object without it is matched by shape as before (the first of several that fit,
  the plain kind: ``BankFreeze``, ``PropertySeize``);
- on the way out (:func:`annotate`), every member of a choice carries its ``Kind``;
- in the OpenAPI document (:func:`openapi`), each member has ``Kind`` as a constant and each
  choice an OpenAPI ``discriminator`` mapping every ``Kind`` to its schema.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from broker.documents.codec import _plan  # the XML mapping's own reading of the models: one truth
from broker.documents.xmlmodel import XmlModel
from broker.errors import Problem, problem
from broker.gateway.problems import field_problems, json_path

KIND = "Kind"


def resolve(data: Any, cls: type[XmlModel], loc: tuple[Any, ...] = ()) -> list[Problem]:
    """Replace, in place, each object of ``data`` (the JSON of a ``cls``) that names its
    ``Kind`` by the model of that kind; the problems found (a kind not in the choice, a field
    of the named kind). ``loc`` is where ``data`` is, for the problems' JSON paths."""
    if not isinstance(data, dict):
        return []
    found: list[Problem] = []
    for f in _plan(cls).fields:
        if f.xml_name not in data or not (f.choices or f.model):
            continue
        value = data[f.xml_name]
        items = list(enumerate(value)) if f.is_list and isinstance(value, list) else [(None, value)]
        for index, item in items:
            where = (*loc, f.xml_name) if index is None else (*loc, f.xml_name, index)
            if not isinstance(item, dict):
                continue
            if f.choices:
                replaced, problems = _member(item, f.choices, where)
                found += problems
                if replaced is not None:
                    if index is None:
                        data[f.xml_name] = replaced
                    else:
                        value[index] = replaced
            elif f.model is not None:
                if KIND in item and item[KIND] in (f.model.xml_tag, f.model.__name__):
                    del item[KIND]  # the one kind there is, named: harmless
                found += resolve(item, f.model, where)
    return found


def _member(
    item: dict[str, Any], choices: dict[str, type[XmlModel]], where: tuple[Any, ...]
) -> tuple[BaseModel | None, list[Problem]]:
    if KIND not in item:
        # no Kind: each member's own choices may still name theirs (nested objects)
        problems: list[Problem] = []
        for member in choices.values():
            problems = resolve(item, member, where)
            if not problems:
                break
        return None, problems
    kind = item[KIND]
    member = choices.get(kind) if isinstance(kind, str) else None
    if member is None:
        found = problem(
            "GW_KIND_UNKNOWN", path=json_path((*where, KIND)), kind=str(kind)[:80], allowed=", ".join(choices)
        )
        return None, [found]
    body = {k: v for k, v in item.items() if k != KIND}
    problems = resolve(body, member, where)
    if problems:
        return None, problems
    try:
        return member.model_validate(body), []
    except ValidationError as exc:
        return None, field_problems(exc.errors(include_input=False), prefix=where)


def annotate(model: BaseModel, dumped: Any) -> Any:
    """``dumped`` (``model``'s JSON, by alias) with ``Kind`` on every member of a choice."""
    if not isinstance(model, XmlModel) or not isinstance(dumped, dict):
        return dumped
    for f in _plan(type(model)).fields:
        if f.xml_name not in dumped or not (f.choices or f.model):
            continue
        value, out = getattr(model, f.name), dumped[f.xml_name]
        pairs = zip(value, out) if f.is_list and isinstance(value, list) else [(value, out)]
        for sub, sub_out in pairs:
            if isinstance(sub, XmlModel) and isinstance(sub_out, dict):
                if f.choices:
                    sub_out[KIND] = sub.xml_tag
                annotate(sub, sub_out)
    return dumped


def openapi(components: dict[str, dict[str, Any]], roots: list[type[XmlModel]]) -> None:
    """Add ``Kind`` to the members of every choice reachable from ``roots`` and an OpenAPI
    discriminator to each choice, in the components of the OpenAPI document."""
    seen: set[type[XmlModel]] = set()

    def ref(member: type[XmlModel]) -> str:
        return f"#/components/schemas/{member.__name__}"

    def walk(cls: type[XmlModel]) -> None:
        if cls in seen:
            return
        seen.add(cls)
        schema = components.get(cls.__name__, {})
        for f in _plan(cls).fields:
            if f.choices:
                for tag, member in f.choices.items():
                    target = components.get(member.__name__)
                    if target is not None:
                        target.setdefault("properties", {})[KIND] = {
                            "const": tag,
                            "type": "string",
                            "description": "which member of the choice this is (the XML element name); "
                            "without it the first member whose fields fit is taken",
                        }
                    walk(member)
                prop = schema.get("properties", {}).get(f.xml_name)
                if prop is not None:
                    holder = prop.get("items", prop) if f.is_list else prop
                    nested = [a for a in holder.get("anyOf", []) if "anyOf" in a or "oneOf" in a]
                    holder = nested[0] if nested else holder  # an optional choice: anyOf[choice, null]
                    if "anyOf" in holder or "oneOf" in holder:
                        holder["discriminator"] = {
                            "propertyName": KIND,
                            "mapping": {tag: ref(m) for tag, m in f.choices.items()},
                        }
            elif f.model is not None:
                walk(f.model)

    for root in roots:
        walk(root)
