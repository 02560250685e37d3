"""The DCV driver's schedule and arguments (pure); its runs against the fake are in
``test_dcv_fake``."""

from __future__ import annotations

from typing import Any

import pytest

import digicert_async as dc
from digicert_async._dcv_driver import MIN_CHECK_INTERVAL


async def _publish(record: dc.DcvRecord) -> None:
    return None


def test_the_first_check_waits_for_propagation_then_backs_off_to_the_cap() -> None:
    schedule = dc.CheckSchedule(first=45.0, interval=20.0, factor=2.0, cap=100.0)
    assert [schedule.delay(n) for n in range(1, 7)] == [45.0, 20.0, 40.0, 80.0, 100.0, 100.0]


def test_no_check_comes_sooner_than_the_floor() -> None:
    schedule = dc.CheckSchedule(first=0.0, interval=0.0, factor=1.0, cap=0.0)
    assert {schedule.delay(n) for n in range(1, 50)} == {MIN_CHECK_INTERVAL}
    assert MIN_CHECK_INTERVAL >= 5.0


def test_the_default_schedule() -> None:
    schedule = dc.CheckSchedule()
    assert schedule.delay(1) == 30.0 and schedule.delay(2) == 30.0 and schedule.delay(3) == 60.0
    assert schedule.delay(100) == 300.0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"first": -1}, "first"),
        ({"interval": "5"}, "interval"),
        ({"cap": float("nan")}, "cap"),
        ({"factor": 0.5}, "factor"),
    ],
)
def test_a_bad_schedule_is_refused(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(dc.ValidationError, match=field):
        dc.CheckSchedule(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"publish": None}, "publish"),
        ({"publish": "echo"}, "publish"),
        ({"publish": _publish, "unpublish": 3}, "unpublish"),
        ({"publish": _publish, "method": "email"}, "method"),
        ({"publish": _publish, "timeout": 0}, "timeout"),
        ({"publish": _publish, "timeout": True}, "timeout"),
    ],
)
def test_a_bad_driver_is_refused(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(dc.ValidationError, match=field):
        dc.DcvDriver(**kwargs)


def test_a_driver_keeps_what_it_was_given() -> None:
    driver = dc.DcvDriver(publish=_publish, method="http-token", timeout=60)
    assert (driver.publish, driver.unpublish, driver.method) == (_publish, None, "http-token")
    assert driver.timeout == 60.0 and driver.schedule == dc.CheckSchedule()


async def test_validate_domains_checks_its_inputs_before_sending() -> None:
    async with dc.CertCentralClient("key", base_url="http://127.0.0.1:9/services/v2") as client:
        for bad, field in (
            (["example.com", 0], "domains_or_order_ids"),
            ("example.com", "domains_or_order_ids"),
            ([1.5], "domains_or_order_ids"),
            ([True], "domains_or_order_ids"),
        ):
            with pytest.raises(dc.ValidationError, match=field):
                dc.validate_domains(client, bad, publish=_publish)
        with pytest.raises(dc.ValidationError, match="publish"):
            dc.validate_domains(client, [1])
        with pytest.raises(dc.ValidationError, match="driver"):
            dc.validate_domains(client, [1], driver="x")  # type: ignore[arg-type]
        with pytest.raises(dc.ValidationError, match="concurrency"):
            dc.validate_domains(client, [1], publish=_publish, concurrency=0)
