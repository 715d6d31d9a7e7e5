"""Brian2 2.5's synfire chain example (Diesmann et al. 1999; examples/
frompapers/Diesmann_et_al_1999.py): 10 groups of 100 LIF neurons with
alpha-shaped synaptic input and noise, each group feeding the next
all-to-all (4.86 mV), 85 input spikes at 50 +- 1 ms into the first group,
dt 0.1 ms, euler, 100 ms. Prints one JSON line per seed: per group, the
number of spikes after 45 ms and their mean time (ms).

    /usr/bin/python3 bench/peers/brian2_synfire.py
"""
import json, sys
import numpy as np
from brian2 import *

prefs.codegen.target = 'numpy'
for s in [1, 2, 3]:
    start_scope()
    seed(s)
    np.random.seed(s)
    Vr = -70*mV; Vt = -55*mV; taum = 10*ms; taupsp = 0.325*ms; weight = 4.86*mV
    eqs = Equations('''
    dV/dt = (-(V-Vr)+x)*(1./taum) : volt
    dx/dt = (-x+y)*(1./taupsp) : volt
    dy/dt = -y*(1./taupsp)+25.27*mV/ms+(39.24*mV/ms**0.5)*xi : volt
    ''')
    n_groups = 10; group_size = 100
    P = NeuronGroup(N=n_groups*group_size, model=eqs, threshold='V>Vt', reset='V=Vr', refractory=1*ms, method='euler')
    Pinput = SpikeGeneratorGroup(85, np.arange(85), np.random.randn(85)*1*ms + 50*ms)
    S = Synapses(P, P, on_pre='y+=weight')
    S.connect(j='k for k in range((int(i/group_size)+1)*group_size, (int(i/group_size)+2)*group_size) if i<N_pre-group_size')
    Sinput = Synapses(Pinput, P[:group_size], on_pre='y+=weight')
    Sinput.connect()
    M = SpikeMonitor(P)
    P.V = 'Vr + rand() * (Vt - Vr)'
    run(100*ms)
    t, i = M.t/ms, np.asarray(M.i)
    out = []
    for g in range(n_groups):
        sel = (i // group_size == g) & (t >= 45)
        out.append([int(sel.sum()), float(t[sel].mean()) if sel.any() else None])
    print(json.dumps({"seed": s, "groups": out}))
