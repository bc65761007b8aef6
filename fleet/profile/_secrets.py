"""Secrets: declared once on the schema, redacted wherever a profile becomes data or text.

A field is secret when its annotation carries a marker: ``Annotated[str | None, Secret]`` (the
whole value is secret: a password, a token) or ``Annotated[str, SecretInUrl]`` (a URL whose
user-info password is secret). `redacted()` turns a Struct, or the builtins of one (a report's
``profile``, possibly written by an older version), into builtins with every secret shown as
``"***"``; reports, ``fleet report`` and error messages all go through it, so a new secret field
needs its marker and nothing else. `redact_text()` is the same for free text (messages, logs).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from typing import Annotated, Any, Union, get_args, get_origin
from urllib.parse import urlsplit, urlunsplit

import msgspec
from msgspec import Struct

__all__ = [
    "REDACTED",
    "Secret",
    "SecretInUrl",
    "redact_text",
    "redact_url",
    "redacted",
    "secret_values",
]

REDACTED = "***"


class Secret:
    """`Annotated` marker: the field's whole value is secret. None stays None (that there is
    no password is no secret)."""


class SecretInUrl:
    """`Annotated` marker: the field is a URL whose user-info password is secret; the user
    name, host and path stay (``ws://cp1:***@csms.example.com/ocpp``)."""


# Keys a schema does not know (a report of an older or newer version) are redacted by name.
_SECRET_NAME = re.compile(
    r"^pass$|password|passwd|passphrase|secret|token|credential|api_?key|private_?key"
    r"|authori[sz]ation_?key",
    re.I,
)
# OCPP configuration that is secret by its name rather than its key: a 2.0.1 variable whose
# attributeValue is a password (SecurityCtrlr.BasicAuthPassword, write-only, A01/A02), the
# 1.6 Security Whitepaper's AuthorizationKey (a ChangeConfiguration "value"). Names are
# matched case-insensitively, like the device model's; _SECRET_NAME's also count.
_SECRET_VARIABLES = frozenset({"basicauthpassword", "authorizationkey"})
# user:password@ in any URL of a text.
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s/@:]*:)[^\s/@]*@")
# user:password@ at the start of something that failed to parse as a URL.
_LOOSE_USERINFO = re.compile(r"(?i)^((?:[a-z][a-z0-9+.-]*:)?/*[^\s/@:]*:)[^\s/@]*@")
# An Authorization header's Basic token, however it was printed (header line, tuple, dict).
_BASIC_TOKEN = re.compile(r"(?i)(authorization\W{1,8}(?:b['\"])?basic\s+)[A-Za-z0-9+/]+=*")
# Shorter secret values are not searched for in text: they would match ordinary words.
_SHORTEST_SEARCHED = 4
STATION_PLACEHOLDER = "{station}"
# What a "{station}" placeholder of a secret matches in text: a station id.
_STATION_ID = r"[^\s\"'`,;/@]+"


def redact_url(url: str) -> str:
    """`url` with its user-info password (if any) replaced by ``***``.

    Never raises: a string that is not a URL is returned as it is, unless it holds one.
    """
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. a bad IPv6 literal: fall back to the textual form
        return _URL_PASSWORD.sub(rf"\1{REDACTED}@", url)
    if "@" not in parts.netloc:
        return _LOOSE_USERINFO.sub(rf"\1{REDACTED}@", url) if "@" in url else url
    userinfo, _, host = parts.netloc.rpartition("@")
    user, colon, _ = userinfo.partition(":")
    if not colon:
        return url
    return urlunsplit(parts._replace(netloc=f"{user}:{REDACTED}@{host}"))


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` (a message, a log line, a traceback) with secrets replaced by ``***``.

    Args:
        text: any text.
        secrets: values to hide wherever they appear, e.g. `secret_values(profile)`; a
            ``{station}`` placeholder in one matches any station id. Values with fewer than
            4 other characters are not searched for.

    Always hidden, secrets given or not: URL passwords (``ws://user:***@host``) and the token
    of an ``Authorization: Basic`` header.
    """
    for pattern in _patterns(secrets):
        text = pattern.sub(REDACTED, text)
    text = _URL_PASSWORD.sub(rf"\1{REDACTED}@", text)
    return _BASIC_TOKEN.sub(rf"\1{REDACTED}", text)


def _patterns(secrets: Iterable[str]) -> list[re.Pattern[str]]:
    patterns = []
    # Longest first, so a secret that contains another is hidden whole.
    for secret in sorted(set(secrets), key=len, reverse=True):
        pieces = secret.split(STATION_PLACEHOLDER)
        if sum(len(piece) for piece in pieces) < _SHORTEST_SEARCHED:
            continue
        patterns.append(re.compile(_STATION_ID.join(re.escape(piece) for piece in pieces)))
    return patterns


def redacted(value: Any, schema: Any = None) -> Any:
    """`value` as builtins (dicts, lists, strings, numbers), every secret in it redacted.

    Args:
        value: a Struct (a `Profile`, one of its sections, an option set), or the builtins
            of one, such as a report's ``profile``.
        schema: the Struct type `value`'s builtins are read as; default: `value`'s own type
            for a Struct (`fleet.profile.redacted` defaults builtins to `Profile`).

    Fields marked `Secret` become ``"***"``; fields marked `SecretInUrl` keep all but the
    password. Builtins that do not fit the schema (a report of an older or newer version) are
    kept, but keys whose name says secret (password, token, ...) become ``"***"``, and every
    string, known or not, loses any URL password. Never raises; applying it twice changes
    nothing more.
    """
    if isinstance(value, Struct):
        schema = type(value) if schema is None else schema
        value = msgspec.to_builtins(value)
    return _redact(value, schema)


def secret_values(value: Any, schema: Any = None) -> set[str]:
    """The secret strings in `value` (as `redacted()` takes it), to hide them in free text
    with `redact_text()`: the secret fields' values, URL passwords, and the Basic-auth tokens
    that can be worked out (a user name and password without ``{station}``)."""
    original = value if not isinstance(value, Struct) else msgspec.to_builtins(value)
    if schema is None and isinstance(value, Struct):
        schema = type(value)
    found: set[str] = set()
    _collect(original, schema, found, None)
    return found


def holds_secret(annotation: Any) -> bool:
    """Whether a value of this type is, or contains, a field marked `Secret`."""
    if _marker(annotation) is Secret:
        return True
    fields = _struct_fields(annotation)
    if fields is not None:
        return any(holds_secret(field) for field in fields.values())
    kind = _bare(annotation)
    if get_origin(kind) is dict:
        return holds_secret(get_args(kind)[1])
    if get_origin(kind) in (tuple, list):
        return holds_secret(get_args(kind)[0])
    return False


def is_url_with_secret(annotation: Any) -> bool:
    """Whether the type is marked `SecretInUrl`."""
    return _marker(annotation) is SecretInUrl


def _marker(annotation: Any) -> type | None:
    if get_origin(annotation) is Annotated:
        for meta in get_args(annotation)[1:]:
            if meta in (Secret, SecretInUrl) or isinstance(meta, Secret | SecretInUrl):
                return meta if isinstance(meta, type) else type(meta)
    return None


def _bare(annotation: Any) -> Any:
    """`annotation` without Annotated metadata and without ``| None``."""
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, type(int | None)):
        members = [member for member in get_args(annotation) if member is not type(None)]
        if len(members) == 1:
            return _bare(members[0])
    return annotation


def _struct_fields(annotation: Any) -> dict[str, Any] | None:
    kind = _bare(annotation)
    if isinstance(kind, type) and issubclass(kind, Struct):
        return {field.encode_name: field.type for field in msgspec.structs.fields(kind)}
    return None


def _redact(data: Any, annotation: Any) -> Any:
    marker = _marker(annotation)
    if marker is Secret:
        return None if data is None else REDACTED
    if marker is SecretInUrl and isinstance(data, str):
        return redact_url(data)
    fields = _struct_fields(annotation)
    kind = _bare(annotation)
    if fields is not None and isinstance(data, dict):
        return {
            key: _redact(item, fields[key]) if key in fields else _unknown(key, item)
            for key, item in data.items()
        }
    if get_origin(kind) is dict and isinstance(data, dict):
        item_type = get_args(kind)[1]
        return {key: _redact(item, item_type) for key, item in data.items()}
    if get_origin(kind) in (tuple, list) and isinstance(data, list | tuple):
        item_type = get_args(kind)[0]
        return type(data)(_redact(item, item_type) for item in data)
    return _unknown(None, data)


def _unknown(key: str | None, data: Any) -> Any:
    """Data off the schema (or typed Any, as a campaign's OCPP payload): secret by its key's
    name or by the OCPP variable it sets, or made of parts that may be."""
    secret_name = key is not None and _SECRET_NAME.search(key) is not None
    if secret_name and data is not None and not isinstance(data, dict | list):
        return REDACTED
    if isinstance(data, dict):
        hidden = _ocpp_secret_keys(key, data)
        return {
            k: REDACTED
            if k in hidden and v is not None
            else _unknown(k if isinstance(k, str) else None, v)
            for k, v in data.items()
        }
    if isinstance(data, list | tuple):
        return type(data)(_unknown(None, item) for item in data)
    if isinstance(data, str):
        return redact_text(data)
    return data


def is_secret_variable(name: object) -> bool:
    """Whether an OCPP configuration key (1.6) or variable name (2.0.1) holds a secret:
    BasicAuthPassword, AuthorizationKey, or any name that says password, key, token..."""
    return isinstance(name, str) and (
        name.lower() in _SECRET_VARIABLES or _SECRET_NAME.search(name) is not None
    )


def _ocpp_secret_keys(key: str | None, data: dict[Any, Any]) -> set[str]:
    """The keys of one OCPP object (found under `key`) whose values are secret by what the
    object is: a 2.0.1 SetVariableData's ``attributeValue`` when its ``variable.name`` is
    secret (B05), a 1.6 ChangeConfiguration's (or a KeyValue's) ``value`` when its ``key``
    is (Security Whitepaper's AuthorizationKey), a 2.0.1 VPNType's ``key`` (its shared
    secret; ``password`` goes by its name)."""
    hidden = set()
    if key == "vpn":
        hidden.add("key")
    variable = data.get("variable")
    if isinstance(variable, dict) and is_secret_variable(variable.get("name")):
        hidden.add("attributeValue")
    if is_secret_variable(data.get("key")):
        hidden.add("value")
    return hidden


def _collect_unknown(key: str | None, data: Any, found: set[str]) -> None:
    """`_collect` for data off the schema: what `_unknown` would hide."""
    if isinstance(data, str):
        if key is not None and _SECRET_NAME.search(key):
            found.add(data)
    elif isinstance(data, dict):
        hidden = _ocpp_secret_keys(key, data)
        for k, v in data.items():
            if k in hidden and isinstance(v, str):
                found.add(v)
            else:
                _collect_unknown(k if isinstance(k, str) else None, v, found)
    elif isinstance(data, list | tuple):
        for item in data:
            _collect_unknown(None, item, found)


def _collect(data: Any, annotation: Any, found: set[str], parent: dict[str, Any] | None) -> None:
    marker = _marker(annotation)
    if marker is Secret and isinstance(data, str):
        found.add(data)
        user = parent.get("username") if parent is not None else None
        if isinstance(user, str) and STATION_PLACEHOLDER not in user + data:
            found.add(base64.b64encode(f"{user}:{data}".encode()).decode("ascii"))
        return
    if marker is SecretInUrl and isinstance(data, str):
        try:
            password = urlsplit(data).password
        except ValueError:
            password = None
        if password:
            found.add(password)
        return
    fields = _struct_fields(annotation)
    kind = _bare(annotation)
    if fields is not None and isinstance(data, dict):
        for key, item in data.items():
            if key in fields:
                _collect(item, fields[key], found, data)
            else:
                _collect_unknown(str(key), item, found)
    elif get_origin(kind) is dict and isinstance(data, dict):
        for item in data.values():
            _collect(item, get_args(kind)[1], found, None)
    elif get_origin(kind) in (tuple, list) and isinstance(data, list | tuple):
        for item in data:
            _collect(item, get_args(kind)[0], found, None)
    else:  # typed Any (a campaign's OCPP payload) or off the schema
        _collect_unknown(None, data, found)
