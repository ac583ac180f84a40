"""HTTPS for the gateway, and who a client certificate is.

uvicorn terminates TLS (its ``ssl_*`` options) but does not hand the client's certificate to
the application (it does not implement the ASGI TLS extension). :class:`ClientCertProtocol`,
uvicorn's own HTTP protocol with one addition, does: per connection it reads the certificate
the TLS handshake verified and puts its subject in ``scope["extensions"]["tls"]
["client_cert_name"]`` as the ASGI TLS extension specifies (RFC 4514). :mod:`broker.gateway.auth`
maps that subject to the scopes of ``http.tls.clients``.
"""

from __future__ import annotations

import ssl
from typing import Any

from cryptography import x509
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from broker.gateway.config import TlsSide


def uvicorn_options(tls: TlsSide | None) -> dict[str, Any]:
    """The keyword arguments of :class:`uvicorn.Config` for ``tls`` (none for plain HTTP).

    A client certificate is asked for but not required (``CERT_OPTIONAL``): a client without
    one still uses a token; one that presents a certificate not chaining to ``client_ca``
    fails the handshake."""
    if tls is None:
        return {}
    options: dict[str, Any] = {"ssl_certfile": str(tls.cert), "ssl_keyfile": str(tls.key)}
    if tls.client_ca is not None:
        options.update(
            ssl_ca_certs=str(tls.client_ca), ssl_cert_reqs=ssl.CERT_OPTIONAL, http=ClientCertProtocol
        )
    return options


def client_subject(transport: Any) -> str | None:
    """The RFC 4514 subject of the client certificate the handshake verified, if any."""
    ssl_object = transport.get_extra_info("ssl_object")
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    if not der:
        return None
    return x509.load_der_x509_certificate(der).subject.rfc4514_string()


class ClientCertProtocol(AutoHTTPProtocol):  # type: ignore[misc,valid-type]
    """uvicorn's HTTP protocol, adding the client certificate's subject to every request's scope."""

    def connection_made(self, transport: Any) -> None:  # one instance per connection
        super().connection_made(transport)
        subject = client_subject(transport)
        if subject is None:
            return
        app = self.app

        async def with_subject(scope: Any, receive: Any, send: Any) -> None:
            extensions = scope.setdefault("extensions", {})
            extensions["tls"] = {**extensions.get("tls", {}), "client_cert_name": subject}
            await app(scope, receive, send)

        self.app = with_subject
