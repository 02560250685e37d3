"""CertCentralClient() without a key reads DIGICERT_API_KEY, as the command line does, and
keeps it as secret as a key passed in; help() shows the resource groups."""

from __future__ import annotations

import pydoc
import re
from collections.abc import Callable

import pytest

import digicert_async as dc
from digicert_async.testing import FakeCertCentral

from .test_hardening_servers import secret_sightings

SECRET = "Env-held-secret-7c21d9"


async def test_a_client_without_a_key_uses_digicert_api_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with FakeCertCentral(rate_limits=None, orders=0) as fake:
        monkeypatch.setenv("DIGICERT_API_KEY", fake.api_key)
        order_id = fake.add_order("issued")
        async with dc.CertCentralClient(base_url=fake.base_url) as client:
            assert (await client.orders.get(order_id)).id == order_id
            assert fake.api_key not in repr(client) and fake.api_key not in repr(vars(client))
        async with dc.CertCentralClient(None, base_url=fake.base_url) as client:
            assert (await client.orders.get(order_id)).id == order_id


async def test_a_key_passed_in_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGICERT_API_KEY", "not-the-key")
    async with FakeCertCentral(rate_limits=None, orders=0) as fake:
        order_id = fake.add_order("issued")
        async with dc.CertCentralClient(fake.api_key, base_url=fake.base_url) as client:
            assert (await client.orders.get(order_id)).id == order_id
    with pytest.raises(dc.ValidationError, match="must not be empty") as caught:
        dc.CertCentralClient(api_key="")  # an empty key is refused, not replaced
    assert "DIGICERT_API_KEY" not in caught.value.message


def test_a_key_in_neither_place_is_a_validation_error_naming_both(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DIGICERT_API_KEY", raising=False)
    with pytest.raises(dc.ValidationError) as caught:
        dc.CertCentralClient()
    assert caught.value.field == "api_key"
    assert "api_key=" in caught.value.message and "DIGICERT_API_KEY" in caught.value.message


@pytest.mark.parametrize(
    ("spoil", "problem"),
    [
        (lambda key: "", "must not be empty"),
        (lambda key: f" {key}", "whitespace"),
        (lambda key: f"{key}\n", "whitespace"),
    ],
    ids=["empty", "leading-space", "newline"],
)
def test_an_unusable_key_in_the_environment_is_refused_without_showing_it(
    monkeypatch: pytest.MonkeyPatch, spoil: Callable[[str], str], problem: str
) -> None:
    # spoil() builds the bad key, so that no local of this frame holds it either
    monkeypatch.setenv("DIGICERT_API_KEY", spoil(SECRET))
    with pytest.raises(dc.ValidationError) as caught:
        dc.CertCentralClient(region="us")
    error = caught.value
    assert error.field == "api_key" and problem in error.message
    assert "read from DIGICERT_API_KEY" in error.message
    assert SECRET[:8] not in str(error)
    assert secret_sightings(error, SECRET) == []


def test_a_refused_argument_beside_an_environment_key_shows_no_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DIGICERT_API_KEY", SECRET)
    with pytest.raises(dc.ValidationError) as caught:
        dc.CertCentralClient(timeout=-1)
    assert caught.value.field == "timeout"
    assert secret_sightings(caught.value, SECRET) == []


GROUP_LINE = re.compile(r"^\s*\|?\s*- ``(\w+)``: \S.*$", re.MULTILINE)


def test_help_lists_every_resource_group_with_one_line() -> None:
    text = pydoc.render_doc(dc.CertCentralClient, renderer=pydoc.plaintext)
    listed = GROUP_LINE.findall(text)
    client = dc.CertCentralClient("k")
    groups = [
        name for name, value in vars(client).items() if type(value).__name__.endswith("Resource")
    ]
    assert sorted(groups) == sorted(listed)
    assert set(listed) >= {"orders", "certificates", "requests", "products", "subaccounts"}
