#!/usr/bin/env bash
# Opens the quick-look index.html pages in headless Chromium: checks that each
# page loads, that every <img> on it decoded (the page records the count of
# loaded images on <body> at its load event), that nothing failed to load,
# and takes a screenshot of each page. Run by .ci/run; prints "skipped" and
# exits 0 when Chromium is not installed.
#
#   tests/chromium/screenshot.sh [RADARFLOW_BIN] [WORKDIR]
#
# Defaults: build/radarflow, build/test-tmp/chromium. It simulates the demo,
# processes it twice into a batch-like WORKDIR/batch/{demo,demo-os}, writes a
# summary.json in which demo is done, demo-os skipped, a third capture failed
# and a fourth interrupted, runs `radarflow quicklook` on the batch, and
# checks WORKDIR/batch/quicklook/index.html and
# WORKDIR/batch/demo/quicklook/index.html. Screenshots:
# WORKDIR/batch-index.png and WORKDIR/demo-index.png. In the batch index's
# screenshot the table rows are checked by their pixels: one green band
# (done), one neutral grey (skipped), one red (failed), one amber
# (interrupted) - the colours index.html's style gives them - and the line
# above the table counts those four rows.
set -euo pipefail

BIN=${1:-build/radarflow}
WORK=${2:-build/test-tmp/chromium}

CHROME=
for c in chromium chromium-browser google-chrome; do
  if command -v "$c" >/dev/null 2>&1; then CHROME=$(command -v "$c"); break; fi
done
if [ -z "$CHROME" ]; then
  echo "chromium screenshot test: skipped (chromium not installed)"
  exit 0
fi

rm -rf "$WORK"
mkdir -p "$WORK/batch"
WORK=$(cd "$WORK" && pwd)
"$BIN" simulate datasets/scenarios/demo.ini -o "$WORK/demo.h5" --seed 1 -q
"$BIN" process "$WORK/demo.h5" -o "$WORK/batch/demo" -q
"$BIN" process "$WORK/demo.h5" -o "$WORK/batch/demo-os" --set cfar.method=os -q
cat > "$WORK/batch/summary.json" <<'JSON'
{"captures": [
  {"name": "demo", "status": "done"},
  {"name": "demo-os", "status": "skipped"},
  {"name": "missing", "status": "failed", "error": "capture could not be read"},
  {"name": "late", "status": "interrupted", "error": "not run: the batch was interrupted"}]}
JSON
"$BIN" quicklook "$WORK/batch" -q
# The pixel counter (cairo, as radarflow's pictures).
cc -O2 -Wall tests/chromium/row_colours.c $(pkg-config --cflags --libs cairo) -o "$WORK/row_colours"

fail=0
# check PAGE SHOT: load the page, compare loaded and total images.
check() {
  local page=$1 shot=$2 name
  name=$(basename "$shot" .png)
  local dom="$WORK/$name.dom.html" log="$WORK/$name.log"
  local flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars
               --allow-file-access-from-files --virtual-time-budget=10000
               --user-data-dir="$WORK/profile" --enable-logging=stderr --v=0)
  "$CHROME" "${flags[@]}" --dump-dom "file://$page" >"$dom" 2>"$log" || true
  local imgs total loaded
  imgs=$(grep -o '<img ' "$page" | wc -l)
  total=$(grep -o 'data-images-total="[0-9]*"' "$dom" | grep -o '[0-9]*' || true)
  loaded=$(grep -o 'data-images-loaded="[0-9]*"' "$dom" | grep -o '[0-9]*' || true)
  if [ -z "$total" ] || [ "$total" != "$imgs" ] || [ "$loaded" != "$imgs" ] || [ "$imgs" -eq 0 ]; then
    echo "FAIL $page: $imgs <img> in the page, browser saw ${total:-?}, loaded ${loaded:-?}"
    fail=1
  fi
  if grep -E 'ERR_FILE_NOT_FOUND|Failed to load resource|Uncaught' "$log" >/dev/null; then
    echo "FAIL $page: browser errors:"
    grep -E 'ERR_FILE_NOT_FOUND|Failed to load resource|Uncaught' "$log" | head -5
    fail=1
  fi
  "$CHROME" "${flags[@]}" --window-size=1400,2400 --screenshot="$shot" "file://$page" \
    >>"$log" 2>&1 || true
  if [ ! -s "$shot" ] || [ "$(head -c 8 "$shot" | od -An -tx1 | tr -d ' \n')" != "89504e470d0a1a0a" ]; then
    echo "FAIL $page: no screenshot"
    fail=1
  else
    echo "ok   $page: $loaded of $imgs images loaded; screenshot $shot"
  fi
}
check "$WORK/batch/quicklook/index.html" "$WORK/batch-index.png"
check "$WORK/batch/demo/quicklook/index.html" "$WORK/demo-index.png"

# Row colours of the batch table, by pixels of the screenshot: index.html's
# st-good #dff3df, st-neutral #f2f2f2, st-bad #f8d7d7, st-warn #fdecc8.
if [ -s "$WORK/batch-index.png" ]; then
  bands=$("$WORK/row_colours" "$WORK/batch-index.png" dff3df f2f2f2 f8d7d7 fdecc8)
  want=$'dff3df 1\nf2f2f2 1\nf8d7d7 1\nfdecc8 1'
  if [ "$bands" != "$want" ]; then
    echo "FAIL batch index row colours: want one band each of green, grey, red, amber; got:"
    echo "$bands"
    fail=1
  else
    echo "ok   batch index rows: done green, skipped grey, failed red, interrupted amber (pixels)"
  fi
fi
if ! grep -q ': 4 captures: 1 done, 1 skipped, 1 failed, 1 interrupted; pictures of 2.' \
     "$WORK/batch/quicklook/index.html"; then
  echo "FAIL batch index: the line above the table does not count its four rows"
  grep -o '<p>Batch.*</p>' "$WORK/batch/quicklook/index.html" || true
  fail=1
fi
if [ "$fail" -ne 0 ]; then
  echo "chromium screenshot test: FAILED"
  exit 1
fi
echo "chromium screenshot test: passed"
