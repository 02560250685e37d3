"""Order notes (seed 1: add note; also the note listing)."""

from __future__ import annotations

from datetime import datetime

import attrs

from ._common import ResponseModel, User, response_model, text

__all__ = ["Note", "NoteRequest", "User"]


@attrs.frozen(kw_only=True)
class NoteRequest:
    """Body of ``POST /order/certificate/{order_id}/note``."""

    text: str = attrs.field(validator=text("text"))


@response_model
@attrs.frozen(kw_only=True)
class Note(ResponseModel):
    """A note on an order. ``id`` is the note's own id."""

    id: int
    date_created: datetime | None = None
    text: str | None = None
    user: User | None = None
