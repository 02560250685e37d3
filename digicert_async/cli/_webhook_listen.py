"""``poll --webhook-port N``: a :class:`~digicert_async.WebhookReceiver` listening while the
poll runs, so that DigiCert's pushed events wake it.

The listener speaks plain HTTP on ``--webhook-host`` (loopback by default): DigiCert
posts only to a public https endpoint, so a TLS proxy in front of it forwards the POSTs
here. The secret is read from ``DIGICERT_WEBHOOK_SECRET`` only, as the API key is read
from the environment only.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, TypeVar

from ._terminal import UsageError

if TYPE_CHECKING:
    from .._config import Secret
    from ..webhooks import WebhookReceiver

__all__ = ["SECRET_ENV", "add_webhook_options", "listening", "webhook_secret"]

SECRET_ENV = "DIGICERT_WEBHOOK_SECRET"

_Item = TypeVar("_Item")


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 1 to 65535, not {port}")
    return port


def add_webhook_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--webhook-port",
        type=_port,
        metavar="N",
        help="listen for DigiCert's webhook events on port N while polling (plain HTTP; put"
        f" your https proxy in front); the secret is read from {SECRET_ENV}. A pushed event"
        " wakes the poll for its order; the interval's looks go on as without it",
    )
    parser.add_argument(
        "--webhook-host",
        default="127.0.0.1",
        metavar="HOST",
        help="with --webhook-port: the address to listen on (default: 127.0.0.1)",
    )


def webhook_secret() -> Secret:
    """The secret from the environment, checked and held so that it never shows; a
    :class:`UsageError` (nothing sent) when it is unset or not a usable secret (never
    quoting it)."""
    from .. import ValidationError
    from .._config import Secret
    from ..models.webhooks import check_webhook_secret

    held = Secret(os.environ.get(SECRET_ENV, ""))
    if not held.reveal():
        raise UsageError(f"--webhook-port needs the webhook's secret in {SECRET_ENV}")
    try:
        check_webhook_secret(SECRET_ENV, held.reveal())
    except ValidationError as exc:
        raise UsageError(str(exc)) from None
    return held


async def listening(
    receiver: WebhookReceiver, host: str, port: int, items: AsyncIterator[_Item]
) -> AsyncIterator[_Item]:
    """``items``, while ``receiver`` answers POSTs on ``host:port`` (any path)."""
    from aiohttp import web

    app = web.Application()
    app.router.add_post("/{path:.*}", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        async for item in items:
            yield item
    finally:
        await receiver.close()
        await runner.cleanup()
