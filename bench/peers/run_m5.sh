#!/usr/bin/env bash
# Side-by-side M5 (COBA, N=4000, 1 s of biological time = 10,000 steps of
# 0.1 ms), alternating in one invocation so that all see the same machine
# load: Brian2 C++ standalone with its SpikeMonitor, GoMoNNto's example as
# a user runs it (`coba -n 4000 -duration 1s -json`: every spike recorded;
# wall_s is its simulation loop), and GoMoNNto's cpu benchmark with and
# without recording. Prints the medians and two ratios: the example's wall
# time over Brian2's run time (Brian2 2.5's standalone run time is
# std::clock(), process CPU time, which for its single thread is its wall
# time), and, as before, the benchmark's CPU time over Brian2's (<= 1.0
# meets the target of docs/targets.md). See bench/peers/README.md.
#
#   bench/peers/run_m5.sh
#
# Brian2 builds its standalone program once (bench/peers/brian2_coba.py,
# seed 1: code generation and g++ take ~15 s), then the compiled program is
# rerun REPEATS times; each run's loop time is device._last_run_time, read
# from results/last_run_info.txt. Each GoMoNNto repeat is one
# `go test -bench 'M5/cpu' -benchtime=10000x` run of the test binary (a
# 1000-step warm-up, then 10,000 timed steps).
#
# Environment: PYTHON (default /usr/bin/python3, Debian's python with
# python3-brian), REPEATS (default 5), DIR (Brian2 build directory; default
# a new temporary directory, removed afterwards).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
REPEATS=${REPEATS:-5}
tmp=$(mktemp -d /tmp/run_m5.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
DIR=${DIR:-$tmp/brian2}

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# Build (and run once) Brian2's standalone program for seed 1.
first=$("$PYTHON" "$here/brian2_coba.py" --mode standalone --seeds 1 --dir "$DIR")
echo "$first" | head -1
bdir="$DIR/seed1"
# Compile GoMoNNto's benchmark binary and the example once.
(cd "$root" && go test -c -o "$tmp/bench.test" ./bench && go build -o "$tmp/coba" ./examples/coba)

brian=() ours=() wall=() ex=() rec=()
for r in $(seq "$REPEATS"); do
	(cd "$bdir" && ./main >/dev/null)
	b=$(cut -d' ' -f1 "$bdir/results/last_run_info.txt")
	brian+=("$b")
	e=$("$tmp/coba" -n 4000 -duration 1s -json 2>/dev/null | tail -1 | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["wall_s"])')
	ex+=("$e")
	lines=$(cd "$root/bench" && "$tmp/bench.test" -test.run XXX -test.bench 'M5/cpu/' -test.benchtime=10000x | grep '^BenchmarkM5/cpu')
	line=$(echo "$lines" | grep -v '/rec')
	us=$(echo "$line" | sed -E 's/.* ([0-9.]+) us\/step.*/\1/')
	cus=$(echo "$line" | sed -E 's/.* ([0-9.]+) cpu-us\/step.*/\1/')
	rus=$(echo "$lines" | grep '/rec' | sed -E 's/.* ([0-9.]+) us\/step.*/\1/')
	ours+=("$cus")
	wall+=("$us")
	rec+=("$rus")
	echo "repeat $r: brian2 $b s / 10000 steps; example coba $e s; benchmark $us us/step ($cus CPU us/step), with recording $rus us/step" >&2
done

"$PYTHON" - "${brian[*]}" "${ours[*]}" "${wall[*]}" "${ex[*]}" "${rec[*]}" <<'PY'
import statistics, sys
b = [float(x) for x in sys.argv[1].split()]
o = [float(x) * 1e-6 * 1e4 for x in sys.argv[2].split()]  # us/step -> s per 10,000 steps
w = [float(x) * 1e-6 * 1e4 for x in sys.argv[3].split()]
e = [float(x) for x in sys.argv[4].split()]
r = [float(x) * 1e-6 * 1e4 for x in sys.argv[5].split()]
mb, mo, mw, me, mr = (statistics.median(x) for x in (b, o, w, e, r))
fmt = lambda xs: " ".join("%.3f" % x for x in xs)
print("M5 COBA n=4000, 1 s biological, medians of %d: brian2 standalone with SpikeMonitor %.4f s (all %s); "
      "gomonnto example (spikes recorded) wall %.4f s (all %s): ratio example/brian2 = %.2f; "
      "benchmark wall %.4f s without recording (all %s), %.4f s with (all %s): recording +%.1f%%; "
      "benchmark CPU time %.4f s (all %s): ratio CPU/brian2 = %.2f"
      % (len(b), mb, fmt(b), me, fmt(e), me / mb, mw, fmt(w), mr, fmt(r), 100 * (mr / mw - 1), mo, fmt(o), mo / mb))
PY
