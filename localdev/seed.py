"""Seed a deployed stage's tables with the local stack's demo data: ``make seed STAGE=sandbox``.

    python -m localdev.seed --stage sandbox [--schools 3000]

The sandbox is where lead providers try their integrations, as the real service runs it: it answers the
``X-With-Server-Date`` header (every stage but prod does) and holds demo data. This loads the same data as
``make run`` (``localdev.demo.load_demo``: lead providers, cohorts and statements, delivery partners, a generated
GIAS extract, partnerships, participants, declarations) the same way (the services, and batch writes of settled
records for the bulk of the partnerships and participants), into the stage's DynamoDB tables with the caller's AWS
credentials, and prints one API token per lead provider: they are shown once (only their hashes are stored), so
hand them over then. The stage's stream functions do on AWS what the local poller does: they see the settled
partnerships and find nobody to move, and move the POST example's participants once a provider reports it.

It refuses prod, any stage not in ``SEEDABLE``, and a stage that already has lead providers (seed once; to start
again, empty the tables). The tables come from the stage's stack (``make deploy``) and the token key from SSM.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from chalicelib import config
from chalicelib.domain.clock import utcnow
from chalicelib.repositories import storage
from chalicelib.services import providers, tokens
from localdev.demo import load_demo

SEEDABLE = ("sandbox", "dev")
DEFAULT_SCHOOLS = 3000


class Refused(Exception):
    pass


def configure(stage: str) -> config.Settings:
    """Point the services at a deployed stage: its tables and the token key in its SSM parameter."""
    if stage not in SEEDABLE:
        raise Refused(f"seeding {stage!r} is refused: demo data goes to {', '.join(SEEDABLE)} only")
    settings = config.configure(
        stage=stage,
        table_prefix=f"{config.APP_NAME}-{stage}",
        token_key=None,
        token_key_parameter=f"/{config.APP_NAME}/{stage}/token-hmac-key",
    )
    storage.bind()
    tokens.reset_key()
    return settings


def seed(stage: str, schools: int, say: Callable[[str], None] = print) -> dict[str, str]:
    """Load the demo data into ``stage``; returns lead provider name -> token."""
    configure(stage)
    existing = providers.list_lead_providers()
    if existing:
        raise Refused(f"{stage} already has {len(existing)} lead provider(s): it has been seeded")
    say(f"Seeding {config.APP_NAME}-{stage} with demo data ({schools} schools)...")
    result = load_demo(utcnow(), schools_count=schools, log=say)
    say(f"Done in {result.timings['total']:.0f}s. API tokens (shown once; only their hashes are stored):")
    for name, token in sorted(result.tokens.items()):
        say(f"  {name}: {token}")
    return result.tokens


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev.seed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", required=True, help=f"one of {', '.join(SEEDABLE)}")
    parser.add_argument("--schools", type=int, default=DEFAULT_SCHOOLS, help="schools in the generated GIAS extract")
    args = parser.parse_args(argv)
    try:
        seed(args.stage, args.schools)
    except Refused as refusal:
        print(f"localdev.seed: {refusal}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
