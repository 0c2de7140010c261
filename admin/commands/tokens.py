"""``tokens create`` (a lead provider's API token, shown once), ``tokens list`` and ``tokens revoke``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from admin import arguments, texts
from admin.context import Context, Output
from admin.output import table
from chalicelib.domain.tokens import ApiToken
from chalicelib.services import tokens

if TYPE_CHECKING:
    from admin.parser import Commands


def cmd_tokens_create(args: argparse.Namespace, ctx: Context) -> Output:
    issued = tokens.create_token(args.lead_provider, ctx.now)
    ctx.err.write(texts.TOKEN_WARNING + "\n")
    data = {
        "token": issued.token,
        "token_id": issued.token_id,
        "lead_provider_id": issued.lead_provider_id,
        "lead_provider_name": issued.lead_provider_name,
        "created_at": ctx.now,
    }
    text = texts.TOKEN_ISSUED.format(
        name=issued.lead_provider_name, id=issued.lead_provider_id, token=issued.token, token_id=issued.token_id
    )
    return Output(data, text)


def _shown(token: ApiToken) -> dict[str, Any]:
    """What an admin may see of a token: never the token, never its hash."""
    return {
        "token_id": token.token_id,
        "lead_provider_name": token.lead_provider_name,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "revoked_at": token.revoked_at,
    }


def cmd_tokens_list(args: argparse.Namespace, ctx: Context) -> Output:
    found = [_shown(t) for t in tokens.list_tokens(args.lead_provider)]
    if not found:
        return Output({"tokens": []}, texts.NO_TOKENS.format(name=args.lead_provider, prog=texts.PROG))
    columns = ("token_id", "created_at", "last_used_at", "revoked_at")
    text = table(["token id", "created", "last used", "revoked"], [[t[c] for c in columns] for t in found])
    return Output({"tokens": found}, text)


def cmd_tokens_revoke(args: argparse.Namespace, ctx: Context) -> Output:
    revoked = tokens.revoke_token(args.token_id, ctx.now)
    text = texts.TOKEN_REVOKED.format(token_id=revoked.token_id, name=revoked.lead_provider_name)
    return Output(_shown(revoked), text)


def register(commands: Any, add: Commands) -> None:
    actions = add.group(commands, "tokens", texts.TOKENS, texts.TOKENS_EXAMPLE)
    p = add.add(actions, "create", cmd_tokens_create, texts.TOKENS_CREATE, texts.TOKENS_EXAMPLE)
    p.add_argument(
        "lead_provider", metavar="LEAD_PROVIDER_NAME", type=arguments.name, help=texts.HELP_TOKEN_LEAD_PROVIDER
    )
    p = add.add(actions, "list", cmd_tokens_list, texts.TOKENS_LIST, texts.TOKENS_LIST_EXAMPLE)
    p.add_argument("lead_provider", metavar="LEAD_PROVIDER_NAME", type=arguments.name, help=texts.HELP_TOKENS_OF)
    p = add.add(actions, "revoke", cmd_tokens_revoke, texts.TOKENS_REVOKE, texts.TOKENS_REVOKE_EXAMPLE)
    p.add_argument("token_id", metavar="TOKEN_ID", help=texts.HELP_TOKEN_ID)
