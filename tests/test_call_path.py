"""The path of one call is short and one-way, as ``docs/architecture.md`` tells it.

One ``client.orders.cancel`` against the fake over loopback is traced (every function of
the library entered, and which file called it), once answered at the first attempt and
once after a 503, with and without a hook. The layers are entered in order, each from
a layer above it only (those below the retry layer once per attempt; the send step,
when nobody listens, hands the request to the transport without a frame of its own,
so the transport's caller is then the rate limiter), and ``_decode`` only from the
client, at the end; every other file reached (values, checks, the clock, the events,
the exception tree, the limiter's state) is a side room that calls back into no layer.
The page's table of counts (files and hops on the path, files and crossings in all) is
the trace's, so that the page cannot go stale unseen.

``python -m tests.test_call_path [--retried]`` prints the trace: the files, and each
call that crosses from one file to another.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections import defaultdict
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

import digicert_async as dc
from digicert_async.testing import FakeCertCentral, Fault

# Each layer, and the function by which a call comes into it.
ENTRIES = {
    "resources/orders.py": "cancel",
    "_client.py": "call",
    "_retry.py": "__call__",
    "_ratelimit/_middleware.py": "__call__",
    "_send.py": "__call__",
    "_transport.py": "__call__",
}
LAYERS = list(ENTRIES)
OUTSIDE = "<outside>"
_PACKAGE = os.path.dirname(dc.__file__) + os.sep


def _ours(frame: FrameType | None) -> str | None:
    """The library file of ``frame`` (the test kit aside), or None."""
    if frame is None:
        return None
    path = frame.f_code.co_filename
    if not path.startswith(_PACKAGE) or f"{os.sep}testing{os.sep}" in path:
        return None
    return os.path.relpath(path, _PACKAGE).replace(os.sep, "/")


async def trace_cancel(retried: bool = False, hooked: bool = False) -> list[tuple[str, str, str]]:
    """(caller's file, callee's file, callee) for every function of the library first
    entered during one ``orders.cancel`` (a coroutine resumed is not entered again);
    ``retried``: its first attempt gets a 503; ``hooked``: a hook listens to answers."""
    calls: list[tuple[str, str, str]] = []
    # A resumed coroutine comes back in the frame it was first entered in. Each frame is
    # held until the trace ends, so that no later frame takes its id (f_lasti told this
    # apart up to Python 3.10, not after).
    entered: dict[int, FrameType] = {}

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event != "call" or id(frame) in entered:
            return
        entered[id(frame)] = frame
        callee = _ours(frame)
        if callee is not None:
            calls.append((_ours(frame.f_back) or OUTSIDE, callee, frame.f_code.co_name))

    async with FakeCertCentral(orders=2) as fake:
        retry = dc.RetryPolicy(backoff_initial=0.001, backoff_max=0.001)
        hooks = dc.Hooks(on_response=[lambda event: None] if hooked else [])
        async with dc.CertCentralClient(
            fake.api_key, base_url=fake.base_url, retry=retry, hooks=hooks
        ) as client:
            await client.orders.cancel(fake.order_ids[0], note="warm-up")
            if retried:
                fake.inject(Fault.SERVICE_UNAVAILABLE_HTML)
            sys.setprofile(profile)
            try:
                await client.orders.cancel(fake.order_ids[1], note="traced")
            finally:
                sys.setprofile(None)
    return calls


def _crossings(calls: list[tuple[str, str, str]]) -> dict[str, list[str]]:
    """For each file, the files it was called from (once a call)."""
    entered: dict[str, list[str]] = defaultdict(list)
    for caller, callee, _ in calls:
        if caller != callee:
            entered[callee].append(caller)
    return entered


def _entries(calls: list[tuple[str, str, str]], layer: str) -> int:
    return sum(1 for caller, callee, name in calls if callee == layer and name == ENTRIES[layer])


@pytest.mark.parametrize("hooked", [False, True], ids=["quiet", "hooked"])
@pytest.mark.parametrize("retried", [False, True], ids=["answered", "retried"])
async def test_each_layer_is_entered_from_above_once_per_attempt(
    retried: bool, hooked: bool
) -> None:
    calls = await trace_cancel(retried, hooked)
    entered = _crossings(calls)
    attempts = 2 if retried else 1
    for index, layer in enumerate(LAYERS):
        above = [OUTSIDE, *LAYERS[:index]]
        assert all(caller in above for caller in entered[layer]), (layer, entered[layer])
        below_retry = index > LAYERS.index("_retry.py")
        assert _entries(calls, layer) == (attempts if below_retry else 1), layer
    for layer, above in zip(LAYERS[:5], [OUTSIDE, *LAYERS[:4]], strict=True):
        assert set(entered[layer]) == {above}, layer  # down to the send step, one by one
    # Quiet, the send step hands the request over with no frame of its own.
    caller = "_send.py" if hooked else "_ratelimit/_middleware.py"
    assert set(entered["_transport.py"]) == {caller}


@pytest.mark.parametrize("retried", [False, True], ids=["answered", "retried"])
async def test_decode_is_reached_from_the_client_alone(retried: bool) -> None:
    entered = _crossings(await trace_cancel(retried))
    assert entered["_decode.py"] == ["_client.py"]


@pytest.mark.parametrize("retried", [False, True], ids=["answered", "retried"])
async def test_no_side_room_calls_into_a_layer(retried: bool) -> None:
    calls = await trace_cancel(retried)
    for caller, callee, name in calls:
        if callee in LAYERS and caller != callee:
            assert caller in (OUTSIDE, *LAYERS), f"{caller} calls {callee} {name}"


PATH = [*LAYERS, "_decode.py"]
ARCHITECTURE = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"


def counts(calls: list[tuple[str, str, str]]) -> dict[str, int]:
    """The figures docs/architecture.md gives for a traced call, by the row that gives them."""
    crossings = [(caller, callee) for caller, callee, _ in calls if caller != callee]
    return {
        "files on the path": len({callee for _, callee, _ in calls if callee in PATH}),
        "hops along the path": sum(
            1 for caller, callee in crossings if callee in PATH and caller in (OUTSIDE, *PATH)
        ),
        "files entered in all": len({callee for _, callee, _ in calls}),
        "calls from one file to another": len(crossings),
    }


def documented_counts() -> dict[str, tuple[int, int]]:
    """The rows of the page's table of counts: (answered, retried once) by row."""
    rows = {}
    for line in ARCHITECTURE.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[1].isdigit() and cells[2].isdigit():
            rows[cells[0]] = (int(cells[1]), int(cells[2]))
    return rows


async def test_the_architecture_page_gives_the_counts_of_the_trace() -> None:
    answered = counts(await trace_cancel(retried=False))
    retried = counts(await trace_cancel(retried=True))
    traced = {row: (answered[row], retried[row]) for row in answered}
    assert documented_counts() == traced, (
        "docs/architecture.md's table of counts is not the trace's any more: tell the path"
        f" as it now is (python -m tests.test_call_path), with these figures: {traced}"
    )


def main() -> None:
    calls = asyncio.run(trace_cancel(retried="--retried" in sys.argv))
    files = list(dict.fromkeys(callee for _, callee, _ in calls))
    crossings = [(caller, callee, name) for caller, callee, name in calls if caller != callee]
    for caller, callee, name in crossings:
        print(f"{caller:28} -> {callee:28} {name}")
    print(f"{len(files)} files, {len(crossings)} calls from one file to another,")
    print(", ".join(f"{row}: {count}" for row, count in counts(calls).items()))
    print(f"{len(calls)} functions entered: {', '.join(files)}")


if __name__ == "__main__":
    main()
