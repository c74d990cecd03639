#!/usr/bin/env bash
# Screenshot an HTML report with headless Chromium: scripts/screenshot-report.sh FILE.html OUT.png
# Used by the report test to check the charts really render in a browser. Flags keep Chromium offline and
# quiet (no first-run, sync, component updates or background networking) and give it a throw-away profile.
# CHROMIUM overrides the binary (default: chromium, then chromium-browser); WINDOW_SIZE the viewport.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 FILE.html OUT.png" >&2
  exit 2
fi
html=$1
out=$2
if [[ ! -f "$html" ]]; then
  echo "$0: no such file: $html" >&2
  exit 2
fi

browser=${CHROMIUM:-}
if [[ -z "$browser" ]]; then
  for b in chromium chromium-browser; do
    if command -v "$b" >/dev/null 2>&1; then browser=$b; break; fi
  done
fi
if [[ -z "$browser" ]]; then
  echo "$0: chromium not found (set CHROMIUM to its path)" >&2
  exit 3
fi

abs_html=$(cd "$(dirname "$html")" && pwd)/$(basename "$html")
abs_out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
rm -f "$abs_out"

# Chromium prints harmless warnings (dbus, GPU) on stderr; keep them out of the way unless it fails.
log=$profile/chromium.log
if ! timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile/data" --window-size="${WINDOW_SIZE:-1400,3000}" \
  --screenshot="$abs_out" "file://$abs_html" >"$log" 2>&1; then
  cat "$log" >&2
  echo "$0: chromium failed" >&2
  exit 1
fi
if [[ ! -s "$abs_out" ]]; then
  cat "$log" >&2
  echo "$0: chromium wrote no screenshot" >&2
  exit 1
fi
echo "$abs_out"
