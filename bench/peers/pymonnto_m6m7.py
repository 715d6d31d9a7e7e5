#!/usr/bin/python3
"""Peer benchmark: the PymoNNtorch paper's dense-STDP models M6 and M7 in PymoNNto.

M6 is the "simple LIF" with pair STDP (Benchmarks/Simple/pymonnto_fast_LIF.py,
the "fast" PymoNNto version), M7 the Izhikevich network with trace STDP
(Benchmarks/Izhikevich/pymonnto_izh.py), both from the Fast-SNN-PymoNNto-rch
repository. This script runs THEIR scripts' model definitions: it executes
each script (with its globparams.py, SIZE = --n, plotting off) up to and
including net.initialize(), skipping only the script's own timing block,
then times Network.simulate_iterations(steps) itself. Nothing of theirs is
copied into GoMoNNto; point FASTSNN_PATH at a checkout (see
bench/peers/README.md):

    PYMONNTO_PATH=/tmp/pymonnto FASTSNN_PATH=/tmp/fastsnn \\
        /usr/bin/python3 bench/peers/pymonnto_m6m7.py --model M6 --n 10000

Prints exactly one JSON line on stdout; PymoNNto's and the scripts' own
prints go to stderr.
"""

import argparse
import ast
import contextlib
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pymonnto_m3 as m3  # noqa: E402  (PymoNNto import, commit and BLAS report)

SCRIPTS = {
    "M6": ("Benchmarks/Simple", "pymonnto_fast_LIF.py"),
    "M7": ("Benchmarks/Izhikevich", "pymonnto_izh.py"),
}

HOW_TO_GET = (
    "The Fast-SNN-PymoNNto-rch benchmark scripts are not vendored in GoMoNNto. Get them\n"
    "and set FASTSNN_PATH, e.g.\n"
    "  git clone https://github.com/saeedark/Fast-SNN-PymoNNto-rch /tmp/fastsnn\n"
    "  export FASTSNN_PATH=/tmp/fastsnn\n"
    "(or extract a mirror: git --git-dir=<mirror> archive HEAD | tar -x -C /tmp/fastsnn\n"
    " and write its commit to /tmp/fastsnn/.commit). See bench/peers/README.md."
)


def die(msg):
    print("pymonnto_m6m7.py: " + msg, file=sys.stderr)
    sys.exit(2)


def locate_fastsnn():
    path = os.environ.get("FASTSNN_PATH")
    if not path:
        die("FASTSNN_PATH is not set.\n" + HOW_TO_GET)
    path = os.path.abspath(os.path.expanduser(path))
    for d, f in SCRIPTS.values():
        if not os.path.isfile(os.path.join(path, d, f)):
            die("FASTSNN_PATH=%s has no %s.\n" % (path, os.path.join(d, f)) + HOW_TO_GET)
    return path


def commit_of(root):
    f = os.path.join(root, ".commit")
    if os.path.isfile(f):
        with open(f) as fh:
            return fh.read().strip()
    try:
        out = subprocess.run(["git", "-C", root, "rev-parse", "HEAD"],
                             capture_output=True, text=True, timeout=10)
        if out.returncode == 0:
            return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return "unknown"


def is_timing_block(node):
    """The scripts end with `if not MEASURE_INDIVIDUALLY: ... else: ...` (the
    timed simulation) and `if PLOT: ...` (printing and plotting the results
    of that run). Both are skipped; everything before them (imports,
    settings, behaviour classes, network construction, net.initialize())
    runs as written."""
    if not isinstance(node, ast.If):
        return False
    names = {n.id for n in ast.walk(node.test) if isinstance(n, ast.Name)}
    return "MEASURE_INDIVIDUALLY" in names


def build(fastsnn, model, n, seed):
    """Runs the model's script up to its timing block; returns its network."""
    folder, script = SCRIPTS[model]
    folder = os.path.join(fastsnn, folder)
    path = os.path.join(folder, script)
    with open(path) as fh:
        tree = ast.parse(fh.read(), filename=path)
    body = []
    for node in tree.body:
        if is_timing_block(node):
            break
        body.append(node)
    if len(body) == len(tree.body):
        die("%s: found no `if not MEASURE_INDIVIDUALLY:` timing block; the script changed" % path)
    tree.body = body
    code = compile(tree, path, "exec")

    # globparams.py reads SIZE from sys.argv[1] and PLOT from 'no_plot' in
    # sys.argv; each benchmark folder has its own globparams, loaded fresh.
    argv = sys.argv
    sys.argv = [path, str(n), "no_plot"]
    try:
        spec = importlib.util.spec_from_file_location("globparams", os.path.join(folder, "globparams.py"))
        gp = importlib.util.module_from_spec(spec)
        sys.modules["globparams"] = gp
        spec.loader.exec_module(gp)
        np.random.seed(seed)
        ns = {"__name__": "fastsnn_" + model, "__file__": path}
        exec(code, ns)
    finally:
        sys.argv = argv
        sys.modules.pop("globparams", None)
    if ns.get("SIZE") != n or ns.get("DURATION") != 300:
        die("%s: SIZE=%r, DURATION=%r after globparams; expected %d and 300"
            % (path, ns.get("SIZE"), ns.get("DURATION"), n))
    return ns["net"]


def check_float32(net, model):
    ng = net.NeuronGroups[0]
    names = ["voltage"] if model == "M6" else ["v", "u", "I"]
    arrays = [getattr(ng, a) for a in names] + [s.W for s in net.SynapseGroups]
    if model == "M7":
        arrays += [s.src_trace for s in net.SynapseGroups] + [s.dst_trace for s in net.SynapseGroups]
    dtypes = {str(a.dtype) for a in arrays}
    if dtypes != {"float32"}:
        die("%s: expected float32 state, found %s" % (model, sorted(dtypes)))


def count_spikes(P, net, steps):
    """Untimed run of steps with a counting behaviour after the neurons
    (key 4.5: after M6's STDP at 3, before M7's STDP at 5; it draws no
    random numbers, so the network follows the timed runs spike for spike)."""

    class SpikeCounter(P.Behavior):
        def initialize(self, n):
            n.spike_count = 0

        def iteration(self, n):
            n.spike_count += int(np.count_nonzero(n.spikes))

    ng = net.NeuronGroups[0]
    ng.add_behavior(4.5, SpikeCounter(), initialize=True)
    net.simulate_iterations(steps, measure_block_time=False)
    return ng.spike_count


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", choices=sorted(SCRIPTS), required=True)
    ap.add_argument("--n", type=int, default=10000, help="neurons (default 10000, the paper's)")
    ap.add_argument("--steps", type=int, default=300, help="timed steps per repeat (paper: 300)")
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats (median reported)")
    ap.add_argument("--seed", type=int, default=1, help="numpy seed (same for every repeat)")
    ap.add_argument("--no-count", action="store_true",
                    help="skip the extra untimed run that counts spikes")
    args = ap.parse_args()
    if min(args.n, args.steps, args.repeats) < 1:
        die("--n, --steps and --repeats must be >= 1")

    root = m3.locate_pymonnto()
    fastsnn = locate_fastsnn()
    with contextlib.redirect_stdout(sys.stderr):
        P = m3.import_pymonnto(root)
        walls = []
        for _ in range(args.repeats):
            net = build(fastsnn, args.model, args.n, args.seed)
            t0 = time.perf_counter()
            net.simulate_iterations(args.steps, measure_block_time=False)
            walls.append(time.perf_counter() - t0)
            check_float32(net, args.model)
            del net
        spikes = None
        if not args.no_count:
            net = build(fastsnn, args.model, args.n, args.seed)
            spikes = count_spikes(P, net, args.steps)
            del net

    wall = statistics.median(walls)
    out = {
        "peer": "pymonnto",
        "model": args.model,
        "script": "/".join(SCRIPTS[args.model]),
        "neurons": args.n,
        "synapses": args.n * args.n,
        "steps": args.steps,
        "repeats": args.repeats,
        "wall_s": round(wall, 6),
        "wall_s_all": [round(w, 6) for w in walls],
        "us_per_step": round(wall / args.steps * 1e6, 3),
        "spikes_per_step": None if spikes is None else round(spikes / args.steps, 3),
        "spike_fraction_per_step": None if spikes is None else spikes / args.steps / args.n,
        "dtype": "float32",
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "pymonnto_commit": m3.pymonnto_commit(root),
        "fastsnn_commit": commit_of(fastsnn),
        "blas": m3.blas_info(),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
