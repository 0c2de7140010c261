#!/usr/bin/env bash
# Build the deployable CloudFormation (SAM) template and Lambda zip into out/, then check the template.
#
#   bash infra/package.sh [chalice-stage]     (default: dev; works from any directory)
#
# `chalice package` writes out/sam.json and out/deployment.zip, deep-merging infra/template.json into
# sam.json (tables, stream wiring, the real IAM policies, DLQ, alarms). Deploy with
# `aws cloudformation package` + `aws cloudformation deploy --parameter-overrides Stage=<stage>` (README).
set -euo pipefail
cd "$(dirname "$0")/.."

STAGE="${1:-dev}"
case "$STAGE" in
    dev | test | prod) ;;  # the template's Stage AllowedValues; chalice itself accepts any name
    *) echo "infra/package.sh: unknown stage '$STAGE' (dev, test or prod)" >&2; exit 2 ;;
esac
OUT="out"
PYTHON=".venv/bin/python"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-eu-west-2}"

# Packaging talks to no AWS endpoint; an override left by the local stack must not leak into it.
for name in $(env | sed -n 's/^\(AWS_ENDPOINT_URL[A-Za-z0-9_]*\)=.*/\1/p'); do
    unset "$name"
done

rm -rf "$OUT"
.venv/bin/chalice package --stage "$STAGE" --merge-template infra/template.json "$OUT"
test -s "$OUT/sam.json"
test -s "$OUT/deployment.zip"

# cfn-lint validates SAM resources against SAM's schema without running the transform, so it does not
# see a Ref/GetAtt to a missing resource inside a function's Events (e.g. a misspelled stream table).
# Check every reference here, and that each merged resource still has a Type (a merge onto a resource
# Chalice no longer generates leaves a typeless fragment).
"$PYTHON" - "$OUT/sam.json" <<'PY'
import json, re, sys

template = json.load(open(sys.argv[1]))
names = set(template["Resources"]) | set(template.get("Parameters", {}))
errors = [f"{lid}: no Type (merge target missing)" for lid, r in template["Resources"].items() if "Type" not in r]


def check(node, where):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str) and not value.startswith("AWS::") and value not in names:
                errors.append(f"{where}: Ref {value}")
            elif key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) else value.split(".")[0]
                if target not in names:
                    errors.append(f"{where}: Fn::GetAtt {target}")
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                local = set(value[1]) if isinstance(value, list) else set()
                for ref in re.findall(r"\$\{([^}!]+)\}", text):
                    base = ref.split(".")[0]
                    if not base.startswith("AWS::") and base not in names | local:
                        errors.append(f"{where}: Fn::Sub ${{{ref}}}")
            check(value, where)
    elif isinstance(node, list):
        for item in node:
            check(item, where)


for section in ("Resources", "Outputs", "Conditions"):
    for lid, body in template.get(section, {}).items():
        check(body, f"{section}.{lid}")
if errors:
    sys.exit("unresolved references in sam.json:\n  " + "\n  ".join(errors))
PY

.venv/bin/cfn-lint "$OUT/sam.json"
echo "packaged $OUT/sam.json and $OUT/deployment.zip ($(du -h "$OUT/deployment.zip" | cut -f1)) for stage $STAGE"
