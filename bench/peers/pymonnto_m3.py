#!/usr/bin/python3
"""Peer benchmark: PymoNNto's classic Izhikevich network (model M3).

Builds M3 exactly as docs/models.md defines it, written the
way PymoNNto's own Examples_Classical/Izhikevich.py writes it (numpy, float32,
np.sum(W[:, fired], axis=1) column selection), and times
Network.simulate_iterations(steps) only: network construction, initialisation
and a short warm-up are outside the timed region, no recorder is attached and
the progress printer (measure_block_time) is off.

PymoNNto itself is NOT part of this repository. Point PYMONNTO_PATH at a
checkout (see bench/peers/README.md):

    PYMONNTO_PATH=/tmp/pymonnto /usr/bin/python3 bench/peers/pymonnto_m3.py

Prints exactly one JSON line on stdout. Anything PymoNNto prints while it is
imported, built or run goes to stderr, so stdout stays machine-readable.
"""

import argparse
import contextlib
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HOW_TO_GET = (
    "PymoNNto is not vendored in GoMoNNto. Get it and set PYMONNTO_PATH, e.g.\n"
    "  git clone https://github.com/saeedark/PymoNNto /tmp/pymonnto\n"
    "  export PYMONNTO_PATH=/tmp/pymonnto\n"
    "(or extract a mirror: git --git-dir=<mirror> archive HEAD | tar -x -C /tmp/pymonnto\n"
    " and write its commit to /tmp/pymonnto/.commit). See bench/peers/README.md.\n"
    "PYMONNTO_PATH may name the repository root (the folder holding __init__.py and\n"
    "NetworkCore/) or a folder that contains it as PymoNNto/."
)


def die(msg):
    print("pymonnto_m3.py: " + msg, file=sys.stderr)
    sys.exit(2)


def locate_pymonnto():
    """Returns the PymoNNto package root named by PYMONNTO_PATH."""
    path = os.environ.get("PYMONNTO_PATH")
    if not path:
        die("PYMONNTO_PATH is not set.\n" + HOW_TO_GET)
    path = os.path.abspath(os.path.expanduser(path))
    for cand in (path, os.path.join(path, "PymoNNto")):
        if os.path.isfile(os.path.join(cand, "__init__.py")) and os.path.isdir(
            os.path.join(cand, "NetworkCore")
        ):
            return cand
    die("PYMONNTO_PATH=%s holds no PymoNNto package (no __init__.py + NetworkCore/).\n"
        % path + HOW_TO_GET)


def import_pymonnto(root):
    """Imports the package at root under the name PymoNNto.

    The package's modules import each other as "PymoNNto.…", so a checkout in
    a folder with another name (e.g. /tmp/pymonnto) is registered explicitly.
    PymoNNto's import creates a ./Data folder in the working directory when it
    finds none above it; the import therefore runs in a scratch directory so
    that nothing is written into the caller's tree.
    """
    cwd = os.getcwd()
    scratch = tempfile.mkdtemp(prefix="pymonnto_cwd_")
    try:
        os.chdir(scratch)
        spec = importlib.util.spec_from_file_location(
            "PymoNNto", os.path.join(root, "__init__.py"), submodule_search_locations=[root]
        )
        mod = importlib.util.module_from_spec(spec)
        sys.modules["PymoNNto"] = mod
        try:
            spec.loader.exec_module(mod)
        except AttributeError as e:
            if "set_string_function" in str(e):
                die("PymoNNto needs numpy < 2 (np.set_string_function was removed in 2.0); "
                    "numpy here is %s. Run with Debian's /usr/bin/python3 and "
                    "apt-get install python3-numpy python3-scipy python3-matplotlib "
                    "python3-imageio." % np.__version__)
            raise
        except ImportError as e:
            die("importing PymoNNto failed: %s\nInstall its dependencies with "
                "apt-get install python3-numpy python3-scipy python3-matplotlib "
                "python3-imageio and run with /usr/bin/python3." % e)
    finally:
        os.chdir(cwd)
        shutil.rmtree(scratch, ignore_errors=True)
    return mod


def pymonnto_commit(root):
    c = os.environ.get("PYMONNTO_COMMIT")
    if c:
        return c.strip()
    for d in (root, os.path.dirname(root)):
        f = os.path.join(d, ".commit")
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


def blas_info():
    """Which BLAS numpy uses. OpenBLAS picks its kernels by CPU type at load
    time unless OPENBLAS_CORETYPE overrides it, so the core type is reported.
    (M3 itself does not call BLAS: fancy indexing and np.sum are numpy loops.)"""
    env = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS",
                                      "OMP_NUM_THREADS") if k in os.environ}
    try:
        from threadpoolctl import threadpool_info
        libs = [{k: d.get(k) for k in ("internal_api", "version", "threading_layer",
                                        "architecture", "num_threads")}
                for d in threadpool_info() if d.get("user_api") == "blas"]
        return {"source": "threadpoolctl", "libs": libs, "env": env}
    except ImportError:
        pass
    cfg = {}
    try:  # numpy 1.x keeps build info in numpy.__config__
        for name in ("blas_opt_info", "openblas_info", "blas_ilp64_opt_info"):
            info = getattr(np.__config__, name, None)
            if info:
                cfg[name] = {k: info[k] for k in ("libraries", "library_dirs") if k in info}
    except Exception:  # noqa: BLE001 - purely informational
        pass
    return {"source": "numpy.__config__", "config": cfg, "env": env}


def build(P, ne, ni, seed, count_spikes=False):
    """M3 of docs/models.md, written in the style of Examples_Classical/Izhikevich.py."""
    np.random.seed(seed)

    class Izhikevich_main(P.Behavior):

        def initialize(self, n):
            self.set_parameters_as_variables(n)
            n.I = n.vector()
            n.a += n.vector()
            n.b += n.vector()
            n.c += n.vector()
            n.d += n.vector()
            n.v *= n.vector('uniform')  # v = -65 * U[0,1)
            n.u *= n.vector('uniform')  # u = -8 * U[0,1)
            n.fired = n.vector() > 0
            n.dt = 0.5

        def iteration(self, n):
            n.fired = n.v > 30
            if np.sum(n.fired) > 0:
                n.v[n.fired] = n.c[n.fired]
                n.u[n.fired] = n.u[n.fired] + n.d[n.fired]

            n.v += n.dt * (0.04 * n.v**2 + 5*n.v + 140 - n.u + n.I)
            n.u += n.dt * (n.a * (n.b * n.v - n.u))

    class Izhikevich_input(P.Behavior):

        def initialize(self, n):
            for s in n.synapses(P.afferent):
                s.W = s.matrix('uniform')

        def iteration(self, n):
            n.I = 20 * n.vector('uniform')

            for s in n.synapses(P.afferent, 'GLUTAMATE'):
                n.I += 0.5 * np.sum(s.W[:, s.src.fired], axis=1)

            for s in n.synapses(P.afferent, 'GABA'):
                n.I -= np.sum(s.W[:, s.src.fired], axis=1)

    class SpikeCounter(P.Behavior):  # only in the untimed counting run

        def initialize(self, n):
            n.spike_count = 0

        def iteration(self, n):
            n.spike_count += int(np.count_nonzero(n.fired))

    def behaviors():
        b = {
            1: Izhikevich_main(a=0.02, b=0.2, c=-65, d=8.0, v=-65, u=-8.0),
            2: Izhikevich_input(),
        }
        if count_spikes:
            b[3] = SpikeCounter()
        return b

    net = P.Network(settings={'dtype': np.float32})
    N_e = P.NeuronGroup(net=net, tag='excitatory_neurons',
                        size=P.get_squared_dim(ne), behavior=behaviors())
    N_i = P.NeuronGroup(net=net, tag='inhibitory_neurons',
                        size=P.get_squared_dim(ni), behavior=behaviors())
    P.SynapseGroup(net=net, src=N_e, dst=N_e, tag='GLUTAMATE')
    P.SynapseGroup(net=net, src=N_e, dst=N_i, tag='GLUTAMATE')
    P.SynapseGroup(net=net, src=N_i, dst=N_e, tag='GABA')
    P.SynapseGroup(net=net, src=N_i, dst=N_i, tag='GABA')
    net.initialize(info=False)
    if N_e.size != ne or N_i.size != ni:
        die("get_squared_dim(%d), get_squared_dim(%d) gave %d, %d neurons"
            % (ne, ni, N_e.size, N_i.size))
    return net, (N_e, N_i)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ne", type=int, default=800, help="excitatory neurons (default 800)")
    ap.add_argument("--ni", type=int, default=200, help="inhibitory neurons (default 200)")
    ap.add_argument("--steps", type=int, default=1000, help="timed steps per repeat")
    ap.add_argument("--repeats", type=int, default=5, help="timed repeats (median reported)")
    ap.add_argument("--warmup", type=int, default=10, help="untimed steps before timing")
    ap.add_argument("--seed", type=int, default=1, help="numpy seed (same for every repeat)")
    args = ap.parse_args()
    if min(args.ne, args.ni, args.steps, args.repeats) < 1 or args.warmup < 0:
        die("--ne, --ni, --steps and --repeats must be >= 1, --warmup >= 0")

    root = locate_pymonnto()
    chatter = sys.stderr  # PymoNNto's prints go here, never to our stdout
    with contextlib.redirect_stdout(chatter):
        P = import_pymonnto(root)

        # Every repeat builds a fresh network from the same seed, so every
        # repeat does identical work and the spread is machine noise only.
        walls = []
        for _ in range(args.repeats):
            net, groups = build(P, args.ne, args.ni, args.seed)
            net.simulate_iterations(args.warmup, measure_block_time=False)
            t0 = time.perf_counter()
            net.simulate_iterations(args.steps, measure_block_time=False)
            walls.append(time.perf_counter() - t0)
            dtypes = {str(g.v.dtype) for g in groups} | {str(g.u.dtype) for g in groups} \
                | {str(g.I.dtype) for g in groups} | {str(s.W.dtype) for s in net.SynapseGroups}
            if dtypes != {"float32"}:
                die("expected float32 state, found %s" % sorted(dtypes))
            del net, groups

        # Untimed run with the same seed and a counting behaviour (key 3, it
        # draws no random numbers), so it follows the timed runs exactly.
        net, groups = build(P, args.ne, args.ni, args.seed, count_spikes=True)
        net.simulate_iterations(args.warmup, measure_block_time=False)
        for g in groups:
            g.spike_count = 0
        net.simulate_iterations(args.steps, measure_block_time=False)
        spikes = sum(g.spike_count for g in groups)

    wall = statistics.median(walls)
    print(json.dumps({
        "peer": "pymonnto",
        "model": "M3",
        "neurons": args.ne + args.ni,
        "ne": args.ne,
        "ni": args.ni,
        "steps": args.steps,
        "warmup": args.warmup,
        "repeats": args.repeats,
        "wall_s": round(wall, 6),
        "wall_s_all": [round(w, 6) for w in walls],
        "us_per_step": round(wall / args.steps * 1e6, 3),
        "spikes_per_step": round(spikes / args.steps, 3),
        "dtype": "float32",
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "pymonnto_commit": pymonnto_commit(root),
        "blas": blas_info(),
    }))


if __name__ == "__main__":
    main()
