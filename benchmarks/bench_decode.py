"""Decoding cost: ``dc.converter.structure`` versus ``json.loads`` alone, in process.

For each payload (an order's details as the fake serves them, a fuller order document,
the same with keys no field knows, subaccount orders from DigiCert's documentation, and a
page of 1,000 orders) the wire
bytes are decoded three ways, each timed in a tight loop: ``json.loads`` alone,
``converter.structure`` of the already-parsed document alone, and both (what one client
call does). No server, no I/O.

    python benchmarks/bench_decode.py [--quick]
    python benchmarks/bench_decode.py --loop CASE CALLS

``--loop`` only decodes one payload (``CASE``: its row, from 0) ``CALLS`` times, inside one
``functools.reduce``, for counting instructions rather than timing them on a machine
whose speed drifts::

    valgrind --tool=callgrind --collect-atstart=no --toggle-collect=functools_reduce \
        python benchmarks/bench_decode.py --loop 0 200
"""

from __future__ import annotations

import argparse
import copy
import functools
import json
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from _common import header, table

import digicert_async as dc

# As FakeCertCentral serves GET /order/certificate/{id} for a pending order.
ORDER_PENDING: dict[str, Any] = {
    "id": 100001,
    "certificate": {
        "id": 500001,
        "common_name": "host1.example.com",
        "dns_names": ["host1.example.com"],
        "signature_hash": "sha256",
    },
    "status": "pending",
    "is_renewal": False,
    "date_created": "2024-05-02T09:44:06+00:00",
    "organization": {
        "id": 334455,
        "name": "Example Organization",
        "display_name": "Example Organization",
    },
    "validity_years": 1,
    "product": {"name_id": "ssl_basic", "name": "Basic OV", "type": "ssl_certificate"},
}

# An issued order with most documented fields present.
ORDER_ISSUED_FULL: dict[str, Any] = {
    "id": 100003,
    "certificate": {
        "id": 500003,
        "common_name": "www.example.com",
        "dns_names": ["www.example.com", "example.com", "mail.example.com", "api.example.com"],
        "organization_units": ["Sales department"],
        "signature_hash": "sha256",
        "key_size": 2048,
        "serial_number": "07135E2BF32883875466CB04",
        "thumbprint": "9D0874F44AF1036615C0C418B0BAB1B21EBAA591",
        "valid_from": "2024-05-02",
        "valid_till": "2025-06-02",
        "days_remaining": 327,
        "date_created": "2024-05-02T09:45:06+00:00",
        "server_platform": {"id": -1, "name": "OTHER", "install_url": "https://example.com"},
    },
    "status": "issued",
    "is_renewal": False,
    "is_renewed": False,
    "date_created": "2024-05-02T09:44:06+00:00",
    "date_issued": "2024-05-02T09:45:06+00:00",
    "organization": {
        "id": 334455,
        "name": "Real Organization, LLC",
        "assumed_name": "Real Organization",
        "display_name": "Real Organization, LLC (Real Organization)",
        "city": "Lehi",
        "state": "utah",
        "country": "us",
        "is_active": True,
    },
    "validity_years": 1,
    "container": {"id": 5, "name": "Example Container", "is_active": True},
    "product": {
        "name_id": "ssl_securesite",
        "name": "Secure Site SSL",
        "type": "ssl_certificate",
        "validation_type": "ov",
        "validation_name": "OV",
        "validation_description": "Normal Organization Validation",
    },
    "price": 399.0,
    "currency": "USD",
    "user": {"id": 15, "first_name": "Jill", "last_name": "Valentine", "email": "j@example.com"},
    "requests": [
        {
            "id": 9001,
            "date": "2024-05-02T09:44:06+00:00",
            "type": "new_request",
            "status": "approved",
            "comments": "ok",
        },
    ],
    "order_valid_from": "2024-05-02",
    "order_valid_till": "2025-05-02",
    "is_multi_year_plan": "1",
    "cs_provisioning_method": "none",
    "payment_method": "balance",
    "disable_renewal_notifications": False,
}

# The issued order as an answer of some later API vintage: ten keys no field knows at the
# top, three in its certificate. Today's models keep them (dc.unknown_fields); older
# ones dropped them. Both read it, so the cost of keeping them can be compared.
ORDER_WITH_UNKNOWN_KEYS: dict[str, Any] = {
    **copy.deepcopy(ORDER_ISSUED_FULL),
    **{f"added_later_{n}": {"n": n, "on": True} for n in range(10)},
}
ORDER_WITH_UNKNOWN_KEYS["certificate"].update(
    {"eku_profile": "server_auth", "ct_logged": True, "lint_warnings": []}
)

# DigiCert's documented subaccount order examples (GET /account/subaccount/order/{id}).
# The seed page's examples, as the tests keep them.
SEEDS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "seeds"
SUBACCOUNT_ISSUED: dict[str, Any] = json.loads(
    (SEEDS / "subaccount_order_issued.json").read_bytes()
)
SUBACCOUNT_MINIMAL: dict[str, Any] = json.loads(
    (SEEDS / "subaccount_order_minimal.json").read_bytes()
)


def _page(size: int) -> list[dict[str, Any]]:
    orders = []
    for index in range(size):
        order = copy.deepcopy(ORDER_PENDING)
        order["id"] = 100001 + index
        order["certificate"]["id"] = 500001 + index
        orders.append(order)
    return orders


CASES: list[tuple[str, Any, Any]] = [
    ("order info, pending (fake's shape)", ORDER_PENDING, dc.Order),
    ("order info, issued, most fields", ORDER_ISSUED_FULL, dc.Order),
    ("the same, 13 keys no field knows", ORDER_WITH_UNKNOWN_KEYS, dc.Order),
    ("subaccount order, issued (docs)", SUBACCOUNT_ISSUED, dc.SubaccountOrder),
    ("subaccount order, minimal (docs)", SUBACCOUNT_MINIMAL, dc.SubaccountOrder),
    ("listing page: 1,000 pending orders", _page(1000), list[dc.Order]),
]


def _decode(wire: bytes, model: Any) -> object:
    return dc.converter.structure(json.loads(wire), model)


def rate(work: Callable[[], object], seconds: float, repeats: int) -> float:
    """Calls per second, the median of ``repeats`` timed loops of about ``seconds`` each."""
    calls = 1
    while True:  # calibrate the loop length
        started = time.perf_counter()
        for _ in range(calls):
            work()
        took = time.perf_counter() - started
        if took >= seconds / 5:
            break
        calls *= 2
    calls = max(1, int(calls * seconds / took))
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(calls):
            work()
        rates.append(calls / (time.perf_counter() - started))
    return statistics.median(rates)


def main(quick: bool) -> None:
    seconds, repeats = (0.1, 3) if quick else (0.5, 7)
    header("bench_decode: structure vs json.loads, in process", quick, server=False)
    print(
        f"   median of {repeats} loops of ~{seconds:g} s each; payloads are bytes as on the"
        " wire; structure uses the runtime converter (dc.converter)"
    )
    print()
    converter = dc.converter
    rows = []
    for name, payload, model in CASES:
        wire = json.dumps(payload).encode()
        document = json.loads(wire)
        converter.structure(document, model)  # it must decode, and warm the hooks
        loads = rate(partial(json.loads, wire), seconds, repeats)
        structure = rate(partial(converter.structure, document, model), seconds, repeats)
        both = rate(partial(_decode, wire, model), seconds, repeats)
        rows.append(
            [
                name,
                f"{len(wire):,} B",
                f"{loads:,.0f}/s ({1e6 / loads:.1f} µs)",
                f"{structure:,.0f}/s ({1e6 / structure:.1f} µs)",
                f"{both:,.0f}/s ({1e6 / both:.1f} µs)",
                f"{loads / both:.2f}x",
            ]
        )
    table(
        [
            "payload",
            "size",
            "json.loads",
            "structure (parsed)",
            "json.loads + structure",
            "time vs loads alone",
        ],
        rows,
    )


def loop(case: int, calls: int) -> None:
    """Decode one payload ``calls`` times inside one ``functools.reduce`` (see --loop)."""
    _name, payload, model = CASES[case]
    document = json.loads(json.dumps(payload))
    for _ in range(3):  # hooks and fast paths built before the counted calls
        dc.converter.structure(document, model)
    structure = dc.converter.structure
    functools.reduce(lambda _, __: structure(document, model), range(calls), None)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smaller run (a smoke test)")
    parser.add_argument("--loop", nargs=2, type=int, metavar=("CASE", "CALLS"))
    return parser.parse_args()


if __name__ == "__main__":
    arguments = _arguments()
    if arguments.loop:
        loop(*arguments.loop)
    else:
        main(arguments.quick)
