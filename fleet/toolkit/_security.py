"""OCPP security profiles on the client side: Basic auth (1), TLS (2), client certificates (3)."""

from __future__ import annotations

import base64
import ssl

__all__ = ["basic_auth_header", "client_ssl_context", "parse_basic_auth"]


def basic_auth_header(username: str, password: str) -> tuple[bytes, bytes]:
    """The ``Authorization: Basic ...`` header. Never log its value."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return b"Authorization", f"Basic {token}".encode("ascii")


def parse_basic_auth(header_value: str | None) -> tuple[str, str] | None:
    """(username, password) from an ``Authorization`` header value, or None if not Basic."""
    if not header_value:
        return None
    scheme, _, token = header_value.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep else None


def client_ssl_context(
    ca_file: str | None = None, client_cert: str | None = None, client_key: str | None = None
) -> ssl.SSLContext:
    """A TLS client context: the system's CAs (or `ca_file`), and a client certificate if given.

    Raises:
        ValueError: `client_key` without `client_cert`.
    """
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file)
    if client_key is not None and client_cert is None:
        raise ValueError("client_key needs client_cert")
    if client_cert is not None:
        context.load_cert_chain(client_cert, client_key)
    return context
