#!/usr/bin/env bash
# Rebuild components/vendor/plotly-eujp.min.js: plotly.js with only the trace types the
# dashboard draws (a third of the full bundle's size). Run after a plotly upgrade: the
# version in package.json (and the banner) must equal the plotly.js that Python's `plotly`
# bundles (tests/test_plotlyjs_bundle.py checks it). A chart of a new trace type needs the
# type added to index.js.
set -euo pipefail
cd "$(dirname "$0")"
npm install --no-audit --no-fund
npm run build
rm -f ../../components/vendor/plotly-eujp.min.css  # map styles esbuild pulls out; unused
