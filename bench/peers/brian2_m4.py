#!/usr/bin/env python3
"""M4 in Brian2: Izhikevich's (2003) "simple model" network, as GoMoNNto's
models.Izhikevich2003 (see docs/models.md, M4).

Ne=800 excitatory and Ni=200 inhibitory neurons, all-to-all synapses
including self-connections, weights 0.5*U[0,1) from E and -U[0,1) from I.
Per neuron r ~ U[0,1): E a=0.02, b=0.2, c=-65+15r^2, d=8-6r^2; I a=0.02+0.08r,
b=0.25-0.05r, c=-65, d=2. v0=-65, u0=b*v0. Each 1 ms step, in the order of
the paper's MATLAB code:

    I = 5*N(0,1) (E) or 2*N(0,1) (I)
    fired = v >= 30;  v[fired] = c;  u[fired] += d
    I += sum S[:, fired]
    v += 0.5*(0.04 v^2 + 5 v + 140 - u + I)   (twice)
    u += a*(b v - u)

Brian2 mapping (dt = 1 ms; the variables are dimensionless and there are no
differential equations, so Brian2 adds no state updater): the threshold
(slot "thresholds") is v >= 30, the synapses add w to I_post (slot
"synapses"), the reset sets v = c, u += d (slot "resets"), and a
run_regularly operation in slot "end" integrates v twice and u once with
the summed I and then draws the next step's noise into I. The initial I is
the first step's noise.

Each seed is its own run. One JSON line per seed, then one summary line
(mean and sd across seeds) on stdout:

    /usr/bin/python3 bench/peers/brian2_m4.py --mode standalone --seeds 1-10
    /usr/bin/python3 bench/peers/brian2_m4.py --mode runtime --seeds 1-10

Statistics: firing rate in Hz per population (spikes / (neurons * 1 s)),
and the mean over neurons with at least 3 spikes of the ISI coefficient of
variation (std/mean of the inter-spike intervals, population std, ddof=0).
wall_s is the time of the run alone: device._last_run_time in C++
standalone mode (without code generation, compilation and network
construction; note that Brian2 2.5.1 measures it with std::clock(), i.e.
the process's CPU time, not wall-clock time: on a loaded machine it stays
low while wall-clock figures grow), and the wall-clock time of the run()
call in runtime mode (which includes Brian2's code generation).
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
                    device, ms, prefs, run, seed, set_device, start_scope)


def parse_seeds(s):
    out = []
    for part in s.split(","):
        if "-" in part:
            lo, hi = part.split("-")
            out.extend(range(int(lo), int(hi) + 1))
        else:
            out.append(int(part))
    return out


def stats(times_steps, idx, n0, n1, duration_ms):
    """Rate (Hz) and mean ISI CV of neurons n0..n1-1."""
    n = n1 - n0
    sel = (idx >= n0) & (idx < n1)
    count = int(sel.sum())
    rate = count / (n * duration_ms / 1000.0)
    cvs = []
    t = times_steps[sel]
    i = idx[sel]
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
        # Brian2's default is an unbounded "make -j"; keep the build to the
        # machine's cores so that it does not swamp other work.
        prefs.devices.cpp_standalone.extra_make_args_unix = ["-j%d" % (os.cpu_count() or 2)]
        if args.threads > 0:
            prefs.devices.cpp_standalone.openmp_threads = args.threads
    else:
        prefs.codegen.target = args.target
    start_scope()
    defaultclock.dt = 1 * ms
    seed(s)
    ne, ni = args.ne, args.ni
    n = ne + ni
    G = NeuronGroup(n, """
        v : 1
        u : 1
        I : 1
        r : 1 (constant)
        a : 1 (constant)
        b : 1 (constant)
        c : 1 (constant)
        d : 1 (constant)
        sigma : 1 (constant)
        """, threshold="v >= 30", reset="v = c; u += d", name="izh")
    E, In = G[:ne], G[ne:]
    G.r = "rand()"
    E.a, E.b = 0.02, 0.2
    E.c = "-65 + 15*r**2"
    E.d = "8 - 6*r**2"
    E.sigma = 5
    In.a = "0.02 + 0.08*r"
    In.b = "0.25 - 0.05*r"
    In.c, In.d = -65, 2
    In.sigma = 2
    G.v = -65
    G.u = "b*v"
    G.I = "sigma*randn()"
    G.run_regularly("""
        v += 0.5*(0.04*v**2 + 5*v + 140 - u + I)
        v += 0.5*(0.04*v**2 + 5*v + 140 - u + I)
        u += a*(b*v - u)
        I = sigma*randn()
        """, when="end", name="integrate")
    S = Synapses(G, G, "w : 1", on_pre="I_post += w", name="syn")
    S.connect()  # all-to-all, self-connections included
    S.w["i < ne"] = "0.5*rand()"
    S.w["i >= ne"] = "-rand()"
    M = SpikeMonitor(G)
    t0 = time.perf_counter()
    run(args.duration * ms)
    wall = time.perf_counter() - t0
    if args.mode == "standalone":
        wall = float(device._last_run_time)
    t = np.asarray(M.t / ms).round().astype(np.int64)
    i = np.asarray(M.i[:]).astype(np.int64)
    nsyn = len(S)
    re, cve, ce, ke = stats(t, i, 0, ne, args.duration)
    ri, cvi, ci, ki = stats(t, i, ne, n, args.duration)
    if args.mode == "standalone":
        device.reinit()
        device.activate()
    return {
        "seed": s, "wall_s": wall, "synapses": nsyn,
        "rate_e_hz": re, "rate_i_hz": ri, "cv_isi_e": cve, "cv_isi_i": cvi,
        "spikes_e": ce, "spikes_i": ci, "cv_neurons_e": ke, "cv_neurons_i": ki,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mode", choices=["runtime", "standalone"], default="standalone")
    p.add_argument("--target", default="numpy", help="runtime codegen target (numpy or cython)")
    p.add_argument("--seeds", default="1-10", help="e.g. 1-10 or 1,2,5")
    p.add_argument("--ne", type=int, default=800)
    p.add_argument("--ni", type=int, default=200)
    p.add_argument("--duration", type=int, default=1000, help="ms (= steps)")
    p.add_argument("--threads", type=int, default=0, help="standalone OpenMP threads (0: none)")
    p.add_argument("--dir", default="", help="standalone build directory (default: a temp dir)")
    args = p.parse_args()
    workdir = args.dir or tempfile.mkdtemp(prefix="brian2_m4_")
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
        "numpy": np.__version__, "ne": args.ne, "ni": args.ni,
        "duration_ms": args.duration, "seeds": [r["seed"] for r in rows],
        "summary": True,
    }
    for k in ["wall_s", "rate_e_hz", "rate_i_hz", "cv_isi_e", "cv_isi_i"]:
        summary[k] = ms_(k)
    summary["wall_s"]["median"] = statistics.median(r["wall_s"] for r in rows)
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    sys.exit(main())
