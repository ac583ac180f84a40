"""The court side: sealing and publishing documents from a case management system."""

from broker.court.client import Answer, CourtClient

__all__ = ["Answer", "CourtClient"]
