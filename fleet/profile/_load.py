"""Reading profiles: file and TOML errors, and what depends on where the file is."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import msgspec

from fleet.profile._model import Profile, ProfileError, decode_hook, describe_validation_error

__all__ = ["load_profile", "parse_profile"]

# tomllib ends its messages with "(at line 3, column 8)" or "(at end of document)".
_TOML_POSITION = re.compile(
    r"(?P<reason>.*) \(at (?:line (?P<line>\d+), column (?P<column>\d+)|end of document)\)"
)


def load_profile(path: str | os.PathLike[str]) -> Profile:
    """The profile in the TOML file at `path`.

    Relative TLS paths in it are taken relative to the file's folder and made absolute.

    Raises:
        ProfileError: the file is missing, unreadable, not TOML or not a valid profile. The
            message is one line and starts with `path` as given.
    """
    source = os.fspath(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError(source, None, "no such file") from None
    except UnicodeDecodeError as error:
        raise ProfileError(source, None, f"not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        reason = (error.strerror or str(error)).lower()
        raise ProfileError(source, None, f"cannot read: {reason}") from None
    return parse_profile(text, source, base_dir=Path(path).parent)


def parse_profile(
    text: str, source: str = "<profile>", *, base_dir: str | os.PathLike[str] | None = None
) -> Profile:
    """The profile in TOML `text`; `source` names it in error messages.

    Args:
        text: the TOML document.
        source: where it came from, for messages.
        base_dir: the folder relative TLS paths are relative to; default: the working folder.

    Raises:
        ProfileError: `text` is not TOML or not a valid profile.
    """
    try:
        profile = msgspec.toml.decode(text, type=Profile, dec_hook=decode_hook)
    except msgspec.ValidationError as error:
        # Decoded once more, untyped, only to quote the offending value in the message.
        location, reason = describe_validation_error(error, tomllib.loads(text))
        raise ProfileError(source, location, reason) from None
    except msgspec.DecodeError as error:  # a TOML syntax error; ValidationError is caught above
        raise _syntax_error(source, str(error)) from None
    return _settle(profile, source, Path(base_dir) if base_dir is not None else Path.cwd())


def _syntax_error(source: str, message: str) -> ProfileError:
    position = _TOML_POSITION.fullmatch(message)
    if position is None:
        return ProfileError(source, None, message)
    reason = position["reason"][:1].lower() + position["reason"][1:]
    if position["line"] is None:
        return ProfileError(source, "end of file", reason)
    return ProfileError(
        source, f"line {position['line']}", f"{reason} (column {position['column']})"
    )


def _settle(profile: Profile, source: str, base_dir: Path) -> Profile:
    """What the schema alone can't do: version shares scaled to sum 1, TLS files found."""
    versions = profile.stations.versions
    total = sum(versions.values())
    stations = msgspec.structs.replace(
        profile.stations, versions={version: share / total for version, share in versions.items()}
    )
    tls_paths: dict[str, str] = {}
    for field in ("ca_file", "client_cert", "client_key"):
        given = getattr(profile.tls, field)
        if given is None:
            continue
        resolved = (base_dir / Path(given).expanduser()).resolve()
        if not resolved.is_file():
            raise ProfileError(source, f"tls.{field}", f"no such file: {resolved}")
        tls_paths[field] = str(resolved)
    tls = msgspec.structs.replace(profile.tls, **tls_paths)
    return msgspec.structs.replace(profile, stations=stations, tls=tls)
