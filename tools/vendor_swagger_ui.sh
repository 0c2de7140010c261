#!/usr/bin/env bash
# Vendor the Swagger UI files the API documentation pages serve into chalicelib/static/swagger-ui/:
#
#   bash tools/vendor_swagger_ui.sh 5.36.0
#
# From the npm package swagger-ui-dist (Swagger UI's own prebuilt dist; `npm pack` checks the tarball against
# the registry's integrity hash). Only the two files the page loads, the licences and SHA256SUMS are kept:
# the bundle needs no other file (no source maps, no standalone preset, no ES bundles). Not run by `make test`;
# tests/test_docs_pages.py checks the files against SHA256SUMS.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION="${1:?usage: tools/vendor_swagger_ui.sh VERSION (of the npm package swagger-ui-dist)}"
DEST="chalicelib/static/swagger-ui"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

(cd "$WORK" && npm pack --silent "swagger-ui-dist@$VERSION" >/dev/null && tar xzf "swagger-ui-dist-$VERSION.tgz")
rm -rf "$DEST"
mkdir -p "$DEST"
for name in swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE swagger-ui-bundle.js.LICENSE.txt; do
    cp "$WORK/package/$name" "$DEST/$name"
done
echo "$VERSION" > "$DEST/VERSION"
(cd "$DEST" && sha256sum swagger-ui-bundle.js swagger-ui.css > SHA256SUMS)
echo "vendored swagger-ui-dist $VERSION into $DEST:"
ls -l "$DEST"
