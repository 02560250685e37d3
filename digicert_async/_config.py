"""What a client is given to reach DigiCert, checked: the API key, held so that it never
shows, and the API root (a region's, or a ``base_url``)."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping

from yarl import URL

from ._checks import describe
from ._errors import ValidationError
from ._ratelimit import api_key_hash

__all__ = ["API_KEY_ENV", "REGION_URLS", "Secret", "check_url", "resolve_api_root"]

REGION_URLS: Mapping[str, str] = {
    "us": "https://www.digicert.com/services/v2",
    "eu": "https://certcentral.digicert.eu/services/v2",
}

API_KEY_ENV = "DIGICERT_API_KEY"
"""Where the client reads the API key when it is given none (as the command line does)."""


class Secret:
    """Holds the API key so that no repr, str or traceback local shows it.

    Whatever checks or uses the key does it in a method of this class that returns
    normally: a frame that raises must never have the key as a local.
    """

    __slots__ = ("_from_environment", "_value")

    def __init__(self, value: object, *, from_environment: bool = False) -> None:
        self._value = value
        self._from_environment = from_environment

    @classmethod
    def given_or_from_environment(cls, value: object) -> Secret:
        """``value``, or when it is None the key in ``DIGICERT_API_KEY`` (None if unset)."""
        if value is not None:
            return cls(value)
        return cls(os.environ.get(API_KEY_ENV), from_environment=True)

    def reveal(self) -> str:
        assert isinstance(self._value, str)
        return self._value

    def problem(self) -> str | None:
        """Why this is not a usable API key (never quoting it), or None."""
        problem = self._value_problem()
        if problem is not None and self._from_environment and self._value is not None:
            return f"{problem} (it was read from {API_KEY_ENV})"
        return problem

    def _value_problem(self) -> str | None:
        value = self._value
        if value is None and self._from_environment:
            return f"no API key: pass api_key=... or set the {API_KEY_ENV} environment variable"
        if not isinstance(value, str):
            return f"must be a string, not {type(value).__name__}"
        if not value:
            return "must not be empty"
        for position, char in enumerate(value):
            if not "!" <= char <= "~":
                kind = "whitespace" if char.isspace() else "a control or non-ASCII character"
                return (
                    f"must be printable ASCII without whitespace; character {position + 1}"
                    f" is {kind}"
                )
        return None

    def sha256(self) -> str:
        """The key's hex sha256: the only form of it that leaves the client."""
        return api_key_hash(self.reveal())

    def __repr__(self) -> str:
        return "<redacted>"

    __str__ = __repr__


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def resolve_api_root(region: str, base_url: str | None) -> str:
    if not isinstance(region, str) or region not in REGION_URLS:
        shown = repr(region) if isinstance(region, str) else describe(region)
        raise ValidationError("region", f"must be one of {sorted(REGION_URLS)}, not {shown}")
    if base_url is None:
        return REGION_URLS[region]
    return check_url("base_url", base_url, carries="the API key").rstrip("/")


def check_url(field: str, value: object, *, carries: str) -> str:
    """``value`` as an absolute URL that can be connected to, https unless to loopback
    (``carries`` says what would travel in clear text), without credentials, a query or a
    fragment; else the ``ValidationError`` naming ``field``. The rule for ``base_url``
    and for a webhook's endpoint."""
    try:
        url = URL(value)  # type: ignore[arg-type]  # yarl refuses what is not text
    except (TypeError, ValueError) as exc:
        raise ValidationError(field, f"not a URL: {exc}") from None
    if not url.absolute or url.scheme not in ("https", "http"):
        raise ValidationError(field, "must be an absolute http(s) URL")
    try:
        host = url.host or ""
    except ValueError:  # yarl decodes punycode lazily: "xn--"
        host = "\N{REPLACEMENT CHARACTER}"
    problem = _host_problem(host)
    if problem is not None:
        raise ValidationError(field, problem)
    if url.scheme == "http" and not _is_loopback(host):
        raise ValidationError(
            field,
            f"plain http is only allowed to loopback hosts; {carries} would travel in clear text",
        )
    if url.user or url.password or url.query_string or url.fragment:
        raise ValidationError(field, "must not carry credentials, a query or a fragment")
    return str(url)


_HOST_NAME = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?")


def _host_problem(host: str) -> str | None:
    """Why ``host`` can never be connected to (so that it fails here, not as a
    transport error on every call), or None."""
    if ":" in host:  # an IPv6 literal
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return f"{host!r} is not an IPv6 address"
        return None
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return f"{host!r} is not a valid host name"
    if not _HOST_NAME.fullmatch(ascii_host):
        return f"{host!r} is not a valid host name"
    return None
