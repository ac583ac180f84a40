"""What the renderer checks a seal against: trust anchors, CRLs and optionally the member registry,
loaded once (docs/contributing.md: load keys and certificates once) and shared by every render."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from broker.registry import Registry, load_registry
from broker.signing.trust import TrustStore
from broker.signing.verifier import DocumentVerifier


@dataclass
class Seal:
    """A verifier and the registry it pins certificates and names units with."""

    trust: TrustStore
    registry: Registry | None = None
    verifier: DocumentVerifier = field(init=False)

    def __post_init__(self) -> None:
        self.verifier = DocumentVerifier(self.trust, self.registry)

    @classmethod
    def from_files(
        cls, anchors: list[str | Path], crls: list[str | Path] | None = None, registry: str | Path | None = None
    ) -> Seal:
        """Load the files (errors as :meth:`TrustStore.from_files` and :func:`load_registry` raise them)."""
        members = load_registry(registry) if registry is not None else None
        return cls(TrustStore.from_files(anchors, crls or []), members)


def verifier_for(
    trust: Seal | DocumentVerifier | None, registry: Registry | None
) -> tuple[DocumentVerifier | None, Registry | None]:
    """The verifier and the registry to use; an explicit ``registry`` wins over the Seal's."""
    if isinstance(trust, Seal):
        return trust.verifier, registry if registry is not None else trust.registry
    if isinstance(trust, DocumentVerifier):
        return trust, registry if registry is not None else trust.registry
    return None, registry
