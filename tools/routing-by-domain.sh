#!/usr/bin/env bash
# Per-domain routing of a model, measured by switchyard itself: for every validation text it runs
# `switchyard perplexity --trace` and `switchyard routes report`, then summarises the reports side by side
# (expert load per domain and layer, how much the expert choice tells about the domain, locality and cache
# figures) into a JSON file and an SVG heat map that tools/train/report.py puts into docs/bundled-model.md.
#   tools/routing-by-domain.sh [MODEL [VALID_DIR [OUT_JSON [OUT_SVG]]]]
# Defaults: the bundled model, its models/<name>.valid/ texts, models/<name>.routing.json and
# docs/img/<name>-routing.svg. The per-domain reports (report.html) stay in build/routing-by-domain/<domain>/.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-models/switchyard-moe-mini.q8_0.gguf}
name=$(basename "$model" .gguf)
name=${name%.*}  # drop the type suffix (.q8_0)
valid=${2:-models/$name.valid}
out_json=${3:-models/$name.routing.json}
out_svg=${4:-docs/img/$name-routing.svg}
work=build/routing-by-domain
[ -x build/switchyard ] || scripts/build.sh release >/dev/null
rm -rf "$work"
mkdir -p "$work" "$(dirname "$out_svg")"
for text in "$valid"/*.txt; do
  domain=$(basename "$text" .txt)
  echo "routing-by-domain: $domain"
  build/switchyard perplexity -m "$model" -f "$text" -t 2 --json --trace "$work/$domain.trace" \
    >"$work/$domain.ppl.json" 2>/dev/null
  build/switchyard routes report "$work/$domain.trace" -o "$work/$domain" >/dev/null
done
/usr/bin/python3 tools/train/domain_routing.py "$work" "$model" "$out_json" "$out_svg"
echo "routing-by-domain: wrote $out_json and $out_svg (per-domain HTML reports in $work/)"
