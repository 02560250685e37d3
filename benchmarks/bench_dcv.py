"""A fleet whose domains went stale: ``reissue_orders(..., dcv=DcvDriver(...))`` of 1,000
issued orders, each on its own domain whose validation is past its reuse period, so that
every reissue waits for DCV and the job passes it (token, publish, check, unpublish).

DigiCert's windows scaled in time x0.1 to ``[(100, 0.5 s), (1000, 18.0 s)]`` on client and
fake, as ``bench_fleet``; the DCV schedule is scaled alike (the driver's ``sleep`` waits a
tenth of what it is asked: the first check 30 s after publishing is 3 s here). The fake's
DNS shows a record 4 s after it is published (40 s in DigiCert time): the first check
comes too early, is answered "pending", and the second finds it. Publishing goes to the
fake's DNS through its control server (as a DNS provider's API would take it).

Per order the least the job can send: GET the order, POST the reissue, PUT check-dcv
(already valid?), PUT dcv-method (the token), and a PUT check-dcv that finds the record:
5, or 6 with a check that came before the record was visible (when the rate limit
delays the first check past the propagation, it finds the record). The least time: the
windows' least for all those requests, and no less than the windows' least for the four
before publishing plus the schedule's two waits (3 s + 3 s) for the last order. DCV is
mostly waiting, so the job runs with ``concurrency`` equal to the orders (the rate limit
paces the requests whatever it is). Reported: requests per order (from the fake's log),
elapsed against that least time, the 429s, and whether every order was reissued and
validated once and every record removed. ``--quick`` runs 150 orders.

    python benchmarks/bench_dcv.py [--quick]
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from _common import header, least_possible, parse_args, table, verdict
from _fake_process import FakeProcess

import digicert_async as dc

TIME_SCALE = 0.1
WINDOWS = ((100, 0.5), (1000, 18.0))
BLOCK_SECONDS = 0.5
ORDERS = 1000
QUICK_ORDERS = 150
REUSE = 200 * 86400.0
PROPAGATION = 4.0  # real seconds the fake's DNS takes to show a record
LEAST_PER_ORDER = 5
NEEDED_PER_ORDER = 6  # with the check the schedule makes before the record is visible
TARGET_RATIO = 1.25
CSR = "-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE REQUEST-----\n"


async def run(orders: int, concurrency: int) -> dict[str, object]:
    names = [f"www.d{i}.example" for i in range(orders)]
    validation = {
        "dcv_required": True,
        "validation_reuse": REUSE,
        "dns_propagation": PROPAGATION,
        "issue_after": None,  # the wait for DigiCert to issue is not the client's
        "domains": [[f"d{i}.example", REUSE] for i in range(orders)],  # stale at once
        "issued": names,
    }
    async with FakeProcess(
        rate_limits=WINDOWS, block_seconds=BLOCK_SECONDS, validation=validation
    ) as fake:
        ids = await fake.ids()
        await fake.clear()

        async def publish(record: dc.DcvRecord) -> None:
            await fake.dns("publish", record)

        async def unpublish(record: dc.DcvRecord) -> None:
            await fake.dns("unpublish", record)

        async def scaled_sleep(seconds: float) -> None:
            await asyncio.sleep(seconds * TIME_SCALE)

        driver = dc.DcvDriver(publish=publish, unpublish=unpublish, sleep=scaled_sleep)
        async with dc.CertCentralClient(
            fake.api_key, base_url=fake.base_url, rate_limit=dc.RateLimit(windows=WINDOWS)
        ) as client:
            started = time.perf_counter()
            report = await dc.reissue_orders(
                client, dict.fromkeys(ids, CSR), concurrency=concurrency, dcv=driver
            )
            elapsed = time.perf_counter() - started
        log = await fake.log()
        stats = await fake.stats()
        left = await fake.dns_records()
    runs = Counter(r.dcv.outcome.value if r.dcv else "none" for r in report.results)
    checks = Counter(r.dcv.checks for r in report.results if r.dcv)
    by_kind = Counter(
        path.rsplit("/", 1)[-1] if method == "PUT" else method for method, path, _, _ in log
    )
    return {
        "orders": orders,
        "concurrency": concurrency,
        "elapsed": elapsed,
        "sent": len(log),
        "per_order": len(log) / orders,
        "by_kind": dict(by_kind),
        "server_429": stats["rate_limited"],
        "reissued": len(report.ids(dc.ReissueOutcome.REISSUED)),
        "runs": dict(runs),
        "checks": dict(sorted(checks.items())),
        "records_left": len(left),
        "reported_once": [r.order_id for r in report.results] == ids,
    }


async def main(quick: bool) -> None:
    orders = QUICK_ORDERS if quick else ORDERS
    concurrency = orders
    header(
        f"bench_dcv: reissue_orders(dcv=...) of {orders:,} orders whose domains went stale", quick
    )
    waits = 2 * 30 * TIME_SCALE  # the first check, and the one after it
    before_publishing = least_possible(orders * 4, WINDOWS)
    least = max(least_possible(orders * LEAST_PER_ORDER, WINDOWS), before_publishing + waits / 2)
    needed = max(least_possible(orders * NEEDED_PER_ORDER, WINDOWS), before_publishing + waits)
    print(
        f"   {orders} issued orders, each on its own stale domain; windows {list(WINDOWS)}"
        f" (DigiCert's x{TIME_SCALE:g}) on fake and client; DNS propagation {PROPAGATION:g} s,"
        f" first check after 30 s x{TIME_SCALE:g}; concurrency {concurrency}"
    )
    print(
        f"   least the windows allow: {least:.3f} s for {LEAST_PER_ORDER} requests per order"
        f" (the record found at the first check), {needed:.3f} s for {NEEDED_PER_ORDER} (one"
        " check too early)"
    )
    print()
    result = await run(orders, concurrency)
    elapsed = float(result["elapsed"])  # type: ignore[arg-type]
    # the least for what was sent: one check per order found the record, or two did
    sent_least = least if int(result["sent"]) <= orders * LEAST_PER_ORDER else needed  # type: ignore[call-overload]
    table(
        ["orders", "elapsed", "/ least (requests sent)", "/ least (5 per order)", "requests",
         "per order", "429s (server)", "reissued", "DCV runs", "checks per run",
         "records left", "reported once"],
        [[orders, f"{elapsed:.3f} s", f"{elapsed / sent_least:.3f}x", f"{elapsed / least:.3f}x",
          result["sent"], f"{result['per_order']:.2f}", result["server_429"],
          result["reissued"], result["runs"], result["checks"], result["records_left"],
          result["reported_once"]]],
    )  # fmt: skip
    print()
    print(f"requests by kind: {result['by_kind']}")
    ratio = elapsed / sent_least
    print(f"target elapsed <= {TARGET_RATIO}x least for the requests sent: {ratio:.3f}x"
          f" -> {verdict(ratio <= TARGET_RATIO)}")  # fmt: skip
    print(f"target 0 x 429: {verdict(result['server_429'] == 0)}")
    accounted = (
        result["reissued"] == orders
        and result["runs"] == {"validated": orders}
        and result["records_left"] == 0
        and result["reported_once"]
        and float(result["per_order"]) <= NEEDED_PER_ORDER  # type: ignore[arg-type]
    )
    print(
        f"every order reissued and validated once, every record removed, at most"
        f" {NEEDED_PER_ORDER} requests per order: {verdict(bool(accounted))}"
    )


if __name__ == "__main__":
    asyncio.run(main(parse_args(__doc__ or "").quick))
