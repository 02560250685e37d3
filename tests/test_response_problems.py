"""A body that does not fit its model is one ``ResponseError`` that names every problem (the
first ``LISTED_PROBLEMS`` in its message, all of them in ``problems``) and names the public
model, or what the endpoint answers, never a private class."""

from __future__ import annotations

import pickle
import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import digicert_async as dc
from digicert_async._errors import LISTED_PROBLEMS

from ._served import served

PRIVATE_CLASS = re.compile(r"(?<![\w.])_[A-Za-z]\w*")


async def read(
    route: str, body: Any, call: Callable[[dc.CertCentralClient], Awaitable[Any]]
) -> dc.ResponseError:
    async with served() as (server, client):
        server.answer("GET", route, 200, body)
        with pytest.raises(dc.ResponseError) as info:
            await call(client)
    return info.value


async def test_every_problem_of_a_body_is_named() -> None:
    body = {"id": 42, "status": 5, "date_created": "yesterday", "certificate": {"id": "x"}}
    error = await read("/order/certificate/42", body, lambda c: c.orders.get(42))
    # in the order of the model's fields
    assert [path for path, _ in error.problems] == ["certificate.id", "status", "date_created"]
    assert error.field == "certificate.id"
    assert "3 problems" in str(error)
    for path, message in error.problems:
        assert f"{path}: {message}" in str(error)
    assert "more" not in str(error)


async def test_thousands_of_problems_give_a_bounded_message_that_counts_them() -> None:
    count = 5000
    body = {"notes": [{"id": "note", "text": index} for index in range(count)]}
    error = await read("/order/certificate/42/note", body, lambda c: c.orders.list_notes(42))
    assert len(error.problems) == 2 * count
    assert error.problems[0] == ("notes[0].id", "expected an integer, got str")
    assert error.problems[-1] == (f"notes[{count - 1}].text", "expected a string, got int")
    message = str(error)
    assert len(message) < 4000
    assert message.count("notes[") == LISTED_PROBLEMS
    assert f"{2 * count:,} problems" in message
    assert (
        f"and {2 * count - LISTED_PROBLEMS:,} more (all {2 * count:,} are in .problems)" in message
    )


async def test_a_hostile_value_is_shown_short() -> None:
    body = {"id": 1, "date_created": "9" * 100_000, "is_multi_year_plan": "x" * 100_000}
    error = await read("/order/certificate/1", body, lambda c: c.orders.get(1))
    assert len(str(error)) < 2000
    assert all(len(message) <= 160 for _, message in error.problems)


# route, body, call, the public name the message must use
CASES: list[tuple[str, Any, Callable[[dc.CertCentralClient], Awaitable[Any]], str]] = [
    ("/order/certificate/42/note", {"notes": [{"id": "x"}]}, lambda c: c.orders.list_notes(42),
     "a list of Note under 'notes'"),
    ("/order/certificate/42/reissue", {"certificates": [{"id": None}]},
     lambda c: c.orders.list_reissues(42), "a list of IssuedCertificate under 'certificates'"),
    ("/order/certificate/42/duplicate", {"certificates": 5},
     lambda c: c.orders.list_duplicates(42), "a list of IssuedCertificate under 'certificates'"),
    ("/order/certificate/status-changes", {"orders": [{"order_id": "x"}]},
     lambda c: c.orders.status_changes(_since()), "a list of StatusChange under 'orders'"),
    ("/product", {"products": "all"}, lambda c: c.products.list(), "'products'"),
    ("/order/certificate", {"orders": [], "page": {"total": "many"}},
     lambda c: _all(c.orders.list()), "a page of 'orders'"),
    ("/request", {"requests": {}, "page": {"total": 1}}, lambda c: _all(c.requests.list()),
     "a page of 'requests'"),
    ("/account/subaccount/order", {"orders": [{"id": "x"}], "page": {"total": 1}},
     lambda c: _all(c.subaccounts.list_orders()), "SubaccountOrder"),
]  # fmt: skip


def _since() -> Any:
    from datetime import datetime, timedelta, timezone

    return datetime.now(timezone.utc) - timedelta(hours=1)


async def _all(listing: Any) -> list[Any]:
    return [item async for item in listing]


@pytest.mark.parametrize(("route", "body", "call", "name"), CASES, ids=[c[0] for c in CASES])
async def test_an_error_names_the_public_model_never_a_private_class(
    route: str, body: Any, call: Callable[[dc.CertCentralClient], Awaitable[Any]], name: str
) -> None:
    error = await read(route, body, call)
    assert name in str(error)
    assert PRIVATE_CLASS.search(str(error).split(" -> ", 1)[1]) is None, str(error)


def test_the_converter_names_every_problem_too() -> None:
    with pytest.raises(dc.ValidationError) as info:
        dc.converter.structure({"id": "x", "date_created": 5, "status": 3}, dc.Note)
    error = info.value
    assert error.field == "id"
    assert [field for field, _ in error.problems] == ["id", "date_created"]
    assert "and 1 more problem: date_created: expected" in error.message
    single = dc.ValidationError("certificate.csr", "not a CSR")
    assert single.problems == (("certificate.csr", "not a CSR"),)


async def test_problems_survive_pickling() -> None:
    body = {"id": 42, "status": 5, "date_created": "yesterday"}
    error = await read("/order/certificate/42", body, lambda c: c.orders.get(42))
    copy = pickle.loads(pickle.dumps(error))
    assert copy.problems == error.problems and str(copy) == str(error)
