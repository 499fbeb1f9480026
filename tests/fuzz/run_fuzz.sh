#!/bin/sh
# Run a libFuzzer target for a bounded time on a scratch copy of its seed
# corpus (the committed corpus is never written to), or report why it cannot.
#
#   run_fuzz.sh run BINARY CORPUS_DIR WORK_DIR SECONDS [DICT]
#   run_fuzz.sh skip REASON
#
# A skip exits 77 (ctest's skip code here), or fails under CI=true, where
# every test must really run (as tempo_test_skip does).
set -eu

if [ "$1" = skip ]; then
  echo "SKIP: $2" >&2
  if [ "${CI:-}" = true ]; then
    echo "FAIL: would skip, but CI=true" >&2
    exit 1
  fi
  exit 77
fi

bin=$2 corpus=$3 work=$4 seconds=$5 dict=${6:-}
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
cp "$corpus"/* "$work/corpus/"
set -- -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/"
if [ -n "$dict" ]; then
  set -- "$@" -dict="$dict"
fi
# Findings are written to $work/artifacts; the exit status says whether any.
exec "$bin" "$@" "$work/corpus"
