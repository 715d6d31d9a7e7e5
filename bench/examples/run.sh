#!/usr/bin/env bash
# The examples against their benchmarks with recording: each example as a
# user runs it (its -json wall_s: the simulation loop, spikes recorded)
# beside the /rec benchmark of the same model and size (the loop after a
# warm-up) times the example's steps, alternating, REPEATS times each
# (default 3), medians and their ratio (example / benchmark; issue 13 asks
# for <= 1.15). BACKEND (default cpu).
#
#   bash bench/examples/run.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
REPEATS=${REPEATS:-3}
BACKEND=${BACKEND:-cpu}
tmp=$(mktemp -d /tmp/examples_vs_bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$root"
go build -o "$tmp/" ./examples/...
go test -c -o "$tmp/bench.test" ./bench
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), backend $BACKEND" >&2
# example | its arguments | steps | benchmark (-test.bench pattern, /rec) | benchmark steps
cases=(
  "basic||1000|M1/$BACKEND/n=100/rec|3000"
  "lif||1000|M2/$BACKEND/n=1000/SxD/rec|3000"
  "izhikevich||1000|M3/$BACKEND/n=1000/SxD/rec|3000"
  "izhikevich2003||1000|M4/$BACKEND/n=1000/SxD/rec|3000"
  "coba|-n 4000 -duration 1s|10000|M5/$BACKEND/n=4000/rec|10000"
  "lifstdp|-n 10000|300|M6/$BACKEND/n=10000/rec|300"
  "izhstdp|-n 10000|300|M7/$BACKEND/n=10000/rec|300"
  "sorn||5000|M8/$BACKEND/ne=200/rec|3000"
  "pd14|-scale 0.1|10000|PD14/$BACKEND/scale=0.1/rec|3000"
)
printf "| example | steps | example wall_s (median) | benchmark /rec us/step (median) | benchmark x steps | ratio |\n|---|---|---|---|---|---|\n"
for c in "${cases[@]}"; do
  IFS='|' read -r ex args steps pat bsteps <<<"$c"
  ews=() bus=()
  for r in $(seq "$REPEATS"); do
    # shellcheck disable=SC2086
    w=$("$tmp/$ex" -backend "$BACKEND" $args -steps "$steps" -json 2>/dev/null | tail -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["wall_s"])')
    ews+=("$w")
    u=$(cd bench && "$tmp/bench.test" -test.run XXX -test.bench "^Benchmark${pat%%/*}\$/${pat#*/}\$" -test.benchtime "${bsteps}x" | grep "/rec" | sed -E 's/.* ([0-9.]+) us\/step.*/\1/' | head -1)
    bus+=("$u")
  done
  python3 - "$ex" "$steps" "${ews[*]}" "${bus[*]}" <<'PY'
import statistics, sys
ex, steps = sys.argv[1], int(sys.argv[2])
e = [float(x) for x in sys.argv[3].split()]
b = [float(x) for x in sys.argv[4].split()]
me, mb = statistics.median(e), statistics.median(b)
print("| %s | %d | %.4f (%s) | %.2f (%s) | %.4f | %.2f |" % (ex, steps, me, " ".join("%.4f" % x for x in e), mb, " ".join("%.2f" % x for x in b), mb * steps * 1e-6, me / (mb * steps * 1e-6)))
PY
done
