#!/usr/bin/env bash
# Refreshes the vendored front-end assets from the npm registry (make vendor).
# Versions are pinned here and recorded in static/vendor/VERSIONS.md; nothing is fetched at run time.
set -euo pipefail

KRDS=1.1.0
PRETENDARD=1.3.9
UPLOT=1.6.32

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund --ignore-scripts \
  "krds-uiux@$KRDS" "pretendard-gov@$PRETENDARD" "uplot@$UPLOT" >/dev/null
nm="$work/node_modules"

rm -rf "$here/krds-uiux" "$here/pretendard-gov" "$here/uplot"

# KRDS: design tokens, the component stylesheet and the icons it references (relative paths kept).
mkdir -p "$here/krds-uiux/css/token" "$here/krds-uiux/css/component" "$here/krds-uiux/img/component"
cp "$nm/krds-uiux/resources/css/token/krds_tokens.css" "$here/krds-uiux/css/token/"
cp "$nm/krds-uiux/resources/css/component/output.css" "$here/krds-uiux/css/component/"
cp -r "$nm/krds-uiux/resources/img/component/icon" "$here/krds-uiux/img/component/"
cp "$nm/krds-uiux/package.json" "$here/krds-uiux/"

# Pretendard GOV: the variable font in its dynamic subsets (every modern Hangul syllable, Latin, symbols),
# one woff2 per unicode-range, so a page downloads only the pieces its text uses; and its licence.
mkdir -p "$here/pretendard-gov/woff2-dynamic-subset"
cp "$nm/pretendard-gov/dist/web/variable/pretendardvariable-gov-dynamic-subset.css" "$here/pretendard-gov/"
cp "$nm/pretendard-gov/dist/web/variable/woff2-dynamic-subset/"*.woff2 "$here/pretendard-gov/woff2-dynamic-subset/"
cp "$nm/pretendard-gov/dist/LICENSE.txt" "$here/pretendard-gov/"
cp "$nm/pretendard-gov/package.json" "$here/pretendard-gov/"

mkdir -p "$here/uplot"
cp "$nm/uplot/dist/uPlot.iife.min.js" "$nm/uplot/dist/uPlot.min.css" "$nm/uplot/LICENSE" "$nm/uplot/package.json" "$here/uplot/"

# The pages load portal.css, the rules of output.css they can match (cmd/krdscss).
(cd "$here/../.." && go run ./cmd/krdscss)

echo "vendored: krds-uiux $KRDS, pretendard-gov $PRETENDARD, uplot $UPLOT"
