"""The input checks every layer uses: each names the field and says what it wanted."""

from __future__ import annotations

import math

import pytest

import digicert_async as dc
from digicert_async._checks import (
    MAX_ID,
    check_callables,
    check_count,
    check_flag,
    check_id,
    check_ids,
    check_instance,
    check_number,
    check_statuses,
    check_text,
    shown,
)


@pytest.mark.parametrize("value", [0, -1, MAX_ID + 1, 1.0, True, "1", None])
def test_an_id_is_a_positive_int_of_at_most_20_digits(value: object) -> None:
    with pytest.raises(dc.ValidationError) as caught:
        check_id("order_id", value)
    assert caught.value.field == "order_id"
    assert check_id("order_id", MAX_ID) == MAX_ID
    assert check_id("platform", -1, allow=(-1,)) == -1


def test_check_ids_names_every_bad_one_at_once() -> None:
    with pytest.raises(dc.ValidationError) as caught:
        check_ids("order_ids", [1, 0, 2, "x"])
    assert "2 bad id(s)" in caught.value.message
    assert "[1]" in caught.value.message and "[3]" in caught.value.message
    assert check_ids("order_ids", iter([3, 1])) == [3, 1]


@pytest.mark.parametrize("value", [0, -2, 1.0, True, None])
def test_a_count_is_a_whole_number_from_one(value: object) -> None:
    with pytest.raises(dc.ValidationError) as caught:
        check_count("retry.max_attempts", value)
    assert caught.value.field == "retry.max_attempts"
    assert "id" not in caught.value.message  # a count is no id
    assert check_count("page_size", 1000, maximum=1000) == 1000
    with pytest.raises(dc.ValidationError, match="at most 1000"):
        check_count("page_size", 1001, maximum=1000)


def test_counts_in_the_configuration_report_what_they_are() -> None:
    with pytest.raises(dc.ValidationError, match="whole number") as caught:
        dc.RetryPolicy(max_attempts=0.5)  # type: ignore[arg-type]
    assert caught.value.field == "retry.max_attempts"


@pytest.mark.parametrize(
    ("value", "options", "problem"),
    [
        (0, {"allow_zero": True}, None),
        (0, {"allow_zero": False}, "must be more than zero, not 0"),
        (-0.1, {"allow_zero": True}, "must be zero or more, not -0.1"),
        (math.inf, {"allow_zero": False}, "must be a finite number, not inf"),
        (math.inf, {"allow_zero": False, "allow_inf": True}, None),
        (math.nan, {"allow_zero": True, "allow_inf": True}, "must be a finite number, not nan"),
        (True, {"allow_zero": True}, "must be a number, not bool"),
        ("1", {"allow_zero": True}, "must be a number, not str"),
    ],
)
def test_numbers(value: object, options: dict[str, bool], problem: str | None) -> None:
    if problem is None:
        assert check_number("timeout", value, **options) == float(value)  # type: ignore[arg-type]
    else:
        with pytest.raises(dc.ValidationError) as caught:
            check_number("timeout", value, **options)
        assert (caught.value.field, caught.value.message) == ("timeout", problem)


def test_flags_instances_and_callables_name_the_field_and_what_came() -> None:
    assert check_flag("trust_env", False) is False
    for value, kind in ((1, "int"), (None, "null"), ("yes", "str")):
        with pytest.raises(dc.ValidationError) as caught:
            check_flag("trust_env", value)
        assert (caught.value.field, caught.value.message) == (
            "trust_env",
            f"must be True or False, not {kind}",
        )
    assert check_instance("retry", None, dc.RetryPolicy, optional=True) is None
    with pytest.raises(dc.ValidationError) as caught:
        check_instance("retry", None, dc.RetryPolicy)
    assert (caught.value.field, caught.value.message) == (
        "retry",
        "must be a RetryPolicy, not null",
    )
    with pytest.raises(dc.ValidationError) as caught:
        check_instance("retry", "x", dc.RetryPolicy, optional=True)
    assert caught.value.message == "must be a RetryPolicy or None, not str"
    hooks = [print]
    assert check_callables("hooks.on_retry", hooks) is hooks
    with pytest.raises(dc.ValidationError) as caught:
        check_callables("hooks.on_retry", 3)
    assert (caught.value.field, caught.value.message) == (
        "hooks.on_retry",
        "must be a list of callables (one alone in a list), not int",
    )
    with pytest.raises(dc.ValidationError) as caught:
        check_callables("hooks.on_retry", (print, print, 3.5))
    assert (caught.value.field, caught.value.message) == (
        "hooks.on_retry[2]",
        "must be callable, not float",
    )


def test_text_and_statuses() -> None:
    with pytest.raises(dc.ValidationError):
        check_text("note", "  ")
    assert check_text("note", "", non_empty=False) == ""
    assert check_statuses("until", "issued", {"issued"}) == {"issued"}
    with pytest.raises(dc.ValidationError, match="must name at least one"):
        check_statuses("until", [], {"issued"})
    with pytest.raises(dc.ValidationError, match="expected a status"):
        check_statuses("until", {"issued": 1}, {"issued"})


def test_numbers_too_large_for_a_float_or_past_a_maximum() -> None:
    for huge in (10**400, -(10**400), 10**5000):
        with pytest.raises(dc.ValidationError) as caught:
            check_number("timeout", huge, allow_zero=True, allow_inf=True)
        assert (caught.value.field, caught.value.message) == (
            "timeout",
            "must be a number a float can hold, not an integer of more than 20 digits",
        )
    assert check_number("timeout", 10**300, allow_zero=False) == 1e300
    assert check_number("period", 60, allow_zero=False, maximum=60.0) == 60.0
    with pytest.raises(dc.ValidationError) as caught:
        check_number("period", 60.5, allow_zero=False, maximum=60.0)
    assert (caught.value.field, caught.value.message) == ("period", "must be at most 60, not 60.5")
    with pytest.raises(dc.ValidationError, match="at most 5, got an integer of more than 20"):
        check_count("concurrency", 10**5000, maximum=5)


def test_shown_quotes_a_value_but_only_the_size_of_a_huge_integer() -> None:
    assert shown(-MAX_ID) == repr(-MAX_ID) and shown("x") == "'x'" and shown(1.5) == "1.5"
    assert shown(MAX_ID + 1) == shown(-(10**5000)) == "an integer of more than 20 digits"
    assert shown("x" * 500) == "'" + "x" * 96 + "..." and shown("\x1b[2J") == "'\\x1b[2J'"
    assert shown(MAX_ID) == str(MAX_ID) and shown("y" * 98) == repr("y" * 98)  # 100: whole
