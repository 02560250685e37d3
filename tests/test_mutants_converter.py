"""What mutation testing found unchecked in the converter's modules (``_wire``,
``_fastpath``, ``_exports``).

The generated fast path hides its own mistakes: whatever it raises, the converter hands
the body to cattrs' detailed pass, which gives the right model. So these tests call the
readers of a fresh converter directly (built in the test, not cached from an earlier one)
and hold them to the detailed pass field by field, in both of their ways of reading (by
the body's keys, by the model's fields), and to raising exactly ``Slow`` when they give
up. They also pin the messages the value checks give.
"""

from __future__ import annotations

import copy
import typing
from datetime import date, datetime, timedelta, timezone
from types import UnionType
from typing import Any

import attrs
import pytest

import digicert_async as dc
from digicert_async import _wire as wire
from digicert_async._converter import make_converter
from digicert_async._exports import present_as
from digicert_async._fastpath import Slow
from digicert_async.models._common import ResponseModel, response_model
from digicert_async.resources._base import _envelope

DETAILED = make_converter(fast=False)


def sample(tp: Any) -> Any:
    """A wire value of type ``tp`` that the liberal reader keeps (not empty, not null)."""
    args = [arg for arg in typing.get_args(tp) if arg is not type(None)]
    origin = typing.get_origin(tp)
    if origin in (typing.Union, UnionType):
        if set(args) == {int, float}:
            return 2.5
        return sample(args[0])
    if origin is list or tp is list:
        return [sample(args[0])] if args and args[0] is not Any else [1, "a"]
    if attrs.has(tp):
        field = attrs.fields(attrs.resolve_types(tp))[0]
        return {field.name: sample(field.type)}
    return {
        int: 3, str: "s", bool: True, float: 1.5, date: "2024-01-02",
        datetime: "2024-01-02T03:04:05+00:00", dc.StrFlag: "1", Any: {"any": 1},
    }[tp]  # fmt: skip


def same(fast_model: Any, detailed: Any) -> None:
    assert fast_model == detailed
    assert dict(dc.unknown_fields(fast_model)) == dict(dc.unknown_fields(detailed))
    assert DETAILED.unstructure(fast_model) == DETAILED.unstructure(detailed)


MODELS = [dc.Order, dc.OrderCertificate, dc.ProductDetails, dc.ApprovalRequest,
          dc.SubaccountOrder, dc.IssuedCertificate, dc.OrderCreated, dc.Shipping]  # fmt: skip


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_each_field_alone_is_read_by_the_bodys_keys(model: type[Any]) -> None:
    fast = make_converter().fast_reader(model)
    assert fast is not None
    fields = attrs.fields(attrs.resolve_types(model))
    required = {f.name: sample(f.type) for f in fields if f.default is attrs.NOTHING}
    for field in fields:
        body = {**required, field.name: sample(field.type), "not_a_field": [1]}
        if len(body) * 3 >= len(fields):
            continue  # too many keys for this model to be read by them
        same(fast(copy.deepcopy(body)), DETAILED.structure(body, model))


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("unknown", [False, True])
def test_every_field_at_once_is_read_field_by_field(model: type[Any], unknown: bool) -> None:
    fast = make_converter().fast_reader(model)
    assert fast is not None
    body = {f.name: sample(f.type) for f in attrs.fields(attrs.resolve_types(model))}
    if unknown:
        body["not_a_field"] = {"kept": True}
    same(fast(copy.deepcopy(body)), DETAILED.structure(body, model))


def test_a_fuller_body_stops_once_its_keys_are_read_and_keeps_the_rest() -> None:
    fast = make_converter().fast_reader(dc.Order)
    assert fast is not None
    fields = [f.name for f in attrs.fields(dc.Order)]
    early = {name: sample(attrs.fields_dict(dc.Order)[name].type) for name in fields[:20]}
    late = {**early, "renewal_of_order_valid_till": "2026-01-02", "zz": 1}
    for body in (early, late, {**early, "zz": None}):
        same(fast(copy.deepcopy(body)), DETAILED.structure(body, dc.Order))
    assert dict(dc.unknown_fields(fast(copy.deepcopy(late)))) == {"zz": 1}


@pytest.mark.parametrize(
    "body",
    [
        [],  # not an object
        {"status": "issued"},  # few keys, no id
        {"id": None, "status": "issued"},
        {"id": "7"},  # an identifying id is not read from a string
        {"id": 1, "validity_years": "x"},
        {"id": 1, "certificate": {"id": "x"}},
        {"id": 1, "requests": [{"id": 1}, "x"]},
        {"id": 1, "ship_info": {"zip": 1.5}},
        {"id": 1, "date_created": 5},
        {f"k{n}": n for n in range(30)},  # many keys, no id
        {**{f"k{n}": n for n in range(30)}, "id": 1, "status": 5},
    ],
)
def test_the_reader_gives_up_with_slow_and_nothing_else(body: Any) -> None:
    fast = make_converter().fast_reader(dc.Order)
    assert fast is not None
    with pytest.raises(Slow):
        fast(copy.deepcopy(body))


def test_a_list_with_a_default_starts_new_and_empty() -> None:
    fast = make_converter().fast_reader(dc.SignatureHashTypes)
    assert fast is not None
    first, second = fast({}), fast({"allowed_hash_types": None})
    assert first.allowed_hash_types == second.allowed_hash_types == []
    assert first.allowed_hash_types is not second.allowed_hash_types
    read = fast({"allowed_hash_types": [{"id": "sha256"}], "default_hash_type_id": "sha256"})
    assert read.ids() == {"sha256"} and read.default_hash_type_id == "sha256"
    with pytest.raises(Slow):
        fast({"allowed_hash_types": "sha256"})


def test_an_envelope_is_read_field_by_field_and_every_slot_is_set() -> None:
    envelope = _envelope("orders")
    fast = make_converter().fast_reader(envelope)
    assert fast is not None
    read = fast({"orders": [{"id": 1}, 2], "page": {"total": 2}})
    assert read.orders == [{"id": 1}, 2] and read.page == dc.Page(total=2)
    empty = fast({"orders": None})
    assert empty.orders == [] and empty.page is None
    assert fast({"page": []}).page is None
    for bad in ([], {"orders": {}}, {"page": {"total": "x"}}):
        with pytest.raises(Slow):
            fast(bad)


def test_a_class_without_slots_is_read_too() -> None:
    @response_model
    @attrs.define(slots=False, frozen=True, kw_only=True)
    class Loose:
        id: int
        name: str | None = None

    fast = make_converter().fast_reader(Loose)
    assert fast is not None
    assert fast({"id": 1, "name": "a"}) == Loose(id=1, name="a")
    assert fast({"id": 1}) == Loose(id=1)


@pytest.mark.parametrize(
    ("value", "read"), [("84043", "84043"), (84043, 84043), (None, None), ("", "")]
)
def test_a_scalar_union_keeps_what_it_was_sent(value: Any, read: Any) -> None:
    fast = make_converter().fast_reader(dc.Shipping)
    assert fast is not None
    assert fast({"zip": value}).zip == read
    assert DETAILED.structure({"zip": value}, dc.Shipping).zip == read


# --------------------------------------------------------------------------- the values


def problem(document: Any, model: type[Any] = dc.Order) -> str:
    with pytest.raises(dc.ValidationError) as info:
        dc.converter.structure(document, model)
    return info.value.problems[0][1]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"id": 1, "validity_years": 1.5}, "expected an integer, got float"),
        ({"id": 1.0}, "expected an integer, got float"),
        ({"id": 1, "price": "3"}, "expected a number, got str"),
        ({"id": 1, "is_renewal": "true"}, "expected true or false, got str"),
        ({"id": 1, "is_multi_year_plan": "yes"}, "expected a flag ('1' or '0'), got 'yes'"),
        ({"id": 1, "date_created": 5}, "expected an ISO 8601 timestamp string, got int"),
        ({"id": 1, "date_created": "soon"}, "not an ISO 8601 timestamp: 'soon'"),
        ({"id": 1, "order_valid_till": "2024-13-01"},
         "expected a date as YYYY-MM-DD, got '2024-13-01'"),
        ({"id": 1, "order_valid_till": 20240101},
         "expected a date string (YYYY-MM-DD), got int"),
        ({"id": 1, "ship_info": {"zip": 1.5}}, "expected a string or an integer, got float"),
    ],
)  # fmt: skip
def test_each_value_check_says_what_it_expected(document: Any, message: str) -> None:
    assert problem(document) == message


def test_an_invalid_date_in_a_timestamp_is_named() -> None:
    message = problem({"id": 1, "date_created": "2024-02-30T01:02:03Z"})
    assert message.startswith("not a valid timestamp: '2024-02-30T01:02:03Z' (day is out")


def test_a_long_value_is_shown_cut_at_forty_characters() -> None:
    assert wire._shown("a" * 38) == repr("a" * 38)  # 40 with its quotes: whole
    assert wire._shown("a" * 39) == "'" + "a" * 36 + "..."  # 41: cut to 37 and "..."
    message = problem({"id": 1, "is_multi_year_plan": "x" * 100})
    assert message == "expected a flag ('1' or '0'), got '" + "x" * 36 + "..."


def test_the_slow_timestamp_reader_and_its_utc_rule() -> None:
    parse = wire.structure_datetime
    assert parse("2024-05-02T09:44:06Z", None) == datetime(
        2024, 5, 2, 9, 44, 6, tzinfo=timezone.utc
    )
    assert parse("2024-05-02 09:44:06.1234567-0700", None) == datetime(
        2024, 5, 2, 16, 44, 6, 123456, tzinfo=timezone.utc
    )
    moment = datetime(2024, 5, 2, 9, tzinfo=timezone(timedelta(hours=2)))
    assert parse(moment, None) == datetime(2024, 5, 2, 7, tzinfo=timezone.utc)
    assert parse(datetime(2024, 5, 2, 9), None).tzinfo is timezone.utc
    assert wire.structure_date(date(2024, 5, 2), None) == date(2024, 5, 2)
    with pytest.raises(TypeError):
        wire.structure_date(datetime(2024, 5, 2), None)  # a datetime would lose its time


def test_what_a_scalar_union_is_and_its_hook() -> None:
    assert wire.is_scalar_union(str | int) and wire.is_scalar_union(str | int | None)
    for not_one in (str | None, int | float, int | float | None, str | list[int], str, int):
        assert not wire.is_scalar_union(not_one)
    strict = wire.scalar_union_hook(str | int)
    assert strict("a", None) == "a" and strict(1, None) == 1
    for bad in (None, True, 1.5):
        with pytest.raises(TypeError, match=r"expected a string or an integer, got"):
            strict(bad, None)
    assert wire.scalar_union_hook(str | int | None)(None, None) is None


def test_read_decimal_names_what_it_got() -> None:
    with pytest.raises(TypeError, match=r"^expected an integer, got str$"):
        wire.read_decimal("1.0", None)
    with pytest.raises(TypeError, match=r"^expected an integer, got null$"):
        wire.read_decimal(None, None)


# --------------------------------------------------------------------------- _exports


def test_annotations_naming_the_class_own_names_resolve() -> None:
    class WithLocalName:
        Alias = int
        count: Alias  # resolved from the class's own namespace, as get_type_hints does
        when: date | None

    present_as(WithLocalName, "somewhere_else")
    assert WithLocalName.__module__ == "somewhere_else"
    assert typing.get_type_hints(WithLocalName) == {"count": int, "when": date | None}


def test_a_response_model_subclass_keeps_its_unknown_keys() -> None:
    assert issubclass(dc.Order, ResponseModel)
    order = make_converter().structure({"id": 1, "zz": 2}, dc.Order)
    assert dict(dc.unknown_fields(order)) == {"zz": 2}
