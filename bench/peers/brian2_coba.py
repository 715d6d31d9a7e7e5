#!/usr/bin/env python3
"""M5 in Brian2: the COBA benchmark (Brette et al. 2007, benchmark 1;
Vogels & Abbott 2005), as GoMoNNto's models.COBA (see
docs/models.md, M5).

N = 4000 neurons, the first 80% excitatory (E) and the rest inhibitory (I),
every ordered pair (self-pairs included) connected independently with
probability p = 80/N (0.02 at N = 4000). Conductance-based LIF with
exponentially decaying conductances in units of the leak conductance:

    dv/dt  = (-(v - E_L) + ge*(E_e - v) + gi*(E_i - v)) / tau_m  (unless refractory)
    dge/dt = -ge / tau_e
    dgi/dt = -gi / tau_i

tau_m = 20 ms, E_L = -60 mV, V_th = -50 mV, V_reset = -60 mV, refractory
5 ms, E_e = 0 mV, E_i = -80 mV, tau_e = 5 ms, tau_i = 10 ms. A spike adds
0.6 to ge (E source) or 6.7 to gi (I source) of its targets, without delay.
Initial v ~ N(-65, 5) mV, ge ~ N(4, 1.5), gi ~ N(20, 12). Forward Euler,
dt = 0.1 ms; 1 s of biological time = 10,000 steps.

Brian2's schedule per step: the state update (Euler; v frozen while
refractory), the threshold v > V_th (and-ed with not_refractory), the
synaptic increments of this step's spikes, then the reset v = V_reset.

Each seed is its own run (in standalone mode its own build directory: Brian2
2.5 cannot change the seed of a compiled standalone program). One JSON line
per seed, then one summary line (mean and sd across seeds) on stdout:

    /usr/bin/python3 bench/peers/brian2_coba.py --mode standalone --seeds 1-10

Statistics: firing rate in Hz (spikes / (neurons * duration)), overall and
per population, and the mean over neurons with at least 3 spikes of the ISI
coefficient of variation (std/mean of the inter-spike intervals, population
std, ddof=0). wall_s is the run alone: device._last_run_time in C++
standalone mode (no code generation, compilation, or network construction;
a SpikeMonitor records during the run; Brian2 2.5 measures it with
std::clock(), i.e. process CPU time, not wall-clock time), and the wall
time of the run() call in runtime mode.
"""
import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings

warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import brian2  # noqa: E402
from brian2 import (NeuronGroup, SpikeMonitor, Synapses, defaultclock,  # noqa: E402
                    device, ms, mV, prefs, run, seed, set_device, start_scope)


def parse_seeds(s):
    out = []
    for part in s.split(","):
        if "-" in part:
            lo, hi = part.split("-")
            out.extend(range(int(lo), int(hi) + 1))
        else:
            out.append(int(part))
    return out


def stats(steps, idx, n0, n1, duration_s):
    """Rate (Hz), mean ISI CV of neurons n0..n1-1, spikes, CV neurons."""
    n = n1 - n0
    sel = (idx >= n0) & (idx < n1)
    count = int(sel.sum())
    rate = count / (n * duration_s)
    cvs = []
    t, i = steps[sel], idx[sel]
    order = np.lexsort((t, i))
    t, i = t[order], i[order]
    bounds = np.flatnonzero(np.diff(i)) + 1
    for ts in np.split(t, bounds):
        if len(ts) >= 3:
            isi = np.diff(ts).astype(np.float64)
            cvs.append(isi.std() / isi.mean())
    cv = float(np.mean(cvs)) if cvs else float("nan")
    return rate, cv, count, len(cvs)


def run_one(args, s, workdir):
    if args.mode == "standalone":
        set_device("cpp_standalone", directory=workdir, build_on_run=True,
                   with_output=False)
        if args.threads > 0:
            prefs.devices.cpp_standalone.openmp_threads = args.threads
    else:
        prefs.codegen.target = args.target
    start_scope()
    defaultclock.dt = 0.1 * ms
    seed(s)
    n = args.n
    ne = n * 4 // 5
    p = 80.0 / n
    taum, taue, taui = 20 * ms, 5 * ms, 10 * ms
    El, Vt, Vr = -60 * mV, -50 * mV, -60 * mV
    Ee, Ei = 0 * mV, -80 * mV
    ns = {"taum": taum, "taue": taue, "taui": taui, "El": El, "Vt": Vt,
          "Vr": Vr, "Ee": Ee, "Ei": Ei}
    eqs = """
    dv/dt = (-(v - El) + ge*(Ee - v) + gi*(Ei - v)) / taum : volt (unless refractory)
    dge/dt = -ge / taue : 1
    dgi/dt = -gi / taui : 1
    """
    P = NeuronGroup(n, eqs, threshold="v > Vt", reset="v = Vr",
                    refractory=5 * ms, method="euler", namespace=ns, name="coba")
    P.v = "-65*mV + 5*mV*randn()"
    P.ge = "4 + 1.5*randn()"
    P.gi = "20 + 12*randn()"
    Ce = Synapses(P, P, on_pre="ge_post += 0.6", name="ce")
    Ci = Synapses(P, P, on_pre="gi_post += 6.7", name="ci")
    Ce.connect(condition="i < %d" % ne, p=p)
    Ci.connect(condition="i >= %d" % ne, p=p)
    M = SpikeMonitor(P)
    t0 = time.perf_counter()
    run(args.duration * ms)
    wall = time.perf_counter() - t0
    if args.mode == "standalone":
        wall = float(device._last_run_time)
    steps = np.asarray(M.t / (0.1 * ms)).round().astype(np.int64)
    i = np.asarray(M.i[:]).astype(np.int64)
    nsyn = len(Ce) + len(Ci)
    dur = args.duration / 1000.0
    r, cv, c, k = stats(steps, i, 0, n, dur)
    re, cve, _, _ = stats(steps, i, 0, ne, dur)
    ri, cvi, _, _ = stats(steps, i, ne, n, dur)
    if args.mode == "standalone":
        device.reinit()
        device.activate()
    return {
        "seed": s, "wall_s": wall, "rtf": wall / dur, "synapses": nsyn,
        "rate_hz": r, "rate_e_hz": re, "rate_i_hz": ri,
        "cv_isi": cv, "cv_isi_e": cve, "cv_isi_i": cvi,
        "spikes": c, "cv_neurons": k,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mode", choices=["runtime", "standalone"], default="standalone")
    p.add_argument("--target", default="numpy", help="runtime codegen target (numpy or cython)")
    p.add_argument("--seeds", default="1-10", help="e.g. 1-10 or 1,2,5")
    p.add_argument("--n", type=int, default=4000)
    p.add_argument("--duration", type=float, default=1000, help="biological time in ms")
    p.add_argument("--threads", type=int, default=0, help="standalone OpenMP threads (0: none)")
    p.add_argument("--dir", default="", help="standalone build directory (default: a temp dir)")
    args = p.parse_args()
    workdir = args.dir or tempfile.mkdtemp(prefix="brian2_coba_")
    rows = []
    for s in parse_seeds(args.seeds):
        r = run_one(args, s, os.path.join(workdir, "seed%d" % s) if args.mode == "standalone" else workdir)
        r.update({"peer": "brian2", "mode": args.mode})
        print(json.dumps(r), flush=True)
        rows.append(r)

    def ms_(k):
        xs = [r[k] for r in rows]
        return {"mean": statistics.fmean(xs), "sd": statistics.stdev(xs) if len(xs) > 1 else 0.0}

    summary = {
        "peer": "brian2", "brian2_version": brian2.__version__, "mode": args.mode,
        "target": args.target if args.mode == "runtime" else "cpp_standalone",
        "openmp_threads": args.threads, "python": platform.python_version(),
        "numpy": np.__version__, "n": args.n, "duration_ms": args.duration,
        "seeds": [r["seed"] for r in rows], "summary": True,
    }
    for k in ["wall_s", "rtf", "rate_hz", "rate_e_hz", "rate_i_hz", "cv_isi", "cv_isi_e", "cv_isi_i"]:
        summary[k] = ms_(k)
    summary["wall_s"]["median"] = statistics.median(r["wall_s"] for r in rows)
    summary["wall_s"]["min"] = min(r["wall_s"] for r in rows)
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    sys.exit(main())
