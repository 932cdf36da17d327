#!/usr/bin/env bash
# Renders a run's (or an experiment's) report.html in headless Chromium and checks it in the
# browser: the page loads, its charts are SVG elements of the DOM (the page's own load handler
# counts them into <html data-charts="N">), and the plots the report draws are there.
#
#   scripts/render_report.sh DIR [OUT.png]     (default OUT: DIR/report.png)
#
# Writes OUT.png (a 1280x4000 screenshot) and OUT.dom.html (the DOM after load); prints what it
# found; exits 1 when a check fails, 2 without Chromium (apt-get install -y chromium).
set -euo pipefail

dir=${1:?usage: scripts/render_report.sh DIR [OUT.png]}
page=$(realpath "$dir/report.html")
out=${2:-$dir/report.png}
dom=${out%.png}.dom.html
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [[ -z $browser ]]; then
    echo "no chromium on PATH (apt-get install -y chromium)" >&2
    exit 2
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
# No network, no first-run or background work: the page must render from the file alone.
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
    --disable-background-networking --disable-component-update --disable-sync
    --user-data-dir="$profile" --enable-logging=stderr --v=0)
timeout 120 "$browser" "${flags[@]}" --screenshot="$out" --window-size=1280,4000 \
    "file://$page" 2>"$profile/screenshot.log" >/dev/null
timeout 120 "$browser" "${flags[@]}" --dump-dom "file://$page" \
    >"$dom" 2>"$profile/dom.log"

fail=0
check() { # name, condition result
    if [[ $2 == ok ]]; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi
}
count() { { grep -o "$1" "$dom" || true; } | wc -l; }
in_file=$({ grep -o '<svg class="chart ' "$page" || true; } | wc -l)
loaded=$({ grep -o 'data-charts="[0-9]*"' "$dom" || true; } | head -1 | tr -dc 0-9)
check "page loaded, the browser counts ${loaded:-no} SVG charts (the file has $in_file)" \
    "$([[ -n $loaded && $loaded == "$in_file" && $in_file -gt 0 ]] && echo ok)"
errors=$(grep -h 'CONSOLE' "$profile"/*.log | grep -ci 'error' || true)
check "no console errors ($errors)" "$([[ $errors == 0 ]] && echo ok)"
for section in comparison winners forecasts; do
    check "section $section shown" "$(grep -q "<section id=\"$section\"><h2>" "$dom" && echo ok)"
done
forecast=$(count '<svg class="chart chart-forecast"')
bands=$(count '<polygon class="band band80"')
check "$forecast forecast charts with $bands 10-90% bands" \
    "$([[ $forecast -gt 0 && $bands -ge $forecast ]] && echo ok)"
for kind in chart-attention chart-training chart-bars tune-curves; do
    n=$(count "class=\"[^\"]*$kind")
    echo "     $kind: $n"
done
size=$(stat -c %s "$out" 2>/dev/null || echo 0)
check "screenshot $out ($size bytes)" "$([[ $size -gt 20000 ]] && echo ok)"
echo "DOM: $dom"
exit $fail
