#!/usr/bin/env bash
# docs-shots.sh [BUILD] — screenshots of the documentation site in a real
# browser (Debian's chromium, headless), at desktop and phone widths, to look
# at what a reader sees.  `make docs-shots` builds the site, installs
# chromium if it is missing (root) and runs this.
#
# Writes BUILD/docs/shots/PAGE-WIDTHxHEIGHT.png for the main page, a chapter
# and a file page of a step.  Nothing is fetched: the pages are local files.
set -euo pipefail
build=${1:-build}
html=$(cd "$build/docs/html" && pwd -P)
out="$build/docs/shots"
mkdir -p "$out"
browser=$(command -v chromium || command -v chromium-browser || true)
[[ -n $browser ]] || { echo "docs-shots: chromium is not installed: sudo make docs-shots installs it" >&2; exit 1; }

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
pages=(index md_steps_07_netns_README steps/05-cgroups/cgroups_8cpp)
for page in "${pages[@]}"; do
    [[ -f $html/$page.html ]] || { echo "docs-shots: $html/$page.html is missing" >&2; exit 1; }
    for size in 1366x900 390x844; do
        png="$out/${page//\//-}-$size.png"
        # --no-sandbox: chromium refuses to run as root otherwise.
        "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
            --disable-background-networking --disable-component-update --disable-sync \
            --hide-scrollbars --virtual-time-budget=5000 --user-data-dir="$profile" --screenshot="$png" \
            --window-size="${size/x/,}" "file://$html/$page.html" >/dev/null 2>&1
        echo "docs-shots: $png"
    done
done
