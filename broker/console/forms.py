"""HTML form fields generated from the document models, and the posted form read back.

The officer's compose page is not hand-written field by field: :func:`fields_of` walks a
pydantic model (a measure, a subject, an account) and gives one input per leaf field, named by
its XML alias path (``M1.Account.AccountNumber``), typed by its annotation (date, amount, enum,
text) and labelled in Chinese. :func:`nested` turns the posted names back into the dict the
model validates, so the model — and after it the XSD and the business rules — decides what is
valid, as for a document that came over the network.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from broker.render.labels import FIELDS, VALUES

LABELS = {
    "Subject": "被执行人",
    "Name": "姓名",
    "IdNumber": "公民身份号码",
    "Gender": "性别",
    "Account": "账户",
    "BankName": "开户行",
    "AccountNumber": "账号",
    "AccountName": "户名",
    "Currency": "币种",
    "Account.Currency": "账户币种",
    "Amount.Currency": "金额币种",
    "Amount": "金额（元）",
    "Value": "金额（元）",
    "Period": "期限",
    "Start": "起始日",
    "End": "截止日",
    "RulingNumber": "裁定书文号",
    "CaseNumber": "案号",
    "Phone": "电话",
    "CredentialNumber": "执行公务证号",
    "Remark": "备注",
}
"""Chinese labels by XML name (or ``Parent.Name`` where one name means two things); a field
without one shows its XML name."""

ENUM_LABELS = {"M": "男", "F": "女"}


@dataclass
class FormField:
    """One input of a generated form."""

    name: str  # the alias path, e.g. M1.Account.AccountNumber
    label: str
    kind: str  # text, date, amount, select
    required: bool
    options: list[tuple[str, str]] = field(default_factory=list)
    default: str = ""


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The type inside ``X | None`` and whether None was allowed."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return (args[0] if len(args) == 1 else Union[tuple(args)]), len(args) < len(get_args(annotation))  # noqa: UP007 (built at run time)
    return annotation, False


def _base(annotation: Any) -> Any:
    """``Annotated[Decimal, ...]`` is Decimal for choosing an input."""
    while get_origin(annotation) is not None and hasattr(annotation, "__metadata__"):
        annotation = get_args(annotation)[0]
    return annotation


def fields_of(
    model: type[BaseModel],
    prefix: str = "",
    *,
    skip: frozenset[str] = frozenset(),
    choose: dict[str, type[BaseModel]] | None = None,
) -> list[FormField]:
    """The leaf inputs of ``model`` under ``prefix``. Lists are left out (the page repeats a
    measure itself); ``choose`` picks the member of a union of models (a subject: a natural
    person or an organisation) by the field's alias; ``skip`` leaves aliases out (ids the page
    fills in)."""
    found: list[FormField] = []
    for name, info in model.model_fields.items():
        alias = info.alias or name
        if alias in skip:
            continue
        annotation, optional = _unwrap(info.annotation)
        required = info.is_required() and not optional
        path = f"{prefix}.{alias}" if prefix else alias
        if get_origin(annotation) in (Union, types.UnionType):
            member = (choose or {}).get(alias) or get_args(annotation)[0]
            found += fields_of(member, path, skip=skip, choose=choose)
            continue
        base = _base(annotation)
        if get_origin(base) is list:
            continue
        if isinstance(base, type) and issubclass(base, BaseModel):
            found += fields_of(base, path, skip=skip, choose=choose)
            continue
        parent = prefix.rsplit(".", 1)[-1]
        label = LABELS.get(f"{parent}.{alias}") or LABELS.get(alias) or FIELDS.get(name, alias)
        default = "" if info.default is None or info.is_required() else str(info.default)
        if isinstance(base, type) and issubclass(base, Enum):
            options = [(e.value, ENUM_LABELS.get(e.value) or VALUES.get(e.value, e.value)) for e in base]
            found.append(FormField(path, label, "select", required, options, default))
        elif base is date:
            found.append(FormField(path, label, "date", required, default=default))
        elif base is Decimal:
            found.append(FormField(path, label, "amount", required, default=default))
        else:
            found.append(FormField(path, label, "text", required, default=default))
    return found


def complete(model: type[BaseModel], *, skip: frozenset[str] = frozenset()) -> bool:
    """Whether a form of ``model`` can fill every required field: a required list (of parcels,
    say) is not generated, so such a model has no form here."""
    for name, info in model.model_fields.items():
        alias = info.alias or name
        if alias in skip or not info.is_required():
            continue
        annotation, _ = _unwrap(info.annotation)
        base = _base(annotation)
        if get_origin(base) is list:
            return False
        if isinstance(base, type) and issubclass(base, BaseModel) and not complete(base):
            return False
    return True


def nested(form: dict[str, str], prefix: str) -> dict[str, Any]:
    """The posted fields under ``prefix.`` as a nested dict by alias; empty inputs are left out
    (an optional field not filled in is absent, not an empty string)."""
    out: dict[str, Any] = {}
    for key, value in form.items():
        if not key.startswith(prefix + ".") or not str(value).strip():
            continue
        parts = key[len(prefix) + 1 :].split(".")
        if parts[0][:1].islower():  # the page's own inputs (M1.kind), not the model's
            continue
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = str(value).strip()
    return out


def field_errors(exc: ValidationError, prefix: str) -> dict[str, str]:
    """Each failing input by its form name, with pydantic's message (no input value is quoted)."""
    errors: dict[str, str] = {}
    for error in exc.errors(include_input=False, include_url=False):
        loc = [str(p) for p in error["loc"] if not isinstance(p, int)]
        # a union member's name (NaturalPerson) sits in the loc between the field and its leaf
        loc = [p for p in loc if p not in _UNION_MEMBERS]
        errors[".".join([prefix, *loc])] = error["msg"]
    return errors


_UNION_MEMBERS = {"NaturalPerson", "Organisation"}
