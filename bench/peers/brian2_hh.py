"""Brian2 2.5 runs PymoNNto's Hodgkin-Huxley compartment (HH_main's rates,
I = 10 uA/cm2, v0 = -65 mV, m0 0.05, h0 0.6, n0 0.32) with each method,
dt 0.01 ms for 100 ms, and writes v (mV) after each step, one per line, to
models/testdata/brian2_hh_<method>.txt (the reference of
models.TestHHAgainstBrian2).

    /usr/bin/python3 bench/peers/brian2_hh.py
"""
import os, sys
from brian2 import *

prefs.codegen.target = 'numpy'
here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, '..', '..', 'models', 'testdata')
eqs = '''
dv/dt = (I - gNa*m**3*h*(v - ENa) - gK*n**4*(v - EK) - gL*(v - EL))/C : volt
dm/dt = am*(1 - m) - bm*m : 1
dh/dt = ah*(1 - h) - bh*h : 1
dn/dt = an*(1 - n) - bn*n : 1
am = 0.1*(v/mV + 40)/(1 - exp(-(v/mV + 40)/10))/ms : Hz
bm = 4*exp(-(v/mV + 65)/18)/ms : Hz
ah = 0.07*exp(-(v/mV + 65)/20)/ms : Hz
bh = 1/(1 + exp(-(v/mV + 35)/10))/ms : Hz
an = 0.01*(v/mV + 55)/(1 - exp(-(v/mV + 55)/10))/ms : Hz
bn = 0.125*exp(-(v/mV + 65)/80)/ms : Hz
'''
ns = dict(C=1*uF/cm2, gNa=120*msiemens/cm2, gK=36*msiemens/cm2, gL=0.3*msiemens/cm2,
          ENa=50*mV, EK=-77*mV, EL=-54.387*mV, I=10*uA/cm2)
for method in ['euler', 'rk2', 'rk4', 'exponential_euler']:
    start_scope()
    defaultclock.dt = 0.01*ms
    G = NeuronGroup(1, eqs, method=method, namespace=ns)
    G.v, G.m, G.h, G.n = -65*mV, 0.05, 0.6, 0.32
    M = StateMonitor(G, 'v', record=0)
    run(100*ms + defaultclock.dt)  # the monitor records before each step
    trace = M.v[0] / mV
    with open(os.path.join(out, 'brian2_hh_%s.txt' % method), 'w') as f:
        for val in trace[1:10001]:
            f.write("%.9g\n" % val)
    print(method, len(trace) - 1, 'steps', file=sys.stderr)

# Hindmarsh-Rose (PymoNNto's parameters, I = 2, forward Euler, dt 0.01 ms,
# 200,000 steps): the steps at which x crosses 1 upwards, to
# models/testdata/brian2_hr.txt.
hr = '''
dx/dt = (y - a*x**3 + b*x**2 + I - z)/ms : 1
dy/dt = (c - d*x**2 - y)/ms : 1
dz/dt = r*(s*(x - x1) - z)/ms : 1
'''
start_scope()
defaultclock.dt = 0.01*ms
G = NeuronGroup(1, hr, method='euler', namespace=dict(a=1, b=3, c=1, d=5, r=0.001, s=4, x1=-1.6, I=2))
G.x, G.y, G.z = -1.6, -11.8, 0
M = StateMonitor(G, 'x', record=0)
run(200000*defaultclock.dt + defaultclock.dt)
x = M.x[0][1:200001]
ups = [k + 1 for k in range(1, len(x)) if x[k-1] < 1 <= x[k]]
with open(os.path.join(out, 'brian2_hr.txt'), 'w') as f:
    f.write(' '.join(str(k) for k in ups) + '\n')
print('hindmarsh_rose', len(ups), 'spikes', file=sys.stderr)

# Wang-Buzsaki (Brian2's Wang_Buszaki_1996 = PymoNNto's), Iapp 2 uA, v0
# -70 mV, h0 1, n0 0, dt 0.01 ms, 100 ms, euler and rk4: v (mV) after each
# step to models/testdata/brian2_wb_<method>.txt.
wb = '''
dv/dt = (-gNa*m**3*h*(v - ENa) - gK*n**4*(v - EK) - gL*(v - EL) + Iapp)/Cm : volt
m = am/(am + bm) : 1
am = 1/exprel(-(v/mV + 35)/10)/ms : Hz
bm = 4*exp(-(v/mV + 60)/18)/ms : Hz
dh/dt = 5*(ah*(1 - h) - bh*h) : 1
ah = 0.07*exp(-(v/mV + 58)/20)/ms : Hz
bh = 1/(exp(-0.1*(v/mV + 28)) + 1)/ms : Hz
dn/dt = 5*(an*(1 - n) - bn*n) : 1
an = 0.1/exprel(-(v/mV + 34)/10)/ms : Hz
bn = 0.125*exp(-(v/mV + 44)/80)/ms : Hz
'''
for method in ['euler', 'rk4']:
    start_scope()
    defaultclock.dt = 0.01*ms
    G = NeuronGroup(1, wb, method=method, namespace=dict(Cm=1*uF, gNa=35*msiemens, gK=9*msiemens, gL=0.1*msiemens,
                                                        ENa=55*mV, EK=-90*mV, EL=-65*mV, Iapp=2*uA))
    G.v, G.h, G.n = -70*mV, 1, 0
    M = StateMonitor(G, 'v', record=0)
    run(100*ms + defaultclock.dt)
    trace = M.v[0] / mV
    with open(os.path.join(out, 'brian2_wb_%s.txt' % method), 'w') as f:
        for val in trace[1:10001]:
            f.write("%.9g\n" % val)
    print('wang_buzsaki', method, file=sys.stderr)
