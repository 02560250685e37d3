"""What a bulk reissue reports, without a server: each result's JSON line (the command
line prints one per order), the identity of the certificate a reissue replaces, the
report's counts and what a later run may be given, and the job's input check."""

from __future__ import annotations

import pytest

import digicert_async as dc
from digicert_async.bulk._reissue import certificate_identity, check_csrs
from digicert_async.models import OrderCertificate

from .test_csr import pem

Outcome = dc.ReissueOutcome
CSR = pem()


def test_an_outcome_prints_as_its_value() -> None:
    assert [str(outcome) for outcome in Outcome] == [
        "reissued", "not_reissuable", "not_found", "failed", "not_attempted", "unknown"
    ]  # fmt: skip


def test_a_bare_result_is_its_id_and_outcome() -> None:
    assert dc.ReissueResult(5, Outcome.NOT_FOUND).to_json() == {
        "order_id": 5,
        "outcome": "not_found",
    }


def test_a_full_result_lists_every_field_it_has() -> None:
    replaced = OrderCertificate(id=3, serial_number="0A1B", thumbprint="FF00")
    result = dc.ReissueResult(
        5,
        Outcome.UNKNOWN,
        request_id=9,
        status="issued",
        error=TimeoutError("lost"),
        uncertain=True,
        replaced=replaced,
    )
    assert result.to_json() == {
        "order_id": 5,
        "outcome": "unknown",
        "request_id": 9,
        "status": "issued",
        "uncertain": True,
        "error": "TimeoutError: lost",
        "replaced_certificate": {"id": 3, "serial_number": "0A1B", "thumbprint": "FF00"},
    }


def test_a_certificate_is_told_by_what_the_order_shows_of_it() -> None:
    assert certificate_identity(None) == {}
    assert certificate_identity(OrderCertificate()) == {}
    assert certificate_identity(OrderCertificate(serial_number="0A")) == {"serial_number": "0A"}
    assert certificate_identity(OrderCertificate(id=1, thumbprint="AB")) == {
        "id": 1,
        "thumbprint": "AB",
    }
    # a result whose certificate shows nothing of itself has no replaced_certificate
    assert "replaced_certificate" not in (
        dc.ReissueResult(1, Outcome.REISSUED, replaced=OrderCertificate()).to_json()
    )


def test_the_report_counts_and_what_a_later_run_is_given() -> None:
    results = [
        dc.ReissueResult(1, Outcome.REISSUED),
        dc.ReissueResult(2, Outcome.FAILED),
        dc.ReissueResult(3, Outcome.NOT_ATTEMPTED),
        dc.ReissueResult(4, Outcome.UNKNOWN),
        dc.ReissueResult(5, Outcome.NOT_REISSUABLE, status="revoked"),
    ]
    report = dc.ReissueReport(results)
    assert dict(report.counts) == {
        Outcome.REISSUED: 1,
        Outcome.NOT_REISSUABLE: 1,
        Outcome.NOT_FOUND: 0,
        Outcome.FAILED: 1,
        Outcome.NOT_ATTEMPTED: 1,
        Outcome.UNKNOWN: 1,
    }
    assert report.resume_ids() == [2, 3]  # never the unknown one
    assert not report.complete
    only_unknown = dc.ReissueReport([dc.ReissueResult(4, Outcome.UNKNOWN)])
    assert only_unknown.resume_ids() == [] and not only_unknown.complete
    done = dc.ReissueReport([results[0], results[4]])
    assert done.complete and done.resume_ids() == []


def test_the_input_is_a_mapping_of_ids_to_csrs() -> None:
    assert check_csrs({3: CSR, 1: CSR}) == {3: CSR, 1: CSR}
    with pytest.raises(dc.ValidationError) as caught:
        check_csrs([CSR])
    assert (caught.value.field, caught.value.message) == (
        "csrs",
        "expected a mapping of order ids to CSRs, got list",
    )
    with pytest.raises(dc.ValidationError) as bad_id:
        check_csrs({0: CSR})
    assert bad_id.value.field.startswith("order_ids")


@pytest.mark.parametrize(
    ("bad", "more"), [(1, ""), (5, ""), (6, " (and 1 more)"), (8, " (and 3 more)")]
)
def test_bad_csrs_are_named_in_one_error_the_first_five_shown(bad: int, more: str) -> None:
    csrs = {order_id: ("<csr>" if order_id <= bad else CSR) for order_id in range(1, 10)}
    with pytest.raises(dc.ValidationError) as caught:
        check_csrs(csrs)
    shown = "; ".join(
        f"csrs[{order_id}]: must be one PEM block from '-----BEGIN CERTIFICATE REQUEST-----'"
        " to '-----END CERTIFICATE REQUEST-----' with base64 between, and nothing else"
        " (got '<csr>')"
        for order_id in range(1, min(bad, 5) + 1)
    )
    assert caught.value.field == "csrs"
    assert caught.value.message == f"{bad} bad CSR(s), nothing was sent: {shown}{more}"


async def test_the_job_checks_its_options_before_anything_is_sent() -> None:
    client = dc.CertCentralClient("key", base_url="http://127.0.0.1:9/services/v2")
    async with client:
        for options, field in (
            ({"concurrency": 0}, "concurrency"),
            ({"deadline": 0}, "deadline"),
        ):
            with pytest.raises(dc.ValidationError) as caught:
                dc.reissue_orders(client, {1: CSR}, **options)  # type: ignore[arg-type]
            assert caught.value.field == field
        assert (await dc.reissue_orders(client, {})).results == []
