"""Base class of every document model and the conventions that map it to XML.

The mapping is deliberately plain, so the XSD in ``schemas/`` reads like the models:

- every element is in the namespace :data:`NS`; attributes are unqualified;
- a field is a child element named by the field's PascalCase alias, in declaration order
  (the XSD ``sequence`` follows the same order);
- a field declared with :func:`attribute` is an XML attribute instead;
- a list field is the element repeated; ``None`` means the element is absent;
- a field whose type is a union of models is an XSD ``choice``: each member is written under
  its own ``xml_tag`` (for example ``BankFreeze`` or ``NaturalPerson``).

:mod:`broker.documents.codec` implements these rules; the models stay free of XML code.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_pascal

NS = "urn:liandong:v1"
"""The versioned target namespace of ``schemas/liandong-v1.xsd``."""

DS_NS = "http://www.w3.org/2000/09/xmldsig#"


class XmlModel(BaseModel):
    """A pydantic model with an XML form (see the module docstring for the rules)."""

    model_config = ConfigDict(
        alias_generator=to_pascal,
        validate_by_name=True,
        validate_by_alias=True,
        extra="forbid",
        use_enum_values=False,
    )

    xml_tag: ClassVar[str] = ""
    """Element name when the model is a member of a choice (a union-typed field)."""


def attribute(default: Any = ..., **kwargs: Any) -> Any:
    """Declare a field that is an XML attribute rather than a child element."""
    extra = dict(kwargs.pop("json_schema_extra", None) or {})
    extra["xml_attribute"] = True
    return Field(default, json_schema_extra=extra, **kwargs)
