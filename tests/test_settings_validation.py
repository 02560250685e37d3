"""Every setting of CertCentralClient, RetryPolicy, RateLimit and Hooks: a wrong type or an
absurd number is a ValidationError naming the parameter, and what is accepted works."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import digicert_async as dc
from digicert_async.testing import FakeCertCentral

HUGE = 10**400  # past the largest float
ENORMOUS = 10**5000  # past the 4300 digits Python will print


# -- what the issue found ------------------------------------------------------------------------


@pytest.mark.parametrize("number", [HUGE, -HUGE, ENORMOUS], ids=["huge", "-huge", "enormous"])
def test_a_number_too_large_for_a_float_is_a_validation_error(number: int) -> None:
    with pytest.raises(dc.ValidationError) as caught:
        dc.CertCentralClient(api_key="k", timeout=number)
    assert caught.value.field == "timeout"
    assert "more than 20 digits" in caught.value.message
    for name in ("backoff_initial", "backoff_max", "deadline", "budget"):
        with pytest.raises(dc.ValidationError) as caught:
            dc.RetryPolicy(**{name: number})
        assert caught.value.field == f"retry.{name}"
    for name in ("safety_margin", "cooldown_initial", "cooldown_max", "retry_after_max"):
        with pytest.raises(dc.ValidationError) as caught:
            dc.RateLimit(**{name: number})
        assert caught.value.field == f"rate_limit.{name}"
    for window in [(number, 5.0), (10, number)]:
        with pytest.raises(dc.ValidationError) as caught:
            dc.RateLimit(windows=[window])
        assert caught.value.field == "rate_limit.windows[0]"


@pytest.mark.parametrize(
    ("parameter", "value", "wanted"),
    [
        ("retry", "x", "RetryPolicy"),
        ("rate_limit", object(), "RateLimit"),
        ("hooks", 1, "Hooks"),
        ("session", "a session", "ClientSession"),
        ("retry", dc.RateLimit(), "RetryPolicy"),
        ("rate_limit", dc.RetryPolicy(), "RateLimit"),
    ],
)
def test_a_setting_of_the_wrong_class_is_a_validation_error(
    parameter: str, value: object, wanted: str
) -> None:
    with pytest.raises(dc.ValidationError) as caught:
        dc.CertCentralClient(api_key="k", **{parameter: value})
    assert caught.value.field == parameter
    assert wanted in caught.value.message and type(value).__name__ in caught.value.message


@pytest.mark.parametrize(
    ("value", "field"),
    [
        (1, "hooks.on_retry"),
        (print, "hooks.on_retry"),  # one callable, not in a list
        ("print", "hooks.on_retry"),
        (iter([print]), "hooks.on_retry"),  # read once, by the first client only
        ({"a": print}, "hooks.on_retry"),
        ([print, None], "hooks.on_retry[1]"),
    ],
)
def test_hooks_are_collections_of_callables(value: object, field: str) -> None:
    with pytest.raises(dc.ValidationError) as caught:
        dc.Hooks(on_retry=value)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert dc.Hooks(on_retry=[print], on_request=(print,), on_response={print}).on_retry == [print]


@pytest.mark.parametrize("region", [None, 1, ["us"], b"us", "US", "asia"])
def test_a_region_is_us_or_eu_even_beside_a_base_url(region: object) -> None:
    for base_url in (None, "http://127.0.0.1:1/services/v2"):
        with pytest.raises(dc.ValidationError) as caught:
            dc.CertCentralClient(api_key="k", region=region, base_url=base_url)  # type: ignore[arg-type]
        assert caught.value.field == "region"


def test_the_limits_of_absurd_numbers_are_named() -> None:
    with pytest.raises(dc.ValidationError, match="at most 1000000"):
        dc.RateLimit(windows=[(1_000_001, 5.0)])
    with pytest.raises(dc.ValidationError, match="at most 86400"):
        dc.RateLimit(windows=[(10, 86_401.0)])
    with pytest.raises(dc.ValidationError, match="at most 86400"):
        dc.RateLimit(cooldown_max=1e9)
    with pytest.raises(dc.ValidationError, match="at most 1000000"):
        dc.RetryPolicy(max_attempts=10**6 + 1)
    with pytest.raises(dc.ValidationError, match="at most 2147483648"):
        dc.CertCentralClient(api_key="k", max_response_bytes=2**31 + 1)
    assert dc.RateLimit(windows=[(1_000_000, 86_400)]).windows == ((1_000_000, 86_400.0),)
    assert dc.RetryPolicy(max_attempts=10**6).max_attempts == 10**6
    assert dc.CertCentralClient(api_key="k", max_response_bytes=2**31).max_response_bytes == 2**31


# -- the sweep -------------------------------------------------------------------------------------


class _Opaque:
    """An object of no expected type, whose repr must not be needed."""

    def __repr__(self) -> str:
        raise AssertionError("an error message called repr() on a setting")


hostile = st.one_of(
    st.sampled_from(
        [
            *(math.nan, math.inf, -math.inf, -1, -0.5, 0, 0.0, True, False, None),
            *(HUGE, -HUGE, ENORMOUS, -ENORMOUS, 1e308, -1e308, 5e-324),
            *("", "1", "x", b"1", [], {}, ()),
        ]
    ),
    st.builds(_Opaque),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.lists(st.one_of(st.integers(), st.floats(), st.none()), max_size=3),
    st.tuples(st.integers(), st.floats()),
)


def _client(**kwargs: Any) -> object:
    kwargs.setdefault("api_key", "k")
    return dc.CertCentralClient(**kwargs)


# (what is built, the prefix of its fields, fields that an error may name for another)
CONSTRUCTORS: list[tuple[Callable[..., object], str, dict[str, str]]] = [
    (_client, "", {}),
    (dc.RetryPolicy, "retry.", {}),
    (dc.RateLimit, "rate_limit.", {"cooldown_initial": "rate_limit.cooldown_max"}),
    (dc.Hooks, "hooks.", {}),
]
PARAMETERS = [
    (build, prefix, name, related.get(name))
    for build, prefix, related in CONSTRUCTORS
    for name in inspect.signature(
        dc.CertCentralClient if build is _client else build  # type: ignore[arg-type]
    ).parameters
]


def test_the_sweep_covers_every_parameter() -> None:
    names = {f"{prefix}{name}" for _, prefix, name, _ in PARAMETERS}
    assert {"api_key", "timeout", "session", "trust_env", "max_response_bytes"} <= names
    assert {"retry.budget", "rate_limit.backend", "rate_limit.adaptive"} <= names
    assert {"hooks.on_pace_change", "hooks.on_call_end"} <= names


@pytest.mark.parametrize(
    ("build", "prefix", "name", "related"),
    PARAMETERS,
    ids=[f"{prefix}{name}" for _, prefix, name, _ in PARAMETERS],
)
@settings(max_examples=100, deadline=None)
@given(value=hostile)
def test_a_hostile_setting_is_accepted_or_a_validation_error_naming_it(
    build: Callable[..., object], prefix: str, name: str, related: str | None, value: object
) -> None:
    try:
        build(**{name: value})
    except dc.ValidationError as exc:
        named = f"{prefix}{name}"
        assert exc.field in (named, related) or exc.field.startswith(f"{named}["), exc.field
        assert exc.message


# -- what is accepted works ----------------------------------------------------------------------

EXTREMES: list[tuple[str, dict[str, Any]]] = [
    ("huge timeout", {"timeout": 1e308}),
    ("tiny timeout", {"timeout": 5e-324}),
    ("20-digit timeout", {"timeout": 10**20}),
    ("largest response cap", {"max_response_bytes": 2**31}),
    ("huge backoff", {"retry": dc.RetryPolicy(backoff_initial=1e308, backoff_max=1e308)}),
    ("huge deadline", {"retry": dc.RetryPolicy(deadline=1.7976931348623157e308)}),
    ("tiny deadline", {"retry": dc.RetryPolicy(deadline=5e-324)}),
    ("most attempts", {"retry": dc.RetryPolicy(max_attempts=10**6, budget=math.inf)}),
    ("widest window", {"rate_limit": dc.RateLimit(windows=[(1_000_000, 86_400)])}),
    ("longest window", {"rate_limit": dc.RateLimit(windows=[(1, 86_400)])}),
    ("tiny window", {"rate_limit": dc.RateLimit(windows=[(1, 5e-324)])}),
    (
        "longest cool-down",
        {"rate_limit": dc.RateLimit(cooldown_initial=86_400, cooldown_max=86_400)},
    ),
    ("tiny cool-down", {"rate_limit": dc.RateLimit(cooldown_initial=5e-324, retry_after_max=0)}),
    ("whole margin", {"rate_limit": dc.RateLimit(safety_margin=1.0)}),
]


@pytest.mark.parametrize(("label", "options"), EXTREMES, ids=[label for label, _ in EXTREMES])
async def test_extreme_settings_that_are_accepted_work(label: str, options: dict[str, Any]) -> None:
    options.setdefault("rate_limit", dc.RateLimit.disabled())
    async with FakeCertCentral(rate_limits=None, orders=0) as fake:
        order_id = fake.add_order("issued")
        async with dc.CertCentralClient(
            api_key=fake.api_key, base_url=fake.base_url, **options
        ) as client:
            for _ in range(2):  # the second waits for a slot or meets the deadline
                try:
                    order = await client.orders.get(order_id)
                except (dc.TransportError, dc.ResponseError) as exc:
                    # an attempt that cannot finish in time, or a deadline already past
                    assert exc.args
                else:
                    assert order.id == order_id
