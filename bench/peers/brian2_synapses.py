"""Brian2 2.5 references for equations.Synapses (event-driven pair STDP,
on_pre/on_post, summed variables). Writes equations/testdata/brian2_synapses.json.

    /usr/bin/python3 bench/peers/brian2_synapses.py

Every input is deterministic (spike generators, fixed initial values), so
GoMoNNto's results compare point by point.
"""
import json, os, sys
import numpy as np
from brian2 import *

prefs.codegen.target = 'numpy'
defaultclock.dt = 0.1 * ms
out = {}

STDP_EQS = '''
w : 1
dapre/dt = -apre/taupre : 1 (event-driven)
dapost/dt = -apost/taupost : 1 (event-driven)
'''
ON_PRE = 'apre += Apre; w = clip(w + apost, 0, wmax)'
ON_POST = 'apost += Apost; w = clip(w + apre, 0, wmax)'
ns = dict(taupre=20 * ms, taupost=25 * ms, wmax=0.02, Apre=0.004, Apost=-0.0045)


def trains(rng, n, steps, rate_steps):
    idx, st = [], []
    for k in range(steps):
        for i in range(n):
            if rng.random() < 1.0 / rate_steps:
                idx.append(i)
                st.append(k)
    return idx, st


# 1. Pair STDP between two spike generators, dense (all to all) and sparse.
rng = np.random.default_rng(7)
npre, npost, steps = 6, 5, 3000
pi, ps = trains(rng, npre, steps, 120)
qi, qs = trains(rng, npost, steps, 100)
# a few coincident pre and post spikes (same step)
for k in (500, 1500, 2500):
    pi.append(1); ps.append(k)
    qi.append(2); qs.append(k)
for case, cond in (('stdp_dense', None), ('stdp_sparse', '(i + 2*j) % 3 != 0')):
    start_scope()
    pre = SpikeGeneratorGroup(npre, pi, np.array(ps) * defaultclock.dt)
    post = SpikeGeneratorGroup(npost, qi, np.array(qs) * defaultclock.dt)
    S = Synapses(pre, post, STDP_EQS, on_pre=ON_PRE, on_post=ON_POST, namespace=ns)
    if cond:
        S.connect(condition=cond)
    else:
        S.connect()
    S.w = 'wmax*0.5 + 0.001*i - 0.0007*j'
    run(steps * defaultclock.dt)
    out[case] = dict(npre=npre, npost=npost, steps=steps, pre_i=pi, pre_steps=ps, post_i=qi, post_steps=qs,
                     i=[int(x) for x in S.i[:]], j=[int(x) for x in S.j[:]], w=[float(x) for x in S.w[:]])

# 1b. Soft bounds (the trace STDP of the PymoNNtorch paper's M7, with
# exponential traces), on the dense case's spikes.
start_scope()
pre = SpikeGeneratorGroup(npre, pi, np.array(ps) * defaultclock.dt)
post = SpikeGeneratorGroup(npost, qi, np.array(qs) * defaultclock.dt)
S = Synapses(pre, post, '''
w : 1
dtpre/dt = -tpre/(20*ms) : 1 (event-driven)
dtpost/dt = -tpost/(20*ms) : 1 (event-driven)
''', on_pre='tpre += 1; w -= a_minus*tpost*(w - w_min)', on_post='tpost += 1; w += a_plus*tpre*(w_max - w)',
    namespace=dict(a_minus=0.012, a_plus=0.01, w_min=0.0, w_max=1.0))
S.connect()
S.w = '0.5 + 0.05*i - 0.03*j'
run(steps * defaultclock.dt)
out['stdp_soft'] = dict(npre=npre, npost=npost, steps=steps, pre_i=pi, pre_steps=ps, post_i=qi, post_steps=qs,
                        i=[int(x) for x in S.i[:]], j=[int(x) for x in S.j[:]], w=[float(x) for x in S.w[:]])

# 2. Generators into LIF neurons: on_pre both propagates and learns.
start_scope()
rng = np.random.default_rng(11)
nin, nout, steps = 40, 3, 5000
ii, ist = trains(rng, nin, steps, 80)
inp = SpikeGeneratorGroup(nin, ii, np.array(ist) * defaultclock.dt)
lif = NeuronGroup(nout, 'dv/dt = -v/(10*ms) : 1', threshold='v > 1', reset='v = 0', method='euler')
S = Synapses(inp, lif, STDP_EQS, on_pre='v_post += w*6; ' + ON_PRE, on_post=ON_POST, namespace=ns)
S.connect()
S.w = 'wmax*(0.3 + 0.6*((i*7 + j*3) % 10)/10.)'
sp = SpikeMonitor(lif)
run(steps * defaultclock.dt)
out['stdp_lif'] = dict(nin=nin, nout=nout, steps=steps, in_i=ii, in_steps=ist,
                       i=[int(x) for x in S.i[:]], j=[int(x) for x in S.j[:]], w=[float(x) for x in S.w[:]],
                       spike_i=[int(x) for x in sp.i[:]], spike_steps=[int(round(float(t / defaultclock.dt))) for t in sp.t[:]])

# 3. Gap junctions, Brian2's example (examples/synapses/gapjunctions.py): a summed variable.
start_scope()
N, steps = 10, 2000
eqs = '''
dv/dt = (v0 - v + Igap) / tau : 1
Igap : 1
'''
G = NeuronGroup(N, eqs, threshold='v > 1', reset='v = 0', method='exact', namespace=dict(v0=1.05, tau=10 * ms))
G.v = 'i * 1.0 / (N - 1)'
S = Synapses(G, G, '''
w : 1
Igap_post = w * (v_pre - v_post) : 1 (summed)
''')
S.connect()
S.w = .02
M = StateMonitor(G, 'v', record=True)
sp = SpikeMonitor(G)
run(steps * defaultclock.dt)
out['gap'] = dict(n=N, steps=steps, v=[[float(x) for x in M.v[k, :]] for k in range(N)],
                  spike_i=[int(x) for x in sp.i[:]], spike_steps=[int(round(float(t / defaultclock.dt))) for t in sp.t[:]])

path = os.path.join(os.path.dirname(__file__), '..', '..', 'equations', 'testdata', 'brian2_synapses.json')
with open(path + '.tmp', 'w') as f:
    json.dump(dict(brian2=__import__('brian2').__version__, cases=out), f)
os.replace(path + '.tmp', path)
print('wrote', os.path.normpath(path))
