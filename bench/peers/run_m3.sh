#!/usr/bin/env bash
# Side-by-side M3 (PymoNNto classic Izhikevich, 1000 neurons): the PymoNNto
# peer, then GoMoNNto's cpu benchmark, in one invocation; prints the ratio of
# the medians of us/step (peer / ours). See bench/peers/README.md.
#
#   PYMONNTO_PATH=/tmp/pymonnto bench/peers/run_m3.sh
#
# Environment: PYMONNTO_PATH (default /tmp/pymonnto), PYTHON (default
# /usr/bin/python3, Debian's python with numpy 1.x), REPEATS (default 5: peer
# repeats and go -count), STEPS (peer timed steps, default 1000).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export PYMONNTO_PATH=${PYMONNTO_PATH:-/tmp/pymonnto}
PYTHON=${PYTHON:-/usr/bin/python3}
REPEATS=${REPEATS:-5}
STEPS=${STEPS:-1000}

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2

peer_json=$("$PYTHON" "$here/pymonnto_m3.py" --ne 800 --ni 200 --steps "$STEPS" --repeats "$REPEATS")
echo "$peer_json"

go_out=$(cd "$root" && go test ./bench -run XXX -bench 'M3/cpu/n=1000/' -benchtime=3000x -count="$REPEATS")
echo "$go_out"

PEER_JSON="$peer_json" GO_OUT="$go_out" "$PYTHON" - <<'EOF'
import json, os, re, statistics, sys
peer = json.loads(os.environ["PEER_JSON"])
ours = [float(m.group(1)) for line in os.environ["GO_OUT"].splitlines()
        if line.startswith("BenchmarkM3/cpu/n=1000/SxD")
        for m in [re.search(r"([0-9.]+) us/step", line)] if m]
if not ours:
    sys.exit("run_m3.sh: no 'BenchmarkM3/cpu/n=1000/SxD ... us/step' line in go test output")
go = statistics.median(ours)
p = peer["us_per_step"]
print("M3 n=1000: pymonnto %.1f us/step (median of %d x %d steps), gomonnto cpu (SxD) %.1f us/step "
      "(median of %d x 3000 steps); ratio peer/ours = %.2fx"
      % (p, peer["repeats"], peer["steps"], go, len(ours), p / go))
EOF
