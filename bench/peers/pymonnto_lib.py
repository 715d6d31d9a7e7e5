#!/usr/bin/python3
"""NumPy replicas of PymoNNto's behaviour library on fixed inputs.

Writes models/testdata/pymonnto_lib_*.txt, the expected outputs that
models/pymonnto_lib_test.go compares GoMoNNto's behaviours
(models/pymonnto_lib.go) with, step by step, on cpu and gl.

The behaviours below are PymoNNto's code (trieschlab/PymoNNto 1fefe55,
NetworkBehavior/Basics and Examples_Paper/STDP_Hom_Norm), copied with only
the framework replaced by the stubs Behavior and Group (parameter() returns
the keyword or the default; synapses() lists the synapse groups by tag).
Arrays are float32, PymoNNto's default def_dtype. The factors that multiply
boolean arrays (inc, dec, adj_strength) are made np.float32 by the stub's
parameter(): with Python
floats NumPy promotes bool*float to float64 and PymoNNto then stores a
float64 threshold; every other parameter is a Python float, as in PymoNNto
(it is rounded to float32 where it meets a float32 array). The inputs are
deterministic (no random numbers), mostly multiples of 1/16, and are written
to the files too, so the Go test reads them instead of recomputing them.

Run: /usr/bin/python3 bench/peers/pymonnto_lib.py  (needs numpy only)

File format, one item per line: "case NAME" starts a case; "param KEY VALUE"
is a behaviour parameter (a core.Params string); "array NAME ROWS COLS"
is followed by one line of ROWS*COLS values, row-major, each printed with
9 significant digits (a float32 read back exactly). Weights are dst x src
(PymoNNto's layout); "W_after" arrays hold one flattened matrix per step.
"""

import os

import numpy as np

f32 = np.float32
afferent, efferent = 0, 1
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models", "testdata")


# ---- framework stubs ----

class Behavior:
    def __init__(self, **kw):
        self.kw = kw

    def parameter(self, key, default, neurons=None):
        v = self.kw.get(key, default)
        if key in F32_KEYS and v is not None:
            v = f32(v)
        return v


# The factors that multiply boolean arrays: np.float32 keeps the products
# float32 (see the module doc).
F32_KEYS = {'inc', 'dec', 'adj_strength'}


class Group:
    def __init__(self, size, net):
        self.size = size
        self.net = net
        self.def_dtype = f32

    def vector(self):
        return np.zeros(self.size, dtype=f32)

    def synapses(self, mode, tag):
        if mode == afferent:
            return [s for s in self.net if s.dst is self and tag in s.tags]
        return [s for s in self.net if s.src is self and tag in s.tags]


class Syn:
    def __init__(self, src, dst, tags, W):
        self.src, self.dst, self.tags = src, dst, tags
        self.W = W.astype(f32)
        self.enabled = True


# ---- PymoNNto's code ----

class Instant_Homeostasis(Behavior):  # NetworkBehavior/Basics/BasicHomeostasis.py

    def get_measurement_param(self, n):
        if self.compiled_mp is None:
            self.compiled_mp = compile(self.measurement_param, '<string>', 'eval')

        result = eval(self.compiled_mp)

        if self.measurement_min is not None: result = np.clip(result, self.measurement_min, None)
        if self.measurement_max is not None: result = np.clip(result, None, self.measurement_max)
        return result

    def add_to_target_param(self, neurons, add):
        val = getattr(neurons, self.adjustment_param)+add
        if self.target_clip_min is not None or self.target_clip_max is not None:
            val = np.clip(val, self.target_clip_min, self.target_clip_max)
        setattr(neurons, self.adjustment_param, val)

    def get_target_adjustment(self, measure_or_average):

        greater = (measure_or_average > self.max_th) * (-self.dec)
        smaller = (measure_or_average < self.min_th) * self.inc

        if self.distance_sensitive:
            greater *= measure_or_average - self.max_th
            smaller *= self.min_th - measure_or_average

        return (greater+smaller)*self.adj_strength

    def set_threshold(self, th, gap_percent=None):
        self.th = th  # just for readout and copying

        if th is not None:
            self.min_th = th
            self.max_th = th

            if gap_percent is not None:
                self.min_th -= self.min_th/100*gap_percent
                self.max_th += self.max_th/100*gap_percent

    def initialize(self, neurons):

        self.compiled_mp = None

        self.min_th = self.parameter('min_th', None, neurons)
        self.max_th = self.parameter('max_th', None, neurons)

        self.set_threshold(
            self.parameter('threshold', None, neurons),
            self.parameter('gap_percent', None, neurons)
        )

        self.distance_sensitive = self.parameter('distance_sensitive', True, neurons)

        self.inc = self.parameter('inc', 1.0, neurons)
        self.dec = self.parameter('dec', 1.0, neurons)
        self.adj_strength = self.parameter('adj_strength', 1.0, neurons)

        self.adjustment_param = self.parameter('adjustment_param', None, neurons)

        self.measurement_param = self.parameter('measurement_param', None, neurons)

        self.measurement_min = self.parameter('measurement_min', None, neurons)
        self.measurement_max = self.parameter('measurement_max', None, neurons)

        self.target_clip_min = self.parameter('target_clip_min', None, neurons)
        self.target_clip_max = self.parameter('target_clip_max', None, neurons)

    def iteration(self, neurons):
        measure_or_average = self.get_measurement_param(neurons)
        self.add = self.get_target_adjustment(measure_or_average)
        self.add_to_target_param(neurons, self.add)


class Time_Integration_Homeostasis(Instant_Homeostasis):

    def get_measurement_param(self, n):

        value = super().get_measurement_param(n)
        self.average = (self.average * self.integration_length + value) / (self.integration_length+1)
        return self.average

    def initialize(self, neurons):
        super().initialize(neurons)

        self.integration_length = self.parameter('integration_length', 1, neurons)

        self.average = self.parameter('init_avg', (self.min_th+self.max_th)/2, neurons)


class Homeostasis(Behavior):  # Examples_Paper/STDP_Hom_Norm/Homeostasis.py

    def initialize(self, neurons):
        target_act = self.parameter('target_voltage', 0.05, neurons)

        self.max_ta = self.parameter('max_ta', target_act, neurons)
        self.min_ta = self.parameter('min_ta', target_act, neurons)

        self.adj_strength = -self.parameter('eta_ip', 0.001, neurons)

        neurons.exhaustion = neurons.vector()

    def iteration(self, neurons):

        greater = ((neurons.voltage > self.max_ta) * -1).astype(neurons.def_dtype)
        smaller = ((neurons.voltage < self.min_ta) * 1).astype(neurons.def_dtype)

        greater *= neurons.voltage - self.max_ta
        smaller *= self.min_ta - neurons.voltage

        change = (greater + smaller) * self.adj_strength
        neurons.exhaustion += change

        neurons.voltage -= neurons.exhaustion


class refractory(Behavior):  # NetworkBehavior/Basics/Refractory.py

    def initialize(self, neurons):
        neurons.refractory_counter = neurons.vector()
        self.decayfactor = self.parameter('decayfactor', 0.5, neurons)
        self.strengthfactor = self.parameter('strengthfactor', 1.0, neurons)

    def iteration(self, neurons):
        neurons.refractory_counter *= self.decayfactor
        neurons.refractory_counter += neurons.output

        neurons.activity -= neurons.refractory_counter * self.strengthfactor


class Synaptic_Normalization(Behavior):  # NetworkBehavior/Basics/Normalization.py

    def initialize(self, neurons):
        self.syn_type = self.parameter('syn_type', 'GLU', neurons)
        self.clip_max = self.parameter('clip_max', None, neurons)
        neurons.weight_norm_factor = neurons.vector()+self.parameter('norm_factor', 1.0, neurons)

    def iteration(self, neurons):
        normalize_synapse_attr('W', 'W', neurons.weight_norm_factor, neurons, self.syn_type)
        for s in neurons.synapses(afferent, self.syn_type):
            s.W = np.clip(s.W, 0, self.clip_max)


def normalize_synapse_attr(src_attr, target_attr, target_value, neurons, synapse_type):
    neurons.temp_weight_sum = neurons.vector()

    for s in neurons.synapses(afferent, synapse_type):
        s.dst.temp_weight_sum += np.sum(np.abs(getattr(s, src_attr)), axis=1)

    neurons.temp_weight_sum /= target_value

    for s in neurons.synapses(afferent, synapse_type):
        setattr(s, target_attr, getattr(s, target_attr) / (s.dst.temp_weight_sum[:, None] + (s.dst.temp_weight_sum[:, None] == 0)))


class Normalization(Behavior):  # Examples_Paper/STDP_Hom_Norm/Normalization.py

    def initialize(self, neurons):
        self.syn_type = self.parameter('syn_type', 'GLUTAMATE', neurons)
        self.norm_factor = self.parameter('norm_factor', 1.0, neurons)
        neurons.temp_weight_sum = neurons.vector()

    def iteration(self, neurons):

        neurons.temp_weight_sum *= 0.0

        for s in neurons.synapses(afferent, self.syn_type):
            s.dst.temp_weight_sum += np.sum(np.abs(s.W), axis=1)

        neurons.temp_weight_sum /= self.norm_factor

        for s in neurons.synapses(afferent, self.syn_type):
            s.W = s.W / (s.dst.temp_weight_sum[:, None] + (s.dst.temp_weight_sum[:, None] == 0))


class STDP(Behavior):  # Examples_Paper/STDP_Hom_Norm/STDP.py

    def initialize(self, neurons):
        self.stdp_factor = self.parameter('stdp_factor', 0.0015, neurons)
        self.syn_type = self.parameter('syn_type', 'GLUTAMATE', neurons)
        neurons.spike_old = neurons.vector()

    def iteration(self, neurons):

        for s in neurons.synapses(afferent, self.syn_type):

            pre_post = s.dst.spike[:, None] * s.src.spike_old[None, :]
            simu = s.dst.spike[:, None] * s.src.spike[None, :]
            post_pre = s.dst.spike_old[:, None] * s.src.spike[None, :]

            dw = self.stdp_factor * (pre_post - post_pre + simu)

            s.W = np.clip(s.W+dw*s.enabled, 0.0, 10.0)

        neurons.spike_old = neurons.spike.copy()


def create_weights_normalize(W, iterations=10, nomr_fac=1.0):
    """CreateWeights.initialize (Behavior_Weight_Initialization.py) after
    the draw: range(10) is range(iterations)."""
    for i in range(iterations):
        W /= np.sum(W, axis=1)[:, None]
        W /= np.sum(W, axis=0)
    W *= nomr_fac
    return W


# ---- the order of NumPy's sums, which the Go CreateWeights reproduces ----

def pairwise(a):
    """NumPy's float32 pairwise_sum (np.sum along a contiguous axis)."""
    n = len(a)
    if n < 8:
        r = f32(0)
        for x in a:
            r = f32(r + x)
        return r
    if n <= 128:
        r = [a[j] for j in range(8)]
        i = 8
        while i < n - n % 8:
            for j in range(8):
                r[j] = f32(r[j] + a[i + j])
            i += 8
        res = f32(f32(f32(r[0] + r[1]) + f32(r[2] + r[3])) + f32(f32(r[4] + r[5]) + f32(r[6] + r[7])))
        while i < n:
            res = f32(res + a[i])
            i += 1
        return res
    n2 = n // 2
    n2 -= n2 % 8
    return f32(pairwise(a[:n2]) + pairwise(a[n2:]))


def check_sum_order(W):
    for r in range(W.shape[0]):
        assert pairwise(W[r]) == np.sum(W, axis=1)[r], "np.sum(axis=1) is not the pairwise sum"
    for c in range(W.shape[1]):
        acc = f32(0)
        for r in range(W.shape[0]):
            acc = f32(acc + W[r, c])
        assert acc == np.sum(W, axis=0)[c], "np.sum(axis=0) is not the sequential sum"


# ---- output ----

def table(rows, cols, a, b, c, m, scale, off):
    """Fixed inputs: ((a*i + b*j + c) mod m)*scale + off."""
    i, j = np.meshgrid(np.arange(rows), np.arange(cols), indexing='ij')
    return (((a * i + b * j + c) % m) * scale + off).astype(f32)


class File:
    def __init__(self, name, doc):
        self.name = name
        self.lines = ["# " + l for l in doc.strip().splitlines()]
        self.lines.append("# generated by bench/peers/pymonnto_lib.py (numpy %s)" % np.__version__)

    def case(self, name):
        self.lines.append("case " + name)

    def param(self, key, value):
        self.lines.append("param %s %s" % (key, value))

    def array(self, name, a):
        a = np.asarray(a, dtype=f32)
        if a.ndim == 1:
            a = a[None, :]
        assert a.dtype == f32, name
        self.lines.append("array %s %d %d" % (name, a.shape[0], a.shape[1]))
        self.lines.append(" ".join("%.9g" % float(x) for x in a.ravel()))

    def write(self):
        path = os.path.join(OUT, "pymonnto_lib_%s.txt" % self.name)
        with open(path, "w") as f:
            f.write("\n".join(self.lines) + "\n")
        print("wrote", os.path.normpath(path))


def homeostasis():
    f = File("homeostasis", """
Instant_Homeostasis and Time_Integration_Homeostasis: activity is set from
the table 'activity' at each step (row k at step k), then the behaviour runs;
'threshold' and 'average' hold the values after each step.""")
    N, S = 8, 8
    act = table(S, N, 3, 5, 1, 13, 1 / 8, -0.25)
    th0 = table(1, N, 1, 3, 0, 7, 1 / 16, -0.125)[0]
    cases = [
        ("instant", Instant_Homeostasis, dict(
            measurement_param='n.activity', adjustment_param='threshold', threshold=0.5, gap_percent=20.0,
            inc=1.5, dec=0.5, adj_strength=0.25, measurement_min=0.0, measurement_max=1.0,
            target_clip_min=-0.125, target_clip_max=0.375)),
        ("instant_plain", Instant_Homeostasis, dict(
            measurement_param='n.activity', adjustment_param='threshold', min_th=0.25, max_th=0.75,
            distance_sensitive=False)),
        ("integration", Time_Integration_Homeostasis, dict(
            measurement_param='n.activity', adjustment_param='threshold', threshold=0.5, gap_percent=10.0,
            adj_strength=0.5, integration_length=3, target_clip_min=0.0)),
    ]
    for name, cls, kw in cases:
        n = Group(N, [])
        n.threshold = th0.copy()
        b = cls(**kw)
        b.initialize(n)
        ths, avgs = [], []
        for k in range(S):
            n.activity = act[k].copy()
            b.iteration(n)
            assert n.threshold.dtype == f32
            ths.append(n.threshold.copy())
            if hasattr(b, 'average'):
                avgs.append(b.average.copy())
        f.case(name)
        f.param("behaviour", cls.__name__)
        for key, v in kw.items():
            f.param(key, v)
        f.array("activity", act)
        f.array("threshold0", th0)
        f.array("threshold", np.array(ths))
        if avgs:
            f.array("average", np.array(avgs))
    f.write()


def exhaustion():
    f = File("exhaustion", """
The paper's Homeostasis (exhaustion): at each step voltage += input[k] (a
TimedArray in add mode), then the behaviour runs; 'voltage' and 'exhaustion'
hold the values after each step.""")
    N, S = 8, 10
    inp = table(S, N, 5, 3, 2, 11, 1 / 16, -0.125)
    for name, kw in [("target", dict(target_voltage=0.25, eta_ip=0.125)),
                     ("band", dict(max_ta=0.5, min_ta=0.125, eta_ip=0.0625))]:
        n = Group(N, [])
        n.voltage = n.vector()
        b = Homeostasis(**kw)
        b.initialize(n)
        vs, es = [], []
        for k in range(S):
            n.voltage += inp[k]
            b.iteration(n)
            assert n.voltage.dtype == f32 and n.exhaustion.dtype == f32
            vs.append(n.voltage.copy())
            es.append(n.exhaustion.copy())
        f.case(name)
        for key, v in kw.items():
            f.param(key, v)
        f.array("input", inp)
        f.array("voltage", np.array(vs))
        f.array("exhaustion", np.array(es))
    f.write()


def refractoriness():
    f = File("refractory", """
refractory (relative): at each step output = output_in[k] (set) and
activity += activity_in[k] (add), then the behaviour runs; 'activity' and
'refractory_counter' hold the values after each step.""")
    N, S = 6, 10
    out = (table(S, N, 2, 3, 1, 5, 1, 0) == 0).astype(f32)
    ain = table(S, N, 3, 1, 0, 9, 1 / 8, -0.25)
    for name, kw in [("default", {}), ("custom", dict(decayfactor=0.75, strengthfactor=0.375))]:
        n = Group(N, [])
        n.activity = n.vector()
        b = refractory(**kw)
        b.initialize(n)
        acts, rcs = [], []
        for k in range(S):
            n.output = out[k].copy()
            n.activity += ain[k]
            b.iteration(n)
            acts.append(n.activity.copy())
            rcs.append(n.refractory_counter.copy())
        f.case(name)
        for key, v in kw.items():
            f.param(key, v)
        f.array("output_in", out)
        f.array("activity_in", ain)
        f.array("activity", np.array(acts))
        f.array("refractory_counter", np.array(rcs))
    f.write()


def normalization():
    f = File("normalization", """
Synaptic_Normalization on group C (5 neurons) with afferent groups A->C (7
sources) and B->C (3), tagged GLUTAMATE, and D->C (4) tagged GABA, which it
leaves alone. The weights are fixed (dst x src, some negative); 'WA_after'
and 'WB_after' hold the weights after each step. In step 1 every sum is
exact in any order (multiples of 1/16).""")
    S = 3
    for name, kw, zero_row in [("clip", dict(syn_type='GLUTAMATE', norm_factor=2.0, clip_max=0.375), None),
                               ("noclip", dict(syn_type='GLUTAMATE'), 2)]:
        net = []
        C = Group(5, net)
        A, B, D = Group(7, net), Group(3, net), Group(4, net)
        WA = table(5, 7, 3, 5, 1, 13, 1 / 16, -0.25)
        WB = table(5, 3, 1, 4, 2, 11, 1 / 16, -0.125)
        WD = table(5, 4, 2, 1, 0, 7, 1 / 16, 0)
        if zero_row is not None:
            WA[zero_row] = 0
            WB[zero_row] = 0
        sa, sb, sd = Syn(A, C, ['GLUTAMATE'], WA), Syn(B, C, ['GLUTAMATE'], WB), Syn(D, C, ['GABA'], WD)
        net += [sa, sb, sd]
        b = Synaptic_Normalization(**kw)
        b.initialize(C)
        wa, wb = [], []
        for k in range(S):
            b.iteration(C)
            wa.append(sa.W.ravel().copy())
            wb.append(sb.W.ravel().copy())
        assert np.array_equal(sd.W, WD)
        f.case(name)
        for key, v in kw.items():
            f.param(key, v)
        f.array("WA", WA)
        f.array("WB", WB)
        f.array("WD", WD)
        f.array("WA_after", np.array(wa))
        f.array("WB_after", np.array(wb))
    f.write()


def spikes(S, N, a, b, m):
    """A fixed spike train: neuron j spikes at step k when (a*k + b*j) mod m == 0."""
    mask = (table(S, N, a, b, 0, m, 1, 0) == 0)
    steps, neurons = np.nonzero(mask)
    return mask.astype(f32), steps, neurons


def stdp():
    f = File("stdp", """
The paper's STDP on groups A (6 neurons, recurrent A->A) and B (4; B->A),
both tagged GLUTAMATE, with an STDP behaviour on A and on B (which keeps B's
spike_old), A's first, and a GABA group B->A that it leaves alone; spikes
from fixed trains ('spikesA', 'spikesB': step x neuron masks, also as
(step, neuron) pairs). A->A has enabled = W > 0 (as Complex.py); B->A none.
Case 'paper' adds the paper's Normalization on A after STDP (Complex.py's
stdp_factor 0.00015 and norm_factor 10). 'WAA_after' and 'WBA_after' hold
the weights after each step.""")
    S = 12
    mA, stA, nA = spikes(S, 6, 1, 2, 3)
    mB, stB, nB = spikes(S, 4, 2, 1, 5)
    WAA0 = table(6, 6, 5, 3, 1, 11, 1, -1).clip(0, 10)  # 0..9
    WAA0[0, 1], WAA0[2, 3] = 9.75, 0.25
    WBA0 = table(6, 4, 1, 3, 2, 7, 1.5, 0)
    WG0 = table(6, 4, 1, 1, 1, 5, 1 / 4, 0)
    for name, kw, norm in [("big", dict(stdp_factor=0.75), None),
                           ("default", {}, None),
                           ("paper", dict(stdp_factor=0.00015), dict(norm_factor=10.0))]:
        net = []
        A, B = Group(6, net), Group(4, net)
        sAA, sBA, sG = Syn(A, A, ['GLUTAMATE'], WAA0), Syn(B, A, ['GLUTAMATE'], WBA0), Syn(B, A, ['GABA'], WG0)
        sAA.enabled = WAA0 > 0
        net += [sAA, sBA, sG]
        A.spike, B.spike = A.vector(), B.vector()
        ba, bb = STDP(**kw), STDP(**kw)
        ba.initialize(A)
        bb.initialize(B)
        nb = None
        if norm is not None:
            nb = Normalization(**norm)
            nb.initialize(A)
        waa, wba = [], []
        for k in range(S):
            A.spike, B.spike = mA[k].copy(), mB[k].copy()
            ba.iteration(A)
            bb.iteration(B)
            if nb is not None:
                nb.iteration(A)
            assert sAA.W.dtype == f32 and sBA.W.dtype == f32
            waa.append(sAA.W.ravel().copy())
            wba.append(sBA.W.ravel().copy())
        assert np.array_equal(sG.W, WG0)
        f.case(name)
        for key, v in kw.items():
            f.param(key, v)
        if norm is not None:
            f.param("norm_factor", norm["norm_factor"])
        f.array("spikesA", mA)
        f.array("spikesB", mB)
        f.array("pairsA", np.array([stA, nA]))
        f.array("pairsB", np.array([stB, nB]))
        f.array("WAA", WAA0)
        f.array("WBA", WBA0)
        f.array("WG", WG0)
        f.array("WAA_after", np.array(waa))
        f.array("WBA_after", np.array(wba))
    f.write()


def createweights():
    f = File("createweights", """
CreateWeights' normalisation on a fixed matrix: distribution '1' times the
group's 'enabled' (dst x src, 10 x 12, positive), then PymoNNto's
alternating row and column normalisations and nomr_fac; 'W' is the result.
The sums of np.sum are checked here to be NumPy's pairwise (axis=1) and
sequential (axis=0) orders, which the Go code reproduces.""")
    en = table(10, 12, 3, 7, 1, 15, 1 / 16, 1 / 16)
    for name, iters, fac in [("default", 10, 2.0), ("three", 3, 0.5)]:
        W = en * f32(1)
        check_sum_order(W)
        W2 = W.copy()
        for i in range(iters):
            check_sum_order(W2)
            W2 /= np.sum(W2, axis=1)[:, None]
            check_sum_order(W2)
            W2 /= np.sum(W2, axis=0)
        W = create_weights_normalize(W, iters, fac)
        assert W.dtype == f32
        f.case(name)
        f.param("distribution", "1")
        f.param("nomr_fac", fac)
        if iters != 10:
            f.param("iterations", iters)
        f.array("enabled", en)
        f.array("W", W)
    f.write()


def inputs():
    f = File("inputs", """
TimedArray and SpikeGenerator (Brian2's TimedArray and SpikeGeneratorGroup):
'expected' holds the variable after each step.""")
    N, S = 4, 9
    vals = table(3, N, 1, 2, 0, 5, 0.5, -1)
    f.case("timed_set")
    f.param("var", "x")
    f.param("interval", 2)
    f.array("values", vals)
    f.array("expected", np.array([vals[min(k // 2, 2)] for k in range(S)]))
    one = np.array([0.5, -0.25, 2.0], dtype=f32)
    x = np.full(N, 1.0, dtype=f32)
    exp = []
    for k in range(S):
        x = x + one[min(k, 2)]
        exp.append(x.copy())
    f.case("timed_add")
    f.param("var", "x")
    f.param("mode", "add")
    f.array("values", one[:, None])
    f.array("x0", np.full(N, 1.0, dtype=f32))
    f.array("expected", np.array(exp))
    steps = [3, 0, 3, 1, 4, 0, 2]
    neurons = [2, 1, 0, 3, 3, 0, 2]
    period, S = 6, 14
    exp = np.zeros((S, 5), dtype=f32)
    for k in range(S):
        for st, n in zip(steps, neurons):
            if st == k % period:
                exp[k, n] = 1
    f.case("spikegen")
    f.param("period", period)
    f.array("pairs", np.array([steps, neurons]))
    f.array("expected", exp)
    f.write()


if __name__ == "__main__":
    homeostasis()
    exhaustion()
    refractoriness()
    normalization()
    stdp()
    createweights()
    inputs()
