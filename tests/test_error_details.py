"""An error body's details are read up to ``MAX_ERROR_DETAILS``; the rest are counted.

DigiCert sends a few error entries; a hostile body of 200,000 must not become 200,000
objects (benchmarks/bench_hostile_parse.py, case ``error-json``, times it)."""

from __future__ import annotations

import json
import pickle

import pytest

import digicert_async as dc
from digicert_async._error_answers import MAX_ERROR_DETAILS, error_from_status, parse_error_details

from .test_transport import Scripted, answer, client_with, failure

URL = "https://www.digicert.com/services/v2/order/certificate/1"


def errors_body(count: int, *, junk_first: int = 0) -> bytes:
    entries: list[object] = ["junk"] * junk_first
    entries += [{"code": f"invalid_value:field_{n}", "message": f"m{n}"} for n in range(count)]
    return json.dumps({"errors": entries}).encode()


def test_the_first_details_are_read_and_the_rest_counted() -> None:
    details, omitted = parse_error_details(errors_body(250))
    assert [d.code for d in details] == [f"invalid_value:field_{n}" for n in range(100)]
    assert omitted == 150 and MAX_ERROR_DETAILS == 100


@pytest.mark.parametrize(("count", "omitted"), [(0, 0), (1, 0), (100, 0), (101, 1)])
def test_nothing_is_omitted_up_to_the_limit(count: int, omitted: int) -> None:
    details, left = parse_error_details(errors_body(count))
    assert (len(details), left) == (min(count, 100), omitted)


def test_the_limit_counts_entries_not_details() -> None:
    details, omitted = parse_error_details(errors_body(100, junk_first=3))
    assert len(details) == 97 and omitted == 3


def test_an_api_error_says_how_many_it_left_unread() -> None:
    error = error_from_status(400, errors_body(130), method="POST", url=URL)
    assert isinstance(error, dc.BadRequestError)
    assert len(error.errors) == 100 and error.errors_omitted == 30
    assert str(error).endswith("m99 (and 30 more errors, not read)")
    again = pickle.loads(pickle.dumps(error))
    assert again.errors_omitted == 30 and again.errors == error.errors


@pytest.mark.parametrize(
    ("status", "cls"),
    [(301, dc.RedirectError), (404, dc.RouteNotFoundError), (403, dc.PermissionDeniedError)],
)
def test_every_error_class_carries_the_count(status: int, cls: type[dc.APIError]) -> None:
    body = json.dumps({"errors": [{"code": "not_found|route"}] * 120}).encode()
    error = error_from_status(status, body, method="GET", url=URL)
    assert type(error) is cls and error.errors_omitted == 20


def test_a_few_errors_say_nothing_of_more() -> None:
    error = error_from_status(400, errors_body(2), method="POST", url=URL)
    assert error.errors_omitted == 0 and "more errors" not in str(error)


async def test_a_call_gets_the_count_on_its_exception() -> None:
    transport = Scripted(answer(400, errors_body(5000)))
    async with client_with(transport) as client:
        error = await failure(client.orders.get(42))
    assert isinstance(error, dc.BadRequestError)
    assert len(error.errors) == 100 and error.errors_omitted == 4900
