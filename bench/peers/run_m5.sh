#!/usr/bin/env bash
# Side-by-side M5 (COBA, N=4000, 1 s of biological time = 10,000 steps of
# 0.1 ms): Brian2 C++ standalone and GoMoNNto's cpu benchmark, alternating
# in one invocation so that both see the same machine load; prints the
# medians and the ratio ours/Brian2 of the time per biological second (the
# real-time factor; <= 1.0 meets performance.md's target). Brian2 2.5's
# standalone run time is std::clock(), i.e. process CPU time; the ratio is
# therefore taken against GoMoNNto's CPU time (cpu-us/step: user + system
# time of all threads over the timed steps), and GoMoNNto's wall-clock
# time is printed beside it. See bench/peers/README.md.
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
# Compile GoMoNNto's benchmark binary once.
(cd "$root" && go test -c -o "$tmp/bench.test" ./bench)

brian=() ours=() wall=()
for r in $(seq "$REPEATS"); do
	(cd "$bdir" && ./main >/dev/null)
	b=$(cut -d' ' -f1 "$bdir/results/last_run_info.txt")
	brian+=("$b")
	line=$(cd "$root/bench" && "$tmp/bench.test" -test.run XXX -test.bench 'M5/cpu/' -test.benchtime=10000x | grep '^BenchmarkM5/cpu')
	us=$(echo "$line" | sed -E 's/.* ([0-9.]+) us\/step.*/\1/')
	cus=$(echo "$line" | sed -E 's/.* ([0-9.]+) cpu-us\/step.*/\1/')
	ours+=("$cus")
	wall+=("$us")
	echo "repeat $r: brian2 $b s CPU / 10000 steps; gomonnto cpu backend $cus CPU us/step, $us wall us/step" >&2
done

"$PYTHON" - "${brian[*]}" "${ours[*]}" "${wall[*]}" <<'PY'
import statistics, sys
b = [float(x) for x in sys.argv[1].split()]
o = [float(x) * 1e-6 * 1e4 for x in sys.argv[2].split()]  # us/step -> s per 10,000 steps
w = [float(x) * 1e-6 * 1e4 for x in sys.argv[3].split()]
mb, mo, mw = statistics.median(b), statistics.median(o), statistics.median(w)
fmt = lambda xs: " ".join("%.3f" % x for x in xs)
print("M5 COBA n=4000, 1 s biological (CPU time): brian2 standalone %.4f s (RTF %.3f, median of %d; all %s), "
      "gomonnto cpu %.4f s (RTF %.3f, median of %d; all %s); ratio ours/brian2 = %.2f; "
      "gomonnto wall clock %.4f s (all %s)"
      % (mb, mb, len(b), fmt(b), mo, mo, len(o), fmt(o), mo / mb, mw, fmt(w)))
PY
