"""Keys of an answer that no field knows are kept on the model, out of ``==`` and ``repr``,
reachable through ``dc.unknown_fields``, and written back by ``dc.converter.unstructure``."""

from __future__ import annotations

import copy
from types import MappingProxyType
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import digicert_async as dc
from digicert_async._converter import make_converter

from ._served import served

DETAILED = make_converter(fast=False)

ORDER: dict[str, Any] = {
    "id": 42,
    "status": "issued",
    "new_top_level": {"nested": [1, 2]},
    "certificate": {
        "id": 7,
        "common_name": "example.com",
        "server_platform": {"id": -1, "name": "OTHER", "vendor_hint": "x"},
        "certificate_future": True,
    },
    "requests": [{"id": 1, "status": "approved", "approver_note": "ok"}],
    "organization": {"id": 3, "name": "Example", "duns": "123"},
}


def kept(model: Any) -> dict[str, Any]:
    return dict(dc.unknown_fields(model))


async def test_an_order_read_through_the_client_keeps_what_no_field_knows() -> None:
    async with served() as (server, client):
        server.answer("GET", "/order/certificate/42", 200, ORDER)
        order = await client.orders.get(42)
    assert kept(order) == {"new_top_level": {"nested": [1, 2]}}
    assert order.certificate is not None and order.certificate.server_platform is not None
    assert kept(order.certificate) == {"certificate_future": True}
    assert kept(order.certificate.server_platform) == {"vendor_hint": "x"}
    assert order.requests is not None and kept(order.requests[0]) == {"approver_note": "ok"}
    assert order.organization is not None and kept(order.organization) == {"duns": "123"}
    assert dc.converter.unstructure(order) == ORDER


async def test_listed_items_keep_theirs() -> None:
    body = {"orders": [ORDER, {"id": 43, "other": 1}], "page": {"total": 2}}
    async with served() as (server, client):
        server.answer("GET", "/order/certificate", 200, body)
        found = [order async for order in client.orders.list()]
    assert [kept(order) for order in found] == [{"new_top_level": {"nested": [1, 2]}}, {"other": 1}]


def test_the_fast_path_and_the_detailed_pass_keep_the_same() -> None:
    quick = dc.converter.structure(copy.deepcopy(ORDER), dc.Order)
    slow = DETAILED.structure(copy.deepcopy(ORDER), dc.Order)
    assert dc.converter.fast_reader(dc.Order) is not None
    assert dc.converter.unstructure(quick) == DETAILED.unstructure(slow) == ORDER
    assert kept(quick) == kept(slow)
    # a body the fast path hands over (a decimal string) keeps them too
    slow_body = copy.deepcopy(ORDER)
    slow_body["certificate"]["server_platform"]["id"] = "-1"
    handed_over = dc.converter.structure(slow_body, dc.Order)
    assert handed_over.certificate is not None
    assert kept(handed_over) == kept(quick)
    assert kept(handed_over.certificate.server_platform) == {"vendor_hint": "x"}


def test_they_take_no_part_in_equality_or_repr() -> None:
    with_extra = dc.converter.structure({"id": 1, "status": "pending", "mystery": 5}, dc.Order)
    plain = dc.Order(id=1, status="pending")
    assert with_extra == plain and hash(with_extra) == hash(plain)
    assert repr(with_extra) == repr(plain)
    assert "mystery" not in repr(with_extra)
    assert kept(with_extra) == {"mystery": 5} and kept(plain) == {}


def test_the_mapping_is_read_only() -> None:
    order = dc.converter.structure({"id": 1, "mystery": 5}, dc.Order)
    extra = dc.unknown_fields(order)
    assert isinstance(extra, MappingProxyType)
    with pytest.raises(TypeError):
        extra["mystery"] = 6  # type: ignore[index]
    assert kept(order) == {"mystery": 5}


def test_a_model_built_in_code_evolved_copied_or_pickled_has_none() -> None:
    import pickle

    order = dc.converter.structure({"id": 1, "mystery": 5}, dc.Order)
    assert kept(attrs.evolve(order, status="issued")) == {}
    assert kept(dc.Note(id=1)) == {}
    for other in (copy.copy(order), copy.deepcopy(order), pickle.loads(pickle.dumps(order))):
        assert other == order and kept(other) == {}


def test_request_models_have_none_and_anything_else_is_refused() -> None:
    assert kept(dc.NoteRequest(text="hello")) == {}
    for not_a_model in (None, {"id": 1}, dc.Order, 42):
        with pytest.raises(dc.ValidationError) as info:
            dc.unknown_fields(not_a_model)
        assert info.value.field == "model"


def test_every_public_response_model_keeps_them() -> None:
    from digicert_async.models._common import ResponseModel, is_response_model

    marked = [
        value
        for value in vars(dc).values()
        if isinstance(value, type) and attrs.has(value) and is_response_model(value)
    ]
    assert len(marked) > 25
    assert [cls for cls in marked if not issubclass(cls, ResponseModel)] == []
    # and each is read by its generated fast path, not handed to the detailed pass
    assert [cls for cls in marked if dc.converter.fast_reader(cls) is None] == []


def test_the_strict_converter_still_refuses_them() -> None:
    strict = make_converter(strict=True)
    with pytest.raises(dc.ValidationError) as info:
        strict.structure({"id": 1, "mystery": 5}, dc.Order)
    assert info.value.field == "mystery"


_keys = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=8)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None)
@given(
    extra=st.dictionaries(_keys, _json, max_size=4),
    nested=st.dictionaries(_keys, _json, max_size=3),
)
def test_any_extra_keys_round_trip(extra: dict[str, Any], nested: dict[str, Any]) -> None:
    fields = {field.name for field in attrs.fields(dc.Order)}
    certificate_fields = {field.name for field in attrs.fields(dc.OrderCertificate)}
    body = {**{k: v for k, v in extra.items() if k not in fields}, "id": 9, "status": "pending"}
    body["certificate"] = {
        **{k: v for k, v in nested.items() if k not in certificate_fields},
        "common_name": "example.com",
    }
    for conv in (dc.converter, DETAILED):
        order = conv.structure(copy.deepcopy(body), dc.Order)
        assert conv.unstructure(order) == body
        assert order == dc.Order(
            id=9, status="pending", certificate=dc.OrderCertificate(common_name="example.com")
        )


def test_the_readme_example_prints_what_the_readme_says(tmp_path: Any) -> None:
    import subprocess
    import sys

    from .readme import README
    from .test_cli_readme import _blocks

    example = _blocks("python", after="### Reading DigiCert's answers")[0]
    script = tmp_path / "reading.py"
    script.write_text(example)
    run = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == 0, run.stderr
    printed = run.stdout.splitlines()
    assert printed == ["-1", "{'added_in_2031': {'enabled': True}}", "False {'enabled': True}"]
    said = README.read_text(encoding="utf-8").split("### Reading DigiCert's answers")[1]
    for line in printed:
        assert f"`{line}`" in said.split("```")[2]


def test_a_sparse_answer_reads_like_a_full_one() -> None:
    """The fast path leaves the slots of absent optional fields unset; they read as None,
    and the model behaves in every way as one built with those fields None."""
    import pickle

    read = dc.converter.structure({"id": 1, "status": "pending"}, dc.Order)
    built = dc.Order(id=1, status="pending")
    assert read.receipt_id is None and read.certificate is None and read.send_plus_7 is None
    assert read == built and hash(read) == hash(built) and repr(read) == repr(built)
    assert attrs.asdict(read) == attrs.asdict(built)
    assert pickle.loads(pickle.dumps(read)) == built
    assert copy.copy(read) == built and copy.deepcopy(read) == built
    assert attrs.evolve(read, status="issued") == attrs.evolve(built, status="issued")
    assert dc.converter.unstructure(read) == {"id": 1, "status": "pending"}
    with pytest.raises(AttributeError, match="no_such_field"):
        read.no_such_field  # type: ignore[attr-defined]  # noqa: B018
    assert not hasattr(read, "no_such_field")


FULL_ORDER: dict[str, Any] = {
    "id": 5,
    "certificate": {"id": 6, "common_name": "a.example.com", "dns_names": ["a.example.com"],
                    "ca_cert": {"id": "AB", "name": "CA"}, "csr": "x", "key_size": 2048},
    "status": "issued", "is_renewal": False, "is_renewed": False,
    "date_created": "2024-05-02T09:44:06+00:00", "date_issued": "2024-05-03T09:44:06+00:00",
    "organization": {"id": 3, "name": "Example"}, "validity_years": 1,
    "container": {"id": 1, "name": "c"}, "product": {"name_id": "ssl_basic"}, "price": 10,
    "currency": "USD", "user": {"id": 1}, "requests": [{"id": 1, "status": "approved"}],
    "order_valid_from": "2024-05-02", "order_valid_till": "2025-05-02",
    "is_multi_year_plan": "0", "cs_provisioning_method": "none", "payment_method": "balance",
    "disable_renewal_notifications": False, "receipt_id": 9, "send_plus_7": True,
    "technical_contact": {"first_name": "Jo"}, "user_assignments": [{"id": 2}],
    "ship_info": {"zip": 84043}, "renewal_of_order_valid_till": "2026-01-01",
    "organization_contact": [], "custom_fields": None, "auto_renew": "",
}  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(
    keep=st.lists(st.sampled_from(sorted(FULL_ORDER)), unique=True),
    extra=st.dictionaries(_keys, _json, max_size=3),
)
def test_sparse_and_full_answers_read_alike_on_both_paths(
    keep: list[str], extra: dict[str, Any]
) -> None:
    """Few keys or many (the fast path reads the two differently), with or without keys
    no field knows: the fast path and the detailed pass give the same model, keep the
    same keys, and write back the same document."""
    fields = {field.name for field in attrs.fields(dc.Order)}
    body = {key: copy.deepcopy(FULL_ORDER[key]) for key in ["id", *keep] if key in FULL_ORDER}
    body.update({k: v for k, v in extra.items() if k not in fields})
    fast = dc.converter.fast_reader(dc.Order)
    assert fast is not None
    quick = fast(copy.deepcopy(body))
    slow = DETAILED.structure(copy.deepcopy(body), dc.Order)
    assert quick == slow
    assert kept(quick) == kept(slow)
    assert dc.converter.unstructure(quick) == DETAILED.unstructure(slow)
