"""Brian2 2.5's Brunel & Hakim (1999) example (examples/frompapers/
Brunel_Hakim_1999.py): 5000 LIF neurons, sparse inhibition (C = 1000, J =
0.1 mV, delay 2 ms), external drive mu 25 mV, sigma 1 mV, refractory 2 ms,
dt 0.1 ms, euler, 100 ms (the same seed gives the same run). Prints one
JSON line: the mean rate, the population rate's dominant frequency after
the first 20 ms, and the run's wall time.

    /usr/bin/python3 bench/peers/brian2_brunel_hakim.py
"""
import json, sys, time
import numpy as np
from brian2 import *

prefs.codegen.target = sys.argv[1] if len(sys.argv) > 1 else 'numpy'
seed(1)
N = 5000; Vr = 10*mV; theta = 20*mV; tau = 20*ms; delta = 2*ms; taurefr = 2*ms
duration = .1*second; C = 1000; sparseness = float(C)/N; J = .1*mV; muext = 25*mV; sigmaext = 1*mV
eqs = "dV/dt = (-V+muext + sigmaext * sqrt(tau) * xi)/tau : volt"
group = NeuronGroup(N, eqs, threshold='V>theta', reset='V=Vr', refractory=taurefr, method='euler')
group.V = Vr
conn = Synapses(group, group, on_pre='V += -J', delay=delta)
conn.connect(p=sparseness)
M = SpikeMonitor(group)
LFP = PopulationRateMonitor(group)
t0 = time.time()
run(duration)
wall = time.time() - t0
r = np.asarray(LFP.rate / Hz)
dt = float(defaultclock.dt / second)
x = r[int(0.02 / dt):] - r[int(0.02 / dt):].mean()
f = np.fft.rfftfreq(len(x), dt)
p = np.abs(np.fft.rfft(x)) ** 2
print(json.dumps({"rate_hz": M.num_spikes / N / float(duration), "peak_hz": float(f[1:][np.argmax(p[1:])]), "wall_s": wall, "target": prefs.codegen.target}))
