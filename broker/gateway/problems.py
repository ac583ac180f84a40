"""The house error body and the HTTP status of each problem.

Every error the gateway answers has the same shape, whatever raised it (a check of the
document, FastAPI's own request validation, an unknown route, a bug)::

    {"status": 422, "problems": [{"code": "RULE_LISTING_MINOR", "message_zh": "…",
                                  "message_en": "…", "path": "…"}]}

Codes are those of docs/error-codes.md; never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel

from broker.errors import LiandongError, Problem, problem

STATUS: dict[str, int] = {
    "GW_TOKEN_MISSING": 401,
    "GW_TOKEN_INVALID": 401,
    "GW_CLIENT_CERT_UNKNOWN": 401,
    "GW_SCOPE_MISSING": 403,
    "GW_NOT_FOUND": 404,
    "GW_ROUTE_NOT_FOUND": 404,
    "GW_METHOD_NOT_ALLOWED": 405,
    "GW_IDEMPOTENCY_CONFLICT": 409,
    "GW_ANSWER_CONFLICT": 409,
    "DOC_ID_REUSED": 409,
    "GW_BODY_TOO_LARGE": 413,
    "XML_TOO_LARGE": 413,
    "GW_MEDIA_TYPE": 415,
    "GW_JSON_MALFORMED": 400,
    "GW_PARAMETER_INVALID": 400,
    "BROKER_UNREACHABLE": 503,
    "GW_INTERNAL": 500,
}
"""HTTP status by code; every other code is a problem with the document: 422."""


class ProblemBody(BaseModel):
    """The error body (also in the OpenAPI document)."""

    status: int
    problems: list[Problem]


class GatewayError(Exception):
    """Raised by the gateway's code; answered with the house body."""

    def __init__(self, problems: Iterable[Problem], status: int | None = None):
        self.problems = list(problems)
        self.status = status or status_of(p.code for p in self.problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    @classmethod
    def of(cls, code: str, **params: Any) -> GatewayError:
        return cls([problem(code, **params)])

    @classmethod
    def from_liandong(cls, exc: LiandongError) -> GatewayError:
        return cls(exc.problems)


def status_of(codes: Iterable[str]) -> int:
    """The most telling status for several codes: the first that is not 422, else 422."""
    statuses = [STATUS.get(code, 422) for code in codes]
    return next((s for s in statuses if s != 422), 422)


def response(status: int, problems: Sequence[Problem], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        ProblemBody(status=status, problems=list(problems)).model_dump(mode="json"),
        status_code=status,
        headers=headers,
    )


def json_path(loc: Sequence[Any]) -> str:
    """pydantic's error location as a JSON path (``$.Header.Recipient``, ``$.Body.Measures[0]``)."""
    path = "$"
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}"
    return path


def field_problems(
    errors: Iterable[dict[str, Any]], *, code: str = "GW_FIELD_INVALID", prefix: Sequence[Any] = ()
) -> list[Problem]:
    """One problem per pydantic error (duplicates once), naming the field by its JSON path under
    ``prefix``. Only pydantic's message, never the input value (it may be personal data)."""
    found: list[Problem] = []
    for err in errors:
        loc = [*prefix, *(p for p in err.get("loc", ()) if not _is_union_member(p))]
        item = problem(code, path=json_path(loc), detail=str(err.get("msg", "invalid")))
        if item not in found:
            found.append(item)
    return found


def _is_union_member(part: Any) -> bool:
    # pydantic names the union member it tried ("BankFreeze", "function-after[...]"): not a field
    return isinstance(part, str) and (part[:1].isupper() and part in _MODEL_NAMES or "[" in part)


def _model_names() -> set[str]:
    from broker.documents.document import BODY_TYPES

    names: set[str] = set()
    seen: set[type] = set()

    def walk(cls: type) -> None:
        if cls in seen or not isinstance(cls, type) or not issubclass(cls, BaseModel):
            return
        seen.add(cls)
        names.add(cls.__name__)
        for f in cls.model_fields.values():
            for arg in _types(f.annotation):
                walk(arg)

    for body in BODY_TYPES:
        walk(body)
    return names


def _types(tp: Any) -> list[Any]:
    import typing

    args = typing.get_args(tp)
    if not args:
        return [tp]
    out: list[Any] = []
    for a in args:
        out.extend(_types(a))
    return out


_MODEL_NAMES = _model_names()
