#!/usr/bin/env bash
# GPU measurements in two steps, for machines where Go is not installed
# (a lent GPU server) or where the build machine differs:
#
#   bash bench/gpu/gpu.sh build DIR    # here: compile the programs into DIR
#   bash bench/gpu/gpu.sh run DIR OUT  # on the GPU machine: run them, results in OUT
#
# "run" checks the gl backend against the cpu on PD14 (state after every step,
# scale 0.02), runs the gl test package and the checkpoint tests on gl
# (bit-identical resumes, gl <-> cpu), PD14 on gl at scale 0.1 and 1 (JSON
# lines with rtf, rates, build time, peak RSS; GPU memory sampled with
# nvidia-smi when present), a full-scale checkpoint's size, save and load
# time, and the gl benchmarks (with and without spike recording). The programs need libEGL
# (the EGL device platform finds NVIDIA GPUs without X) and, for the
# benchmarks' GLFW fallback, libX11. Each step has its own time limit, so a
# hung driver call costs minutes, not the whole run. SCALES (default "0.1 1")
# and BENCH (default /gl/, a -test.bench pattern) narrow the run.
set -uo pipefail
cmd=${1:-}
case "$cmd" in
build)
  dir=${2:?usage: gpu.sh build DIR}
  cd "$(dirname "$0")/../.."
  mkdir -p "$dir"
  go build -o "$dir/pd14" ./examples/pd14 &&
    go test -c -o "$dir/opengl.test" ./backend/opengl &&
    go test -c -o "$dir/pd14.test" ./models/pd14 &&
    go test -c -o "$dir/equations.test" ./equations &&
    go test -c -o "$dir/bench.test" ./bench &&
    go test -c -o "$dir/ui.test" ./ui &&
    go test -c -o "$dir/store.test" ./store || exit 1
  echo "built into $dir: pd14 opengl.test pd14.test equations.test bench.test store.test ui.test"
  ;;
run)
  dir=$(cd "${2:?usage: gpu.sh run DIR OUT}" && pwd)
  out=$(mkdir -p "${3:?usage: gpu.sh run DIR OUT}" && cd "$3" && pwd)
  cd "$(mktemp -d)"
  date -u | tee "$out/date.txt"
  command -v nvidia-smi >/dev/null && nvidia-smi -L | tee "$out/gpu.txt"
  step() { echo "== $*" >&2; }
  step "gl against cpu: PD14 state (scale 0.02) and weights"
  GOMONNTO_REQUIRE_GL=1 timeout 300 "$dir/pd14.test" -test.run 'TestPD14StateAcrossBackends|TestPD14Rates' -test.v >"$out/pd14.txt" 2>&1
  echo "rc=$?" >>"$out/pd14.txt"; grep -E '^(--- |ok|FAIL|rc=)' "$out/pd14.txt"
  step "synaptic equations on gl against Brian2 (pair STDP, STDP into LIF, gap junctions)"
  GOMONNTO_REQUIRE_GL=1 timeout 300 "$dir/equations.test" -test.run 'Brian2' -test.v >"$out/equations.txt" 2>&1
  echo "rc=$?" >>"$out/equations.txt"; grep -E '^(--- |ok|FAIL|rc=)' "$out/equations.txt" | tail -20
  step "gl test package"
  GOMONNTO_REQUIRE_GL=1 timeout 300 "$dir/opengl.test" -test.count=1 >"$out/opengl.txt" 2>&1
  echo "rc=$?" >>"$out/opengl.txt"; tail -3 "$out/opengl.txt"
  step "checkpoints on gl: bit-identical resumes, gl <-> cpu"
  GOMONNTO_REQUIRE_GL=1 timeout 600 "$dir/store.test" -test.run 'TestResume' -test.v >"$out/store.txt" 2>&1
  echo "rc=$?" >>"$out/store.txt"; grep -E '^(--- |ok|FAIL|rc=)' "$out/store.txt" | tail -20
  mon=""
  if command -v nvidia-smi >/dev/null; then
    (while true; do nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits >>"$out/gpu_mem_mib.txt"; sleep 1; done) &
    mon=$!
  fi
  for s in ${SCALES:-0.1 1}; do
    step "PD14 on gl, scale $s"
    timeout 600 "$dir/pd14" -backend gl -scale "$s" -duration 1s -json >"$out/pd14_gl_$s.json" 2>"$out/pd14_gl_$s.err"
    tail -1 "$out/pd14_gl_$s.err"
  done
  step "PD14 on gl, scale 1: a checkpoint written (size, time), loaded (-resume -steps 0)"
  timeout 600 "$dir/pd14" -backend gl -scale 1 -duration 100ms -json -checkpoint ck >"$out/pd14_gl_ckpt.json" 2>"$out/pd14_gl_ckpt.err"
  grep checkpoint: "$out/pd14_gl_ckpt.err"
  timeout 600 "$dir/pd14" -backend gl -scale 1 -resume ck -steps 0 -json >"$out/pd14_gl_resume.json" 2>"$out/pd14_gl_resume.err"
  grep resumed "$out/pd14_gl_resume.err"; rm -rf ck
  [ -n "$mon" ] && kill "$mon" && echo "peak GPU memory used (MiB): $(sort -n "$out/gpu_mem_mib.txt" | tail -1)"
  step "gl benchmarks"
  timeout 600 "$dir/bench.test" -test.run XXX -test.bench "${BENCH:-/gl/}" -test.benchtime 300x >"$out/bench_gl.txt" 2>&1
  grep Benchmark "$out/bench_gl.txt"
  step "PD14 on gl, scale 1: spike recording on and off in alternated blocks"
  timeout 600 "$dir/bench.test" -test.run XXX -test.bench 'PD14RecordAlternated/gl' -test.benchtime 1x -pd14.scale 1 >"$out/bench_pd14_rec.txt" 2>&1
  grep -E 'Benchmark|us/step' "$out/bench_pd14_rec.txt"
  step "UI on gl: frames and weights tests, serving cost (steps/s bare, no client, client, slow client)"
  GOMONNTO_ARTIFACTS="$out/ui-artifacts" timeout 300 "$dir/ui.test" -test.run 'TestStepsAndFrames/gl|TestWeightsRows/gl' -test.v >"$out/ui_gl.txt" 2>&1
  grep -E '^\s*(---|ok|FAIL|PASS)' "$out/ui_gl.txt"
  timeout 600 "$dir/bench.test" -test.run XXX -test.bench 'UIServe/gl' -test.benchtime 20000x >"$out/bench_ui_gl.txt" 2>&1
  grep Benchmark "$out/bench_ui_gl.txt"
  date -u
  ;;
*)
  echo "usage: gpu.sh build DIR | gpu.sh run DIR OUT" >&2
  exit 2
  ;;
esac
