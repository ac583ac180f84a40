"""Where untrusted bytes become a tree: hardened parsing, then XSD validation."""

from broker.parsing.hardened import ParseError, ParseLimits, parse
from broker.parsing.schema import SchemaError, schema_path, validate

__all__ = ["ParseError", "ParseLimits", "SchemaError", "parse", "schema_path", "validate"]
