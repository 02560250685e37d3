"""Text from outside (a server's answer, a file name) made safe to show a person.

A terminal obeys the control characters in what it is given: ESC starts a sequence that
can retitle it, clear it or move the cursor, a bare CR or a backspace overwrites what
was written, a newline starts a line that looks like the program's own, and a bidi
override turns the text after it around. A log file read in a terminal obeys them too,
and a newline splits one log record into two. :func:`visible` writes each such character
as its escape (``\\x1b``, ``\\r``, ``\\u202e``), so the text keeps its meaning for a reader
and loses its power over the screen.
"""

from __future__ import annotations

import re

__all__ = ["visible"]

# Every character a terminal or a log viewer acts on rather than shows:
# - C0 controls, DEL and C1 controls (ESC and CSI among them, NEL, BEL, backspace, CR);
# - U+2028 and U+2029, which Python's splitlines() and many viewers take as line ends;
# - the bidi marks and overrides (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069);
# - lone surrogates: what an undecodable file name holds, which no stream can encode.
_BEYOND_C0 = "\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff"
_UNSAFE = re.compile(f"[\x00-\x1f{_BEYOND_C0}]")
_UNSAFE_KEEPING_NEWLINES = re.compile(f"[\x00-\x09\x0b-\x1f{_BEYOND_C0}]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with every control, line-separator and bidi character written as its
    escape (``\\x1b``, ``\\n``, ``\\u202e``); everything else, letters of any script
    included, as it is.

    ``keep_newlines=True`` leaves ``\\n`` alone, for a message whose own lines are meant
    (text from outside is escaped before it goes into such a message). A backslash is
    left as it is, so escaping twice changes nothing.
    """
    pattern = _UNSAFE_KEEPING_NEWLINES if keep_newlines else _UNSAFE
    if pattern.search(text) is None:
        return text
    return pattern.sub(_escape, text)
