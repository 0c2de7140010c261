"""``lead-providers add|list`` and ``delivery-partners add|relate``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from admin import arguments, texts
from admin.context import Context, Output
from admin.output import labelled, table
from chalicelib.services import providers

if TYPE_CHECKING:
    from admin.parser import Commands


def provider_names() -> dict[str, str]:
    """Lead provider id → name, for showing names where records hold ids."""
    return {p.id: p.name for p in providers.list_lead_providers()}


def cmd_lead_providers_add(args: argparse.Namespace, ctx: Context) -> Output:
    provider = providers.add_lead_provider(args.name, ctx.now)
    data = {"id": provider.id, "name": provider.name, "created_at": provider.created_at}
    return Output(data, texts.LEAD_PROVIDER_ADDED + "\n" + labelled(data))


def cmd_lead_providers_list(args: argparse.Namespace, ctx: Context) -> Output:
    found = providers.list_lead_providers()
    rows = [{"id": p.id, "name": p.name, "created_at": p.created_at} for p in found]
    if not rows:
        return Output({"lead_providers": []}, texts.NO_LEAD_PROVIDERS.format(prog=texts.PROG))
    text = table(["id", "name", "created at"], [(r["id"], r["name"], r["created_at"]) for r in rows])
    return Output({"lead_providers": rows}, text)


def cmd_delivery_partners_add(args: argparse.Namespace, ctx: Context) -> Output:
    partner = providers.add_delivery_partner(args.name, args.lead_provider, args.cohort, ctx.now)
    data = {
        "id": partner.id,
        "name": partner.name,
        "lead_provider": args.lead_provider,
        "cohorts": sorted(set(args.cohort)),
        "created_at": partner.created_at,
    }
    return Output(data, texts.DELIVERY_PARTNER_ADDED + "\n" + labelled(data))


def cmd_delivery_partners_relate(args: argparse.Namespace, ctx: Context) -> Output:
    added = providers.relate_delivery_partner(args.delivery_partner_id, args.lead_provider, args.cohort, ctx.now)
    data = {
        "delivery_partner_id": args.delivery_partner_id,
        "lead_provider": args.lead_provider,
        "cohorts_added": sorted(added),
        "cohorts_already_related": sorted(set(args.cohort) - set(added)),
    }
    return Output(data, texts.DELIVERY_PARTNER_RELATED + "\n" + labelled(data))


def register_lead_providers(commands: Any, add: Commands) -> None:
    actions = add.group(commands, "lead-providers", texts.LEAD_PROVIDERS, texts.LEAD_PROVIDERS_EXAMPLE)
    p = add.add(actions, "add", cmd_lead_providers_add, texts.LEAD_PROVIDERS_ADD, texts.LEAD_PROVIDERS_ADD_EXAMPLE)
    p.add_argument("name", metavar="NAME", type=arguments.name, help=texts.HELP_LEAD_PROVIDER_NAME)
    add.add(actions, "list", cmd_lead_providers_list, texts.LEAD_PROVIDERS_LIST, texts.LEAD_PROVIDERS_LIST_EXAMPLE)


def _partner_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--lead-provider", metavar="LP_NAME", required=True, type=arguments.name, help=texts.HELP_DP_LEAD_PROVIDER
    )
    p.add_argument(
        "--cohort", metavar="YEAR", type=arguments.year, action="append", required=True, help=texts.HELP_COHORTS
    )


def register_delivery_partners(commands: Any, add: Commands) -> None:
    actions = add.group(commands, "delivery-partners", texts.DELIVERY_PARTNERS, texts.DELIVERY_PARTNERS_EXAMPLE)
    p = add.add(
        actions, "add", cmd_delivery_partners_add, texts.DELIVERY_PARTNERS_ADD, texts.DELIVERY_PARTNERS_ADD_EXAMPLE
    )
    p.add_argument("name", metavar="NAME", type=arguments.name, help=texts.HELP_DELIVERY_PARTNER_NAME)
    _partner_options(p)
    p = add.add(
        actions,
        "relate",
        cmd_delivery_partners_relate,
        texts.DELIVERY_PARTNERS_RELATE,
        texts.DELIVERY_PARTNERS_RELATE_EXAMPLE,
    )
    p.add_argument("delivery_partner_id", metavar="DELIVERY_PARTNER_ID", help=texts.HELP_DELIVERY_PARTNER_ID)
    _partner_options(p)
