"""The deployable template: hand-written fragments merged before `chalice package`, monitoring completed after it.

    python -m tools.stack_template merge OUT FRAGMENT...      combine infra/*.json into one merge template
    python -m tools.stack_template finish SAM --stage STAGE    complete chalice's sam.json in place

``merge``: `chalice package --merge-template` takes one file, so the fragments (``infra/template.json``: tables,
streams, roles; ``infra/monitoring.json``: alarm topic, access logs, API alarms, on-failure destinations) are
deep-merged into one. Two fragments may add to the same resource (say ``RestAPI``), but a value set differently in
two of them is an error: nothing is overridden silently.

``finish`` (on the packaged template, where every resource finally exists, Chalice's functions included):

* the ``Stage`` parameter accepts only the stage packaged (its stage settings, such as reserved concurrency, are
  baked into the functions), and defaults to it;
* every SQS queue, function, stream function and table gets the alarms ``tools/stack_alarms.py`` describes unless
  a fragment already has one on the same metric and resource (so a new queue, function or table is covered
  without a line of template, and a hand-written alarm with a specific runbook wins);
* the dashboard (``tools/stack_alarms.dashboard``);
* every alarm notifies the stack's ``AlarmTopic`` on ALARM and OK: a fragment's alarm needs no actions (a list of
  actions is kept and the topic added; anything else, such as a conditional, is replaced);
* the cfn-lint suppressions ``tools/stack_lint.py`` verifies (dead-letter queues, function log groups).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

from tools import stack_alarms, stack_lint

ALARM_TYPE = "AWS::CloudWatch::Alarm"
TOPIC = "AlarmTopic"
TOPIC_REF = {"Ref": TOPIC}


class Conflict(Exception):
    """Two fragments set one value differently."""


# --------------------------------------------------------------------------- merge


def deep_merge(base: dict[str, Any], addition: dict[str, Any], where: str = "") -> dict[str, Any]:
    """``base`` with ``addition`` merged in: objects merge key by key; any other value must be equal in both."""
    merged = copy.deepcopy(base)
    for key, value in addition.items():
        path = f"{where}.{key}" if where else key
        if key not in merged:
            merged[key] = copy.deepcopy(value)
        elif isinstance(merged[key], dict) and isinstance(value, dict):
            merged[key] = deep_merge(merged[key], value, path)
        elif merged[key] != value:
            raise Conflict(f"{path}: {json.dumps(merged[key])[:200]} != {json.dumps(value)[:200]}")
    return merged


def merge_fragments(paths: list[Path]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for path in paths:
        try:
            merged = deep_merge(merged, json.loads(path.read_text()))
        except Conflict as error:
            raise Conflict(f"{path.name} disagrees with an earlier fragment at {error}") from error
    return merged


# --------------------------------------------------------------------------- finish


def pin_stage(template: dict[str, Any], stage: str) -> None:
    parameter = template["Parameters"]["Stage"]
    if stage not in parameter["AllowedValues"]:
        raise ValueError(f"stage {stage!r} is not one of the template's {parameter['AllowedValues']}")
    parameter["AllowedValues"] = [stage]
    parameter["Default"] = stage


def _with_topic(actions: Any) -> list[Any]:
    if isinstance(actions, list):
        return actions if TOPIC_REF in actions else [*actions, TOPIC_REF]
    return [TOPIC_REF]


def notify_topic(template: dict[str, Any]) -> None:
    if TOPIC not in template["Resources"]:
        raise ValueError(f"the template has no {TOPIC} (infra/monitoring.json)")
    for resource in template["Resources"].values():
        if resource.get("Type") == ALARM_TYPE:
            properties = resource["Properties"]
            properties["AlarmActions"] = _with_topic(properties.get("AlarmActions"))
            properties["OKActions"] = _with_topic(properties.get("OKActions"))


def add_resources(template: dict[str, Any], resources: dict[str, dict[str, Any]]) -> None:
    clashes = sorted(set(resources) & set(template["Resources"]))
    if clashes:
        raise Conflict(f"generated resources clash with the template's: {clashes}")
    template["Resources"].update(resources)


def finish(template: dict[str, Any], stage: str) -> dict[str, Any]:
    finished = copy.deepcopy(template)
    pin_stage(finished, stage)
    add_resources(finished, stack_alarms.missing_alarms(finished))
    add_resources(finished, {stack_alarms.DASHBOARD: stack_alarms.dashboard(finished)})
    notify_topic(finished)
    stack_lint.add_verified_suppressions(finished)
    return finished


# --------------------------------------------------------------------------- command line


def _write(path: Path, template: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(template, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    merge = commands.add_parser("merge", help="combine fragments into one merge template")
    merge.add_argument("out", type=Path)
    merge.add_argument("fragments", type=Path, nargs="+")
    done = commands.add_parser("finish", help="complete a packaged sam.json in place")
    done.add_argument("sam", type=Path)
    done.add_argument("--stage", required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == "merge":
            _write(args.out, merge_fragments(args.fragments))
        else:
            _write(args.sam, finish(json.loads(args.sam.read_text()), args.stage))
    except (Conflict, ValueError) as error:
        print(f"stack_template {args.command}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
