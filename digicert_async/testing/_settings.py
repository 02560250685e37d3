"""What ``FakeCertCentral``'s settings must be: each check raises a ``ValueError`` that
names the setting."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from ._types import Fault


def at_least_zero(**settings: float) -> None:
    """Refuse a negative value of any of ``settings`` (by name)."""
    for name, value in settings.items():
        if value < 0:
            raise ValueError(f"{name} must be >= 0")


def key_or_new(api_key: str | None) -> str:
    """``api_key``, or a new random key for None; an empty key is refused."""
    if api_key is None:
        return secrets.token_hex(16)
    if api_key == "":
        raise ValueError("api_key must not be empty")
    return api_key


def checked_faults(fault_rate: float, fault_kinds: Sequence[Fault]) -> tuple[Fault, ...]:
    """The kinds of fault to draw from, once ``fault_rate`` is known to be a probability."""
    if not 0.0 <= fault_rate <= 1.0:
        raise ValueError("fault_rate must be between 0 and 1")
    kinds = tuple(Fault(kind) for kind in fault_kinds)
    if fault_rate > 0 and not kinds:
        raise ValueError("fault_kinds must not be empty when fault_rate > 0")
    return kinds
