"""Nothing of a real answer is lost: every key of every real body lands in a typed field (or,
were one unknown, in ``dc.unknown_fields``), and unstructuring the model gives the body
back, but for what the liberal reader documents as absent (an empty object or list where
an object belongs, ``null``, a blank date or number) and the documented normal forms
(timestamps in UTC, ``"1"``/``"0"`` flags).

The real bodies are ``../shared/reference/real`` (see ``test_real_bodies``) and the
documented ones of ``tests/fixtures/documented``, read through the public calls.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import attrs
import pytest

import digicert_async as dc

from ._served import assert_faithful
from .test_real_bodies import DOCUMENTED, REAL, real_file

# file prefix -> (the list the items are under, or None for one object; the model)
READERS: dict[str, tuple[str | None, type[Any]]] = {
    "order_info_": (None, dc.Order),
    "add_note_doc_response": (None, dc.Note),
    "view_note_": (None, dc.Note),
    "list_orders_": ("orders", dc.Order),
    "list_notes_": ("notes", dc.Note),
    "list_subaccount_orders": ("orders", dc.SubaccountOrder),
    "status_changes_": ("orders", dc.StatusChange),
    "lc_order_created_": (None, dc.OrderCreated),
    "lc_reissue_response_": (None, dc.OrderCreated),
    "lc_duplicate_response_": (None, dc.OrderCreated),
    "lc_list_reissues_": ("certificates", dc.IssuedCertificate),
    "lc_list_duplicates_": ("certificates", dc.IssuedCertificate),
    "lc_revoke_order_doc_response": (None, dc.ApprovalRequest),
    "lc_revoke_certificate_doc_response": (None, dc.ApprovalRequest),
    "lc_request_info_": (None, dc.ApprovalRequest),
    "lc_requests_list_": ("requests", dc.ApprovalRequest),
    "lc_product_info_": (None, dc.ProductDetails),
    "lc_products_list_": ("products", dc.ProductDetails),
    "lc_chain_": (None, dc.CertificateChain),
    "acct_organizations_list_": ("organizations", dc.Organization),
    "acct_organization_info_": (None, dc.Organization),
    "acct_domains_list_": ("domains", dc.Domain),
    "acct_domain_info_": (None, dc.Domain),
    "acct_check_dcv_": (None, dc.OrderDcvCheck),
    "acct_dcv_random_value_": (None, dc.DcvRandomValue),
    "acct_dcv_method_doc_response": (None, dc.DcvRandomValue),
}
# Bodies that are not answers of an endpoint the library reads: requests it sends, error
# answers (test_real_bodies), and the two order answers with a value of the wrong type (a
# ResponseError, tested there).
NOT_READ = ("error_", "lc_error_", "update_status_", "cancel_request_")
WRONG_TYPE = {"order_info_digicert_client_v2.json", "order_info_autossl_mock_issued.json"}


def _reader(name: str) -> tuple[str | None, type[Any]] | None:
    return next((reader for prefix, reader in READERS.items() if name.startswith(prefix)), None)


def _is_request(name: str) -> bool:
    return "_request" in name and "_requests_list" not in name and "request_info" not in name


def _real_answers() -> list[str]:
    if not REAL.is_dir():
        return []
    return sorted(
        path.name
        for path in REAL.glob("*.json")
        if not path.name.startswith(NOT_READ) and not _is_request(path.name)
        and path.name not in WRONG_TYPE
    )  # fmt: skip


def _documented_answers() -> list[str]:
    manifest = json.loads((DOCUMENTED / "manifest.json").read_text(encoding="utf-8"))
    return sorted(entry["file"] for entry in manifest if entry["endpoint"] != "error")


def _absent(value: Any) -> bool:
    """What the liberal reader reads as "not there"."""
    return value is None or value == "" or value == [] or value == {}


def assert_whole(decoded: Any, raw: Any, path: str = "$") -> None:
    """Every key of ``raw`` is in ``decoded`` (unstructured), but for absent values (the
    values themselves are :func:`assert_faithful`'s to compare)."""
    if isinstance(raw, dict):
        assert isinstance(decoded, dict), path
        lost = sorted(k for k, v in raw.items() if k not in decoded and not _absent(v))
        assert lost == [], f"{path}: lost {lost}"
        for key, value in decoded.items():
            assert_whole(value, raw[key], f"{path}.{key}")
    elif isinstance(raw, list):
        assert isinstance(decoded, list) and len(decoded) == len(raw), path
        for index, (value, raw_value) in enumerate(zip(decoded, raw, strict=True)):
            assert_whole(value, raw_value, f"{path}[{index}]")
    # scalars: assert_faithful compares them


def unknown_paths(model: Any, path: str = "") -> list[str]:
    """Every key kept in ``unknown_fields``, at any depth of ``model``."""
    found = [f"{path}{key}" for key in dc.unknown_fields(model)]
    for field in attrs.fields(type(model)):
        value = getattr(model, field.name)
        for index, item in enumerate(value if isinstance(value, list) else [value]):
            if attrs.has(type(item)):
                step = f"[{index}]" if isinstance(value, list) else ""
                found += unknown_paths(item, f"{path}{field.name}{step}.")
    return found


def _check(name: str, body: Any) -> list[str]:
    reader = _reader(name)
    assert reader is not None, f"{name}: no reader named for it in READERS"
    key, model = reader
    raws = [body] if key is None else body.get(key, [])
    unknown = []
    fast = dc.converter.fast_reader(model)
    assert fast is not None
    for raw in raws:
        decoded = dc.converter.structure(raw, model)
        # the generated fast path reads it itself, rather than handing it over
        assert fast(copy.deepcopy(raw)) == decoded
        document = dc.converter.unstructure(decoded)
        assert_faithful(document, raw)  # nothing invented, nothing altered
        assert_whole(document, raw)  # nothing lost
        unknown += unknown_paths(decoded)
    return unknown


def test_the_real_answers_are_all_named() -> None:
    real_file("list_notes_doc_example.json")  # skips (or fails on CI) without the folder
    assert len(_real_answers()) >= 25


@pytest.mark.parametrize("name", _real_answers())
def test_a_real_answer_round_trips_whole(name: str) -> None:
    unknown = _check(name, real_file(name))
    # every key DigiCert's pages and the peers' fixtures show is a typed field
    assert unknown == []


@pytest.mark.parametrize("name", _documented_answers())
def test_a_documented_answer_round_trips_whole(name: str) -> None:
    body = json.loads((Path(DOCUMENTED) / name).read_text(encoding="utf-8"))
    assert _check(name, body) == []


def test_the_check_sees_a_lost_key() -> None:
    with pytest.raises(AssertionError, match="lost"):
        assert_whole({"id": 1}, {"id": 1, "status": "issued"})
    assert_whole({"id": 1}, {"id": 1, "organization": [], "csr": None})
    order = dc.converter.structure({"id": 1, "mystery": {"x": 1}}, dc.Order)
    assert unknown_paths(order) == ["mystery"]
