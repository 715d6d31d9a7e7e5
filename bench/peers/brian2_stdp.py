"""Brian2 2.5's STDP example (examples/synapses/STDP.py; Song, Miller &
Abbott 2000): 1000 Poisson inputs at 15 Hz into one conductance-based LIF
neuron through pair STDP with event-driven traces (gmax 0.01, dApre 0.01*gmax,
dApost = -1.05*dApre), w = rand()*gmax, dt 0.1 ms, euler. Prints one JSON
line per seed: the post rate over the last 10 s, the fraction of weights
below 0.1*gmax and above 0.9*gmax at the end, their mean, and the wall time.

    /usr/bin/python3 bench/peers/brian2_stdp.py [--duration 100] [--seeds 1 2 3] [--target cython]
"""
import argparse, json, time
from brian2 import *

ap = argparse.ArgumentParser()
ap.add_argument('--duration', type=float, default=100.0)
ap.add_argument('--seeds', type=int, nargs='+', default=[1])
ap.add_argument('--target', default='cython')
a = ap.parse_args()
prefs.codegen.target = a.target

for seed in a.seeds:
    start_scope()
    seed_ = seed
    defaultclock.dt = 0.1 * ms
    N = 1000
    taum = 10 * ms; taupre = 20 * ms; taupost = taupre
    Ee = 0 * mV; vt = -54 * mV; vr = -60 * mV; El = -74 * mV; taue = 5 * ms
    F = 15 * Hz; gmax = .01
    dApre = .01; dApost = -dApre * taupre / taupost * 1.05
    dApost *= gmax; dApre *= gmax
    eqs = '''dv/dt = (ge * (Ee-v) + El - v) / taum : volt
dge/dt = -ge / taue : 1'''
    seed_fn = __import__('brian2').seed
    seed_fn(seed)
    inp = PoissonGroup(N, rates=F)
    neurons = NeuronGroup(1, eqs, threshold='v>vt', reset='v = vr', method='euler')
    S = Synapses(inp, neurons, '''w : 1
dApre/dt = -Apre / taupre : 1 (event-driven)
dApost/dt = -Apost / taupost : 1 (event-driven)''',
                 on_pre='''ge += w
Apre += dApre
w = clip(w + Apost, 0, gmax)''',
                 on_post='''Apost += dApost
w = clip(w + Apre, 0, gmax)''')
    S.connect()
    S.w = 'rand() * gmax'
    sp = SpikeMonitor(neurons)
    t0 = time.time()
    run(a.duration * second)
    wall = time.time() - t0
    w = np.array(S.w[:]) / gmax
    last = np.sum(np.array(sp.t / second) > a.duration - 10) / min(10.0, a.duration)
    print(json.dumps(dict(seed=seed, duration_s=a.duration, post_rate_last10s_hz=float(last),
                          low=float(np.mean(w < 0.1)), high=float(np.mean(w > 0.9)), mean_w_over_gmax=float(w.mean()),
                          wall_s=wall, target=a.target, brian2=__import__('brian2').__version__)), flush=True)
