"""The vocabulary of the fake's endpoint modules: the parsed request, the answer, route
tables, lookups and the pieces of DigiCert's error bodies.

An endpoint is a synchronous function of the account's state (``FakeAccount``) and the parsed
request (``Call``) that returns ``(status, payload)``. It answers an error by raising
``Rejected``, which the lookups here do for what is missing (``find_order``, ``found``), so no
endpoint repeats a "find it or answer 404" preamble. Each resource group keeps its endpoints
in a module-level ``Routes`` table; ``FakeCertCentral`` mounts every table on aiohttp's router
below ``API_ROOT`` and runs every request through one wrapper (key, rate limit, faults,
recording) before the endpoint.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from ._state import FakeAccount, JSONDict, StoredOrder

API_ROOT = "/services/v2"

Answer = tuple[int, Any]
"""``(HTTP status, JSON payload or None for an empty body)``."""


def error(status: int, *errors: tuple[str, str]) -> Answer:
    """A DigiCert-shaped error answer: ``{"errors": [{"code", "message"}, ...]}``."""
    return status, {"errors": [{"code": code, "message": message} for code, message in errors]}


def required(name: str) -> tuple[str, str]:
    """The error entry for a missing parameter."""
    return f"required_param:{name}", f"{name} is required."


def invalid(name: str, detail: str = "") -> tuple[str, str]:
    """The error entry for a parameter with a value DigiCert does not accept."""
    return f"invalid_value:{name}", f"Invalid value for {name}.{' ' + detail if detail else ''}"


def non_empty_text(value: Any) -> bool:
    """A string with something besides white space."""
    return isinstance(value, str) and value.strip() != ""


class Rejected(Exception):
    """Raised by an endpoint to answer with DigiCert's error body instead of its result."""

    def __init__(self, status: int, *errors: tuple[str, str]) -> None:
        super().__init__(status, errors)
        self.answer: Answer = error(status, *errors)


_SHOWN_KEY = 40  # a serial number's 40 hex digits; a longer key is cut in the message


def not_found(kind: str, key: object) -> Rejected:
    """DigiCert's 404 for a missing ``kind`` (``not_found|order``, ``not_found|note``...)."""
    shown = str(key)
    if len(shown) > _SHOWN_KEY:
        shown = shown[:_SHOWN_KEY] + "..."
    return Rejected(404, (f"not_found|{kind}", f"{kind.capitalize()} {shown} was not found."))


_T = TypeVar("_T")


def found(value: _T | None, kind: str, key: object) -> _T:
    """``value``, or a 404 ``not_found|<kind>`` for ``key`` when it is ``None``."""
    if value is None:
        raise not_found(kind, key)
    return value


@dataclass(frozen=True, slots=True)
class Call:
    """One request as an endpoint sees it."""

    method: str
    path: str
    """The whole path, ``/services/v2`` included."""
    params: Mapping[str, str]
    """The route's path parameters, e.g. ``{"order_id": "100001"}``."""
    query: Mapping[str, str]
    """Query parameters; ``items()`` yields a repeated parameter once per value."""
    body: bytes

    def json_object(self) -> JSONDict:
        """The body as a JSON object (an empty body is ``{}``); else a 400 ``invalid_json``."""
        if not self.body.strip():
            return {}
        try:
            data = json.loads(self.body)
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than the stack
            raise Rejected(400, ("invalid_json", "The request body is not valid JSON.")) from None
        if not isinstance(data, dict):
            raise Rejected(400, ("invalid_json", "The request body must be a JSON object."))
        return data


def find_order(store: FakeAccount, call: Call, *, subaccount: bool = False) -> StoredOrder:
    """The order named by the route's ``{order_id}``, or a 404 ``not_found|order``.

    With ``subaccount=True`` only an order placed by a subaccount counts as found, as on the
    ``/account/subaccount`` routes.
    """
    order_id = int(call.params["order_id"])
    order = store.orders.get(order_id)
    if order is None or (subaccount and order.subaccount is None):
        raise not_found("order", order_id)
    return order


MAX_LIMIT = 1000


def page_window(call: Call) -> tuple[int, int, list[tuple[str, str]]]:
    """``offset`` and ``limit`` of a listing request (``limit`` at most ``MAX_LIMIT``, 1000
    when left out), and the problems found with them (DigiCert answers those with 400)."""
    query = call.query
    problems: list[tuple[str, str]] = []
    offset = limit = 0
    try:
        offset = int(query.get("offset", "0"))
        if offset < 0:
            raise ValueError
    except ValueError:
        problems.append(invalid("offset", "offset must be a whole number from 0."))
    try:
        limit = int(query.get("limit", str(MAX_LIMIT)))
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError
    except ValueError:
        problems.append(invalid("limit", f"limit must be from 1 to {MAX_LIMIT}."))
    return offset, limit, problems


Endpoint = Callable[[FakeAccount, Call], Answer]
_E = TypeVar("_E", bound=Endpoint)


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    """An aiohttp path pattern below ``API_ROOT``: ``/order/certificate/{order_id:\\d+}``."""
    endpoint: Endpoint


class Routes:
    """One resource group's route table, filled by decorating its endpoints.

    Where two patterns can match the same path (``{order_id:\\d+}`` and ``{product}``), the
    method tells them apart; aiohttp tries them in the order they were added.
    """

    def __init__(self) -> None:
        self._routes: list[Route] = []

    def __iter__(self) -> Iterator[Route]:
        return iter(self._routes)

    def route(self, method: str, path: str) -> Callable[[_E], _E]:
        def register(endpoint: _E) -> _E:
            self._routes.append(Route(method, path, endpoint))
            return endpoint

        return register

    def get(self, path: str) -> Callable[[_E], _E]:
        return self.route("GET", path)

    def post(self, path: str) -> Callable[[_E], _E]:
        return self.route("POST", path)

    def put(self, path: str) -> Callable[[_E], _E]:
        return self.route("PUT", path)


MAX_ID_DIGITS = 20
"""No object of the account has a longer id: a longer ``{..._id}`` names nothing (and
Python's ``int()`` refuses strings past 4,300 digits)."""


def _check_ids(call: Call) -> None:
    """A 404 ``not_found|<kind>`` for a ``{<kind>_id}`` too long to be anything's id."""
    for name, value in call.params.items():
        if name.endswith("_id") and len(value) > MAX_ID_DIGITS:
            raise not_found(name.removesuffix("_id"), value)


def run_endpoint(endpoint: Endpoint, store: FakeAccount, call: Call) -> Answer:
    """Run one endpoint; a ``Rejected`` becomes its error answer."""
    try:
        _check_ids(call)
        return endpoint(store, call)
    except Rejected as rejected:
        return rejected.answer


def no_route(store: FakeAccount, call: Call) -> Answer:
    """DigiCert's answer to a path or method it has no route for."""
    path = call.path
    if path == API_ROOT or path.startswith(API_ROOT + "/"):
        where = f"{call.method} {path[len(API_ROOT) :]}"
    else:
        where = path
    return error(404, ("not_found|route", f"No route matches {where}."))


def tidy_path(path: str) -> str | None:
    """``path`` without stray slashes around the part below ``API_ROOT``, if it has any.

    The fake has always read ``/services/v2/order/certificate/`` (and ``//order/...``) like
    the path without them; the router sees such a path only when nothing matched as sent.
    """
    if not path.startswith(API_ROOT + "/"):
        return None
    below = path[len(API_ROOT) :]
    trimmed = below.strip("/")
    if not trimmed or "/" + trimmed == below:
        return None
    return f"{API_ROOT}/{trimmed}"
