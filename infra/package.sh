#!/usr/bin/env bash
# Build the deployable CloudFormation (SAM) template and Lambda zips for one stage, then check them.
#
#   bash infra/package.sh [stage] [out-dir]     (default: dev, out; works from any directory)
#
# 1. tools/stack_template.py merge: the hand-written fragments (FRAGMENTS) into one merge template;
# 2. `chalice package --merge-template`: out/sam.json, out/deployment.zip (app.py, chalicelib/) and
#    out/layer-deployment.zip (requirements.txt, as a layer: .chalice/config.json automatic_layer), arm64, the
#    runtime of this Python;
# 3. tools/stack_template.py finish: the generated alarms and dashboard, the Stage parameter pinned to this stage;
# 4. tools/slim_package.py: botocore's models for the services the app calls only, bytecode for what a cold start
#    imports, and the 5 MB budget for both zips together;
# 5. the reference check below and cfn-lint, with the cfn-lint-serverless rules.
# Deploy with `make deploy STAGE=<stage>` (tools/deploy.py; docs/operations.md).
set -euo pipefail
cd "$(dirname "$0")/.."

STAGE="${1:-dev}"
case "$STAGE" in
    dev | test | sandbox | prod) ;;  # the template's Stage AllowedValues; chalice itself accepts any name
    *) echo "infra/package.sh: unknown stage '$STAGE' (dev, test, sandbox or prod)" >&2; exit 2 ;;
esac
OUT="${2:-out}"
FRAGMENTS=(infra/template.json infra/monitoring.json)
SCRATCH="$(mktemp -d)"
trap 'rm -rf "$SCRATCH"' EXIT
MERGED="$SCRATCH/merge-template.json"
PYTHON=".venv/bin/python"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-eu-west-2}"

# Packaging talks to no AWS endpoint; an override left by the local stack must not leak into it.
for name in $(env | sed -n 's/^\(AWS_ENDPOINT_URL[A-Za-z0-9_]*\)=.*/\1/p'); do
    unset "$name"
done

rm -rf "$OUT"
"$PYTHON" -m tools.stack_template merge "$MERGED" "${FRAGMENTS[@]}"
.venv/bin/chalice package --stage "$STAGE" --merge-template "$MERGED" "$OUT"
test -s "$OUT/sam.json"
test -s "$OUT/deployment.zip"
test -s "$OUT/layer-deployment.zip"
"$PYTHON" -m tools.stack_template finish "$OUT/sam.json" --stage "$STAGE"
"$PYTHON" -m tools.slim_package "$OUT" --stage "$STAGE"

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

# cfn-lint-serverless: Serverless Rules (awslabs/serverless-rules). A finding is fixed or suppressed on its resource
# (Metadata cfn-lint ignore_checks) with the reason next to it; docs/operations.md lists them.
.venv/bin/cfn-lint -a cfn_lint_serverless.rules -- "$OUT/sam.json"
echo "$STAGE" > "$OUT/stage"
echo "packaged $OUT/sam.json, $OUT/deployment.zip and $OUT/layer-deployment.zip for stage $STAGE"
