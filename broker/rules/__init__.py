"""Where a document is checked beyond the XSD: business rules with stable codes (docs/rules.md)."""

from broker.rules import identity, listing, notices, replies, routing, times  # noqa: F401  (registers the rules)
from broker.rules.engine import RULES, Rule, RuleContext, check

__all__ = ["RULES", "Rule", "RuleContext", "check"]
