"""gzip and deflate bodies decoded in bounded steps (pure: no I/O, no aiohttp).

The aiohttp transport decodes compressed answers itself rather than letting aiohttp do
it, so that what a body inflates to is counted, and stopped, as it grows: a small
gzip bomb never becomes gigabytes in memory.
"""

from __future__ import annotations

import zlib
from typing import Any

__all__ = ["INFLATE_STEP", "BodyNotDecodable", "Inflater"]

INFLATE_STEP = 256 * 1024
"""The most decoded bytes one decompression step may produce."""


class BodyNotDecodable(Exception):
    """The body does not decode in the Content-Encoding the server named."""


def _zlib_wrapped(data: bytes) -> bool:
    # A zlib header: compression method 8 in the low nibble, the first two bytes
    # a multiple of 31 (RFC 1950).
    if data[0] & 0x0F != 8:
        return False
    return len(data) < 2 or (data[0] << 8 | data[1]) % 31 == 0


class Inflater:
    """Decodes a gzip or deflate body in bounded steps, so that what it inflates to is
    counted (and stopped) as it grows. Data after the end of the compressed stream is
    ignored, as aiohttp does."""

    __slots__ = ("_decoder", "_done", "_encoding")

    def __init__(self, encoding: str) -> None:
        self._encoding = encoding
        self._decoder: Any = None
        self._done = False

    @classmethod
    def for_encoding(cls, encoding: str) -> Inflater | None:
        """An inflater for ``encoding``; None for the identity (and for encodings that
        were not asked for, which are passed through as aiohttp passes them)."""
        name = encoding.strip().lower()
        if name in ("gzip", "x-gzip", "deflate"):
            return cls(name)
        return None

    def inflate(self, data: bytes, room: int) -> bytes:
        """Decode ``data`` (b"": flush), returning at most ``room`` bytes; the input
        that did not fit is kept for the next call. Raises ``BodyNotDecodable``."""
        if self._done:
            return b""
        decoder = self._decoder
        if decoder is None:
            if not data:
                return b""
            if self._encoding == "deflate":
                # RFC 9110's deflate is zlib-wrapped; some servers send it raw.
                wbits = zlib.MAX_WBITS if _zlib_wrapped(data) else -zlib.MAX_WBITS
            else:
                wbits = 16 + zlib.MAX_WBITS
            decoder = self._decoder = zlib.decompressobj(wbits)
        pieces: list[bytes] = []
        produced = 0
        while produced < room:
            try:
                piece = decoder.decompress(data, min(room - produced, INFLATE_STEP))
            except zlib.error as exc:
                raise BodyNotDecodable(
                    f"the answer's body does not decode as {self._encoding} ({exc})"
                ) from None
            if piece:
                pieces.append(piece)
                produced += len(piece)
            if decoder.eof:
                self._done = True
                break
            tail = decoder.unconsumed_tail
            if not piece and len(tail) == len(data):
                break  # no input taken, nothing produced: all that can come out is out
            data = tail
        if len(pieces) == 1:
            return pieces[0]
        return b"".join(pieces)
