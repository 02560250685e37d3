"""Order notes: add, list and view."""

from __future__ import annotations

import copy

from ._routing import (
    Answer,
    Call,
    Rejected,
    Routes,
    find_order,
    found,
    invalid,
    non_empty_text,
    required,
)
from ._state import FakeAccount

routes = Routes()


@routes.post(r"/order/certificate/{order_id:\d+}/note")
def add_note(store: FakeAccount, call: Call) -> Answer:
    order = find_order(store, call)
    text = call.json_object().get("text")
    if text is None or text == "":
        raise Rejected(400, required("text"))
    if not non_empty_text(text):
        raise Rejected(400, invalid("text", "text must be a non-empty string."))
    return 201, store.orders.add_note(order, text, store.now())


@routes.get(r"/order/certificate/{order_id:\d+}/note")
def list_notes(store: FakeAccount, call: Call) -> Answer:
    order = find_order(store, call)
    return 200, {"notes": copy.deepcopy(order.notes)}


@routes.get(r"/order/certificate/{order_id:\d+}/note/{note_id:\d+}")
def view_note(store: FakeAccount, call: Call) -> Answer:
    order = find_order(store, call)
    note_id = int(call.params["note_id"])
    note = next((note for note in order.notes if note["id"] == note_id), None)
    return 200, copy.deepcopy(found(note, "note", note_id))
