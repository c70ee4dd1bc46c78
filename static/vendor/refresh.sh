#!/usr/bin/env bash
# Refreshes the vendored front-end assets from the npm registry (make vendor).
# Versions are pinned here and recorded in static/vendor/VERSIONS.md; nothing is fetched at run time.
set -euo pipefail

KRDS=1.1.0
PRETENDARD=1.3.9
HTMX=2.0.11
UPLOT=1.6.32

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund --ignore-scripts \
  "krds-uiux@$KRDS" "pretendard-gov@$PRETENDARD" "htmx.org@$HTMX" "uplot@$UPLOT" >/dev/null
nm="$work/node_modules"

rm -rf "$here/krds-uiux" "$here/pretendard-gov" "$here/htmx.org" "$here/uplot"

# KRDS: design tokens, the component stylesheet and the icons it references (relative paths kept).
mkdir -p "$here/krds-uiux/css/token" "$here/krds-uiux/css/component" "$here/krds-uiux/img/component"
cp "$nm/krds-uiux/resources/css/token/krds_tokens.css" "$here/krds-uiux/css/token/"
cp "$nm/krds-uiux/resources/css/component/output.css" "$here/krds-uiux/css/component/"
cp -r "$nm/krds-uiux/resources/img/component/icon" "$here/krds-uiux/img/component/"
cp "$nm/krds-uiux/package.json" "$here/krds-uiux/"

# Pretendard GOV: the KS X 1001 subset (all 2,350 common Hangul syllables) in three weights, and its licence.
mkdir -p "$here/pretendard-gov"
for w in Regular Medium Bold; do
  cp "$nm/pretendard-gov/dist/web/static/woff2-subset/PretendardGOV-$w.subset.woff2" "$here/pretendard-gov/"
done
cp "$nm/pretendard-gov/dist/LICENSE.txt" "$here/pretendard-gov/"
cp "$nm/pretendard-gov/package.json" "$here/pretendard-gov/"

mkdir -p "$here/htmx.org"
cp "$nm/htmx.org/dist/htmx.min.js" "$nm/htmx.org/LICENSE" "$nm/htmx.org/package.json" "$here/htmx.org/"

mkdir -p "$here/uplot"
cp "$nm/uplot/dist/uPlot.iife.min.js" "$nm/uplot/dist/uPlot.min.css" "$nm/uplot/LICENSE" "$nm/uplot/package.json" "$here/uplot/"

echo "vendored: krds-uiux $KRDS, pretendard-gov $PRETENDARD, htmx.org $HTMX, uplot $UPLOT"
