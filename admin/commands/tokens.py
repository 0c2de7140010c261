"""``tokens create``: a lead provider's API token, shown once."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from admin import arguments, texts
from admin.context import Context, Output
from chalicelib.services import tokens

if TYPE_CHECKING:
    from admin.parser import Commands


def cmd_tokens_create(args: argparse.Namespace, ctx: Context) -> Output:
    issued = tokens.create_token(args.lead_provider, ctx.now)
    ctx.err.write(texts.TOKEN_WARNING + "\n")
    data = {
        "token": issued.token,
        "lead_provider_id": issued.lead_provider_id,
        "lead_provider_name": issued.lead_provider_name,
        "created_at": ctx.now,
    }
    text = texts.TOKEN_ISSUED.format(name=issued.lead_provider_name, id=issued.lead_provider_id, token=issued.token)
    return Output(data, text)


def register(commands: Any, add: Commands) -> None:
    actions = add.group(commands, "tokens", texts.TOKENS, texts.TOKENS_EXAMPLE)
    p = add.add(actions, "create", cmd_tokens_create, texts.TOKENS_CREATE, texts.TOKENS_EXAMPLE)
    p.add_argument(
        "lead_provider", metavar="LEAD_PROVIDER_NAME", type=arguments.name, help=texts.HELP_TOKEN_LEAD_PROVIDER
    )
