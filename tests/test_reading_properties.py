"""Hypothesis: DigiCert-shaped answers, varied the ways real ones vary, through the public calls.

Bodies start from DigiCert-shaped documents (``tests/fixtures/documented``, the seeds) and are
varied as real answers vary by product, status and vintage: optional fields left out, object
fields sent as ``[]``, ``{}`` or ``null``, dates and numbers as ``""``, unknown keys and unknown
statuses added. Such a body must decode without any error, and faithfully. Any other change of
a value must give a model or a ``ResponseError``, nothing else.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import digicert_async as dc
from digicert_async._checks import MAX_ID
from digicert_async._converter import make_converter

from ._served import BodyServer, assert_faithful
from .conftest import load_seed

DOCUMENTED = Path(__file__).parent / "fixtures" / "documented"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _documented(prefix: str) -> list[Any]:
    return [
        json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(DOCUMENTED.glob(f"{prefix}*.json"))
    ]


ORDERS = _documented("order_info_")
SUBACCOUNT_ORDERS = [
    load_seed(name)
    for name in ("subaccount_order_pending", "subaccount_order_issued", "subaccount_order_minimal")
]
NOTES = [*_documented("list_notes_")[0]["notes"], load_seed("note_response")]
CHANGES = _documented("status_changes_")[0]["orders"]

# Keys that identify the object an endpoint returns: never left out.
IDENTIFYING = {"id", "order_id"}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)
# Hypothesis also draws text from string constants in the code it runs (the library's and
# the tests'), so a plain name can come out as a real field ("date_issued"); the prefix
# keeps every added key unknown to DigiCert's answers.
unknown_keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=3, max_size=12).map(
    lambda name: f"zz_{name}"
)


def _vary(draw: st.DrawFn, value: Any, *, top: bool) -> Any:
    """``value`` varied the ways DigiCert's answers legitimately vary."""
    if isinstance(value, list):
        return [_vary(draw, item, top=False) for item in value]
    if not isinstance(value, dict):
        return value
    varied: dict[str, Any] = {}
    for key, item in value.items():
        if top and key in IDENTIFYING:
            varied[key] = item
            continue
        choice = draw(st.sampled_from(["keep", "keep", "vary", "drop", "empty", "blank"]))
        if choice == "drop":
            continue
        if choice == "empty" and isinstance(item, dict):
            varied[key] = draw(st.sampled_from([[], {}, None]))
        elif choice == "blank" and (
            (isinstance(item, int) and not isinstance(item, bool) and key not in IDENTIFYING)
            or (isinstance(item, str) and _DATE.match(item))
        ):
            varied[key] = ""
        elif choice == "vary" or isinstance(item, (dict, list)):
            varied[key] = _vary(draw, item, top=False)
        else:
            varied[key] = item
    if top and "status" in varied and draw(st.booleans()):
        varied["status"] = draw(st.text(alphabet="abcdefghijklmnop_", min_size=1, max_size=15))
    for _ in range(draw(st.integers(0, 2))):
        name = draw(unknown_keys)
        if name not in value:
            varied[name] = draw(json_values)
    return varied


def varied(documents: list[Any]) -> st.SearchStrategy[Any]:
    @st.composite
    def build(draw: st.DrawFn) -> Any:
        return _vary(draw, copy.deepcopy(draw(st.sampled_from(documents))), top=True)

    return build()


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


@st.composite
def broken(draw: st.DrawFn, documents: list[Any]) -> Any:
    """A document with one value (at any depth, the whole body included) replaced."""
    document = copy.deepcopy(draw(st.sampled_from(documents)))
    path = draw(st.sampled_from(_paths(document)))
    replacement = draw(json_values)
    if not path:
        return replacement
    target = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = replacement
    return document


# Values that are easily taken for one another: each stands where another type belongs.
CONFUSERS = st.sampled_from(
    [True, False, 0, 1, 1.5, "1", "0", "", " ", [], {}, None, "2020-01-02", [1], {"a": 1}]
)


@st.composite
def confused(draw: st.DrawFn, documents: list[Any]) -> Any:
    """A document with one value (at any depth) replaced by a look-alike of another type."""
    document = copy.deepcopy(draw(st.sampled_from(documents)))
    path = draw(st.sampled_from(_paths(document)[1:]))
    target = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = draw(CONFUSERS)
    return document


# --------------------------------------------------------------------------- the calls

Read = Callable[[BodyServer, dc.CertCentralClient, Any], Awaitable[list[tuple[Any, Any]]]]


def _asked(body: Any) -> int:
    """The id to read ``body`` as: its own, if it has a usable one (an answer about another
    object than the one asked for is a ResponseError)."""
    own = body.get("id") if isinstance(body, dict) else None
    return own if type(own) is int and 0 < own <= MAX_ID else 9


async def _order(server: BodyServer, client: dc.CertCentralClient, body: Any) -> list[Any]:
    server.answer("GET", f"/order/certificate/{_asked(body)}", 200, body)
    return [(await client.orders.get(_asked(body)), body)]


async def _subaccount_order(
    server: BodyServer, client: dc.CertCentralClient, body: Any
) -> list[Any]:
    server.answer("GET", f"/account/subaccount/order/{_asked(body)}", 200, body)
    return [(await client.subaccounts.get_order(_asked(body)), body)]


async def _note(server: BodyServer, client: dc.CertCentralClient, body: Any) -> list[Any]:
    server.answer("POST", "/order/certificate/9/note", 201, body)
    return [(await client.orders.add_note(9, "text"), body)]


async def _notes(server: BodyServer, client: dc.CertCentralClient, body: Any) -> list[Any]:
    server.answer("GET", "/order/certificate/9/note", 200, body)
    notes = await client.orders.list_notes(9)
    raw = body.get("notes") if isinstance(body, dict) else None
    return list(zip(notes, raw or [], strict=True))


async def _changes(server: BodyServer, client: dc.CertCentralClient, body: Any) -> list[Any]:
    server.answer("GET", "/order/certificate/status-changes", 200, body)
    since = datetime.now(timezone.utc) - timedelta(hours=1)
    changes = await client.orders.status_changes(since)
    raw = body.get("orders") if isinstance(body, dict) else None
    return list(zip(changes, raw or [], strict=True))


async def _listing(server: BodyServer, client: dc.CertCentralClient, body: Any) -> list[Any]:
    server.answer("GET", "/order/certificate", 200, body)
    orders = [order async for order in client.orders.list(page_size=50)]
    raw = body.get("orders") if isinstance(body, dict) else None
    return list(zip(orders, raw or [], strict=True))


@st.composite
def listing_pages(draw: st.DrawFn, items: st.SearchStrategy[Any]) -> Any:
    """A one-page order listing of varied items, in each shape DigiCert gives one: with a
    page object, without one, and (when empty) without the list key."""
    orders: list[Any] = draw(st.lists(items, max_size=4))
    with_list_key, with_page = draw(st.tuples(st.booleans(), st.booleans()))
    body: dict[str, Any] = {}
    if orders or with_list_key:
        body["orders"] = orders
    if with_page:
        body["page"] = {"total": len(orders), "limit": draw(st.sampled_from([0, 50])), "offset": 0}
    return body


def envelope(key: str, items: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(items, max_size=4).flatmap(
        lambda found: st.sampled_from(
            [{key: found}, {key: found, "other": 1}] + ([{}, {key: None}] if not found else [])
        )
    )


CASES: dict[str, tuple[Read, st.SearchStrategy[Any], st.SearchStrategy[Any]]] = {
    "orders.get": (_order, varied(ORDERS), broken(ORDERS)),
    "subaccounts.get_order": (
        _subaccount_order,
        varied(SUBACCOUNT_ORDERS),
        broken(SUBACCOUNT_ORDERS),
    ),
    "orders.add_note": (_note, varied(NOTES), broken(NOTES)),
    "orders.list_notes": (
        _notes,
        envelope("notes", varied(NOTES)),
        broken([{"notes": NOTES}]),
    ),
    "orders.status_changes": (
        _changes,
        envelope("orders", varied(CHANGES)),
        broken([{"orders": CHANGES}]),
    ),
    "orders.list": (
        _listing,
        listing_pages(varied(ORDERS)),
        broken([{"orders": ORDERS[:3], "page": {"total": 3, "limit": 50, "offset": 0}}]),
    ),
}


Check = Callable[[asyncio.AbstractEventLoop, BodyServer, dc.CertCentralClient], None]
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _on_loopback(check: Check) -> None:
    """Run ``check`` with a loop, a started ``BodyServer`` and a client on it."""
    loop = asyncio.new_event_loop()
    server = BodyServer()
    try:
        loop.run_until_complete(server.start())
        client = dc.CertCentralClient(
            api_key="k",
            base_url=server.root,
            timeout=60.0,  # a loaded machine must not turn into a failure here
            retry=dc.RetryPolicy.disabled(),
            rate_limit=dc.RateLimit.disabled(),
        )
        try:
            check(loop, server, client)
        finally:
            loop.run_until_complete(client.close())
    finally:
        loop.run_until_complete(server.close())
        loop.close()


@pytest.mark.parametrize("name", sorted(CASES))
def test_answers_that_vary_as_digicert_varies_decode_faithfully(name: str) -> None:
    read, benign, _ = CASES[name]

    def check(
        loop: asyncio.AbstractEventLoop, server: BodyServer, client: dc.CertCentralClient
    ) -> None:
        @SETTINGS
        @given(body=benign)
        def one(body: Any) -> None:
            server.reset()
            for model, raw in loop.run_until_complete(read(server, client, body)):
                assert_faithful(dc.converter.unstructure(model), raw)

        one()

    _on_loopback(check)


@pytest.mark.parametrize("name", sorted(CASES))
def test_any_other_answer_gives_a_model_or_a_response_error(name: str) -> None:
    read, _, hostile = CASES[name]

    def check(
        loop: asyncio.AbstractEventLoop, server: BodyServer, client: dc.CertCentralClient
    ) -> None:
        @SETTINGS
        @given(body=hostile)
        def one(body: Any) -> None:
            server.reset()
            try:
                decoded = loop.run_until_complete(read(server, client, body))
            except dc.ResponseError as exc:
                assert exc.status in (200, 201)
            else:
                for model, raw in decoded:
                    assert_faithful(dc.converter.unstructure(model), raw)

        one()

    _on_loopback(check)


# --------------------------------------------------------------------------- fast path

DETAILED = make_converter(fast=False)
_MODELS_OF = {
    "orders.get": (dc.Order, ORDERS),
    "subaccounts.get_order": (dc.SubaccountOrder, SUBACCOUNT_ORDERS),
    "orders.add_note": (dc.Note, NOTES),
}


def _outcome(conv: Any, document: Any, cls: type[Any]) -> tuple[str, Any]:
    try:
        return "model", conv.structure(document, cls)
    except dc.ValidationError as exc:
        return "error", exc.field


@pytest.mark.parametrize("name", sorted(_MODELS_OF))
@settings(SETTINGS, max_examples=300)
@given(data=st.data())
def test_the_fast_path_reads_exactly_as_the_detailed_pass(name: str, data: st.DataObject) -> None:
    """Whatever the body, the runtime converter (fast path first) gives the model or the
    error the detailed pass alone gives; and when the fast path itself takes a body,
    it builds the same model."""
    _, benign, hostile = CASES[name]
    cls, documents = _MODELS_OF[name]
    document = data.draw(st.one_of(benign, hostile, confused(documents)))
    assert _outcome(dc.converter, document, cls) == _outcome(DETAILED, document, cls)
    fast = dc.converter.fast_reader(cls)
    assert fast is not None
    try:
        quick = fast(document)
    except Exception:
        return
    assert quick == DETAILED.structure(document, cls)
