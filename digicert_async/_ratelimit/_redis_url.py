"""A Redis URL as redis-py reads it and as a person may see it: every password masked.

redis-py takes a password from the URL's userinfo (``redis://user:PW@host``, also on
``unix://:PW@/path``) and from any query parameter (``?password=PW``, ``?ssl_password=``
on ``rediss://``), decoded as ``parse_qs`` decodes them. :class:`RedisUrl` keeps the URL
as given only for redis-py, and shows everything else (``repr``, messages, logs) the
URL with those masked; its checks return a message instead of raising, so that no
traceback ever runs through a frame holding the URL.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, unquote_plus, urlsplit

__all__ = ["RedisUrl", "redact"]

SCHEMES = ("redis", "rediss", "unix")
MASK = "***"
# Query parameters whose value is never shown: redis-py's password and ssl_password, and
# whatever else a URL might carry a secret in.
_SECRET_NAMES = re.compile(r"pass|secret|token|credential", re.IGNORECASE)
_BAD_VALUE = re.compile(r"Invalid value for '([A-Za-z_]{1,40})' in connection URL\.")


def redact(url: str) -> tuple[str, tuple[str, ...]]:
    """``url`` with every password masked, and the secrets it holds (as written and
    decoded, for scrubbing messages).

    >>> redact("redis://u:pw@host:6379/0?db=1&password=x")[0]
    'redis://u:***@host:6379/0?db=1&password=***'
    """
    scheme, colon, rest = url.partition(":")
    if not colon:
        return "<not a URL>", ()
    mark = rest.find("?")
    head, query = (rest, None) if mark < 0 else (rest[:mark], rest[mark + 1 :])
    secrets: list[str] = []
    # Everything up to the last "@" before the query is userinfo (after the "//", which
    # the user part keeps), whatever "/" or "#" it holds: showing too little of a malformed
    # URL is better than showing a password.
    at = head.rfind("@")
    if at >= 0:
        user, has_password, password = head[:at].partition(":")
        if has_password:
            secrets += (password, unquote(password))
            head = f"{user}:{MASK}@{head[at + 1 :]}"
    shown = f"{scheme}:{head}"
    if query is not None:
        pieces = []
        for piece in query.split("&"):
            name, has_value, value = piece.partition("=")
            if has_value and _SECRET_NAMES.search(unquote_plus(name)):
                secrets += (value, unquote_plus(value))
                piece = f"{name}={MASK}"
            pieces.append(piece)
        shown += "?" + "&".join(pieces)
    return shown, tuple(sorted({s for s in secrets if s}, key=len, reverse=True))


class RedisUrl:
    """A Redis URL given by the caller: :meth:`reveal` for redis-py, :attr:`shown` for
    everything else (``repr`` shows only that)."""

    __slots__ = ("_given", "secrets", "shown")

    def __init__(self, given: object) -> None:
        self._given = given
        self.shown, self.secrets = redact(given) if isinstance(given, str) else ("<not a str>", ())

    def __repr__(self) -> str:
        return f"RedisUrl({self.shown!r})"

    def reveal(self) -> str:
        assert isinstance(self._given, str)
        return self._given

    def scrub(self, text: str) -> str:
        """``text`` with every secret of this URL masked (an error message that quotes it)."""
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def problem(self, redis: Any) -> str | None:
        """Why redis-py (the module ``redis``) cannot connect with this URL, in words that
        quote nothing of it; None when it can. Never raises."""
        url = self._given
        if not isinstance(url, str):
            return f"must be a redis://, rediss:// or unix:// URL, not {type(url).__name__}"
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - reading it checks it
        except ValueError:
            return "cannot be read as a URL (look at its host, port and brackets)"
        if parts.scheme not in SCHEMES:
            return "must be a redis://, rediss:// or unix:// URL"
        # What redis-py does with the URL when it connects, short of connecting. Every
        # query parameter goes to the connection's constructor as a string, so whatever
        # that raises means the URL cannot be used.
        try:
            pool = redis.asyncio.ConnectionPool.from_url(url)
        except Exception as exc:
            known = _BAD_VALUE.fullmatch(str(exc))
            if known is not None:
                return f"redis-py cannot read the value of {known.group(1)!r} in its query"
            return "redis-py cannot read it (look at its host, port and query)"
        try:
            pool.make_connection()
        except Exception:
            return "has a query parameter redis-py does not take, or cannot use the value of"
        return None
