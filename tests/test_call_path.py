"""The path of one call is short and one-way, as ``docs/architecture.md`` tells it.

One ``client.orders.cancel`` against the fake over loopback is traced (every function of
the library entered, and which file called it), once answered at the first attempt and
once after a 503. The layers are entered in order, each from the one above it only
(those below the retry layer once per attempt), and ``_decode`` only from the client,
at the end; every other file reached (values, checks, the clock, the events, the
exception tree, the limiter's state) is a side room that calls back into no layer.

``python -m tests.test_call_path [--retried]`` prints the trace: the files, and each
call that crosses from one file to another.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections import defaultdict
from types import FrameType
from typing import Any

import pytest

import digicert_async as dc
from digicert_async.testing import FakeCertCentral, Fault

LAYERS = [
    "resources/orders.py",
    "_client.py",
    "_retry.py",
    "_ratelimit/_middleware.py",
    "_send.py",
    "_transport.py",
]
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


async def trace_cancel(retried: bool = False) -> list[tuple[str, str, str]]:
    """(caller's file, callee's file, callee) for every function of the library first
    entered during one ``orders.cancel`` (a coroutine resumed is not entered again);
    ``retried``: its first attempt gets a 503."""
    calls: list[tuple[str, str, str]] = []

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event != "call" or frame.f_lasti >= 0:
            return
        callee = _ours(frame)
        if callee is not None:
            calls.append((_ours(frame.f_back) or OUTSIDE, callee, frame.f_code.co_name))

    async with FakeCertCentral(orders=2) as fake:
        retry = dc.RetryPolicy(backoff_initial=0.001, backoff_max=0.001)
        async with dc.CertCentralClient(
            fake.api_key, base_url=fake.base_url, retry=retry
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
    entered: dict[str, list[str]] = defaultdict(list)
    for caller, callee, _ in calls:
        if caller != callee:
            entered[callee].append(caller)
    return entered


@pytest.mark.parametrize("retried", [False, True], ids=["answered", "retried"])
async def test_each_layer_is_entered_from_the_one_above(retried: bool) -> None:
    entered = _crossings(await trace_cancel(retried))
    attempts = 2 if retried else 1
    for above, layer in zip([OUTSIDE, *LAYERS], LAYERS, strict=False):
        below_retry = LAYERS.index(layer) > LAYERS.index("_retry.py")
        assert entered[layer] == [above] * (attempts if below_retry else 1), layer


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


def main() -> None:
    calls = asyncio.run(trace_cancel(retried="--retried" in sys.argv))
    files = list(dict.fromkeys(callee for _, callee, _ in calls))
    crossings = [(caller, callee, name) for caller, callee, name in calls if caller != callee]
    for caller, callee, name in crossings:
        print(f"{caller:28} -> {callee:28} {name}")
    print(f"{len(files)} files, {len(crossings)} calls from one file to another,")
    print(f"{len(calls)} functions entered: {', '.join(files)}")


if __name__ == "__main__":
    main()
