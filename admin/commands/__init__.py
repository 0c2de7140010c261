"""The command groups of ``ecf-admin``, one module each. Every handler calls the services and renders the result."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from admin.commands import (
    api_requests,
    changes,
    finance,
    importing,
    participants,
    partnerships,
    providers,
    schools,
    tokens,
)

if TYPE_CHECKING:
    from admin.parser import Commands

# In the order ``--help`` lists them.
GROUPS: tuple[Callable[[Any, Commands], None], ...] = (
    importing.register,
    providers.register_lead_providers,
    tokens.register,
    providers.register_delivery_partners,
    schools.register,
    partnerships.register,
    participants.register,
    finance.register,
    changes.register,
    api_requests.register,
)


def register_all(commands: Any, add: Commands) -> None:
    for register in GROUPS:
        register(commands, add)
