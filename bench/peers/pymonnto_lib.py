#!/usr/bin/python3
"""Independent NumPy implementations of PymoNNto's behaviour library, run
on fixed inputs.

Writes models/testdata/pymonnto_lib_*.txt, the expected outputs that
models/pymonnto_lib_test.go compares GoMoNNto's behaviours
(models/pymonnto_lib.go) with, step by step, on cpu and gl.

What is reproduced is the behaviour of trieschlab/PymoNNto 1fefe55
(NetworkBehavior/Basics: Instant_Homeostasis, Time_Integration_Homeostasis,
Synaptic_Normalization, refractory, CreateWeights; Examples_Paper/
STDP_Hom_Norm: STDP, Homeostasis, Normalization). The rules here are our
own NumPy code, written from the documented equations (the doc comments of
models/pymonnto_lib.go, which give each rule's equations and order of
operations), not PymoNNto's code: no framework, each rule is a small class
with a step() on plain arrays. PymoNNto's parameter names and defaults are
kept, since users know them.

Number types. Every state array is float32, PymoNNto's default def_dtype.
A parameter is a Python float, as in PymoNNto, and NumPy rounds it to
float32 where it meets a float32 array. Two facts about PymoNNto's
arithmetic that the outputs depend on:
- Instant_Homeostasis multiplies the boolean masks m > max_th and
  m < min_th by dec and inc. With Python floats NumPy promotes
  bool * float to float64, so PymoNNto's adjusted variable becomes
  float64. Here inc, dec and adj_strength are np.float32, which keeps the
  whole update float32 (what GoMoNNto computes).
- min_th and max_th from threshold and gap_percent are Python floats,
  th - th/100*gap and th + th/100*gap; Time_Integration_Homeostasis starts
  its average at the Python float (min_th + max_th)/2, so the first step's
  avg*integration_length is computed in float64 and rounded to float32 once,
  when it meets the float32 measurement.
Other PymoNNto behaviour reproduced: Synaptic_Normalization divides by the
sum over all afferent groups of the tag together, leaves a neuron whose sum
is 0 alone (it divides by sum + (sum == 0)) and clips at 0 also without
clip_max; the paper's Normalization is the same division with no clip. The
paper's STDP copies the group's spike into spike_old after all its
afferent groups, so a source group keeps its own spike_old only with an
STDP of its own (run after the destination's, it still holds the previous
step's spikes when the destination reads it). CreateWeights always does 10
row/column normalisations (its loop count is fixed) and calls its factor
nomr_fac.

The inputs are deterministic (no random numbers), mostly multiples of 1/16,
and are written to the files too, so the Go test reads them instead of
recomputing them.

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
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models", "testdata")


# ---- neurons and synapses ----

class Neurons:
    """A neuron group: a size and float32 variables set as attributes."""

    def __init__(self, size):
        self.size = size

    def zeros(self):
        return np.zeros(self.size, dtype=f32)


class Projection:
    """Synapses src -> dst with tags: W (dst x src, float32) and enabled
    (a boolean mask of W's shape, or True for all)."""

    def __init__(self, src, dst, tags, W):
        self.src, self.dst, self.tags = src, dst, set(tags)
        self.W = np.array(W, dtype=f32)
        self.enabled = True


def incoming(projections, group, tag):
    """The projections into group with the tag, in the order given."""
    return [p for p in projections if p.dst is group and tag in p.tags]


def clip_opt(x, lo, hi):
    """x clipped to [lo, hi], where None is no bound."""
    if lo is None and hi is None:
        return x
    return np.clip(x, lo, hi)


# ---- homeostasis of a variable towards a target range ----

def target_range(min_th=None, max_th=None, threshold=None, gap_percent=None):
    """[min_th, max_th] as Python floats: threshold (with gap_percent the
    range th -/+ th/100*gap_percent) overrides min_th and max_th."""
    if threshold is None:
        return min_th, max_th
    if gap_percent is None:
        return threshold, threshold
    d = threshold / 100 * gap_percent
    return threshold - d, threshold + d


def range_adjustment(m, lo, hi, inc, dec, strength, distance_sensitive):
    """The change of the adjusted variable for the measurement m:
    strength*(inc*(lo - m) below lo - dec*(m - hi) above hi), where without
    distance_sensitive the distances (lo - m) and (m - hi) are 1."""
    zero, one = f32(0), f32(1)
    if distance_sensitive:
        over = np.where(m > hi, m - hi, zero)
        under = np.where(m < lo, lo - m, zero)
    else:
        over = np.where(m > hi, one, zero)
        under = np.where(m < lo, one, zero)
    return (inc * under - dec * over) * strength


class RangeHomeostasis:
    """Instant_Homeostasis, and with integrate Time_Integration_Homeostasis.
    Each step: m = clip(measurement, measurement_min, measurement_max),
    where the measurement is the expression measurement_param of the group
    n (e.g. 'n.activity'); integrating, m is replaced by the running average
    avg = (avg*integration_length + m)/(integration_length + 1) (starting at
    init_avg, by default (min_th + max_th)/2); then the variable
    adjustment_param += range_adjustment(m), clipped to [target_clip_min,
    target_clip_max]."""

    def __init__(self, group, measurement_param, adjustment_param, min_th=None, max_th=None,
                 threshold=None, gap_percent=None, distance_sensitive=True, inc=1.0, dec=1.0,
                 adj_strength=1.0, measurement_min=None, measurement_max=None,
                 target_clip_min=None, target_clip_max=None, integrate=False,
                 integration_length=1, init_avg=None):
        self.lo, self.hi = target_range(min_th, max_th, threshold, gap_percent)
        self.expr = compile(measurement_param, measurement_param, 'eval')
        self.var = adjustment_param
        self.gain = (f32(inc), f32(dec), f32(adj_strength))
        self.distance = distance_sensitive
        self.mbounds = (measurement_min, measurement_max)
        self.tbounds = (target_clip_min, target_clip_max)
        self.integrate = integrate
        self.length = integration_length
        self.average = (self.lo + self.hi) / 2 if init_avg is None else init_avg

    def step(self, group):
        m = clip_opt(eval(self.expr, {'np': np}, {'n': group}), *self.mbounds)
        if self.integrate:
            self.average = (self.average * self.length + m) / (self.length + 1)
            m = self.average
        add = range_adjustment(m, self.lo, self.hi, *self.gain, self.distance)
        setattr(group, self.var, clip_opt(getattr(group, self.var) + add, *self.tbounds))


class Exhaustion:
    """The paper's Homeostasis: exhaustion grows by eta_ip times the signed
    distance of the voltage outside [min_ta, max_ta] (v - max_ta above,
    v - min_ta below, 0 inside) and is subtracted from the voltage."""

    def __init__(self, group, target_voltage=0.05, max_ta=None, min_ta=None, eta_ip=0.001):
        self.hi = target_voltage if max_ta is None else max_ta
        self.lo = target_voltage if min_ta is None else min_ta
        self.eta = eta_ip
        group.exhaustion = group.zeros()

    def step(self, group):
        v, zero = group.voltage, f32(0)
        outside = np.where(v > self.hi, v - self.hi, zero) + np.where(v < self.lo, v - self.lo, zero)
        group.exhaustion += self.eta * outside
        group.voltage -= group.exhaustion


class OutputTrace:
    """refractory (relative): a decaying trace of the output, subtracted
    from the activity: trace = trace*decayfactor + output; activity -=
    trace*strengthfactor."""

    def __init__(self, group, decayfactor=0.5, strengthfactor=1.0):
        self.decay, self.strength = decayfactor, strengthfactor
        group.refractory_counter = group.zeros()

    def step(self, group):
        group.refractory_counter = group.refractory_counter * self.decay + group.output
        group.activity -= group.refractory_counter * self.strength


# ---- weights ----

class RowNormalization:
    """Synaptic_Normalization (clip True, syn_type 'GLU' by default) and the
    paper's Normalization (clip False, 'GLUTAMATE'): per destination neuron,
    s = (sum of |W| over every incoming projection of the tag) / norm_factor;
    each such W is divided by s (by 1 where s is 0); with clip it is then
    clipped to [0, clip_max]."""

    def __init__(self, group, projections, clip, syn_type=None, norm_factor=1.0, clip_max=None):
        if syn_type is None:
            syn_type = 'GLU' if clip else 'GLUTAMATE'
        self.projections = incoming(projections, group, syn_type)
        self.norm = norm_factor
        self.clip, self.clip_max = clip, clip_max

    def step(self, group):
        total = group.zeros()
        for p in self.projections:
            total += np.abs(p.W).sum(axis=1)
        total /= self.norm
        divisor = np.where(total == 0, f32(1), total)[:, None]
        for p in self.projections:
            p.W = p.W / divisor
        if self.clip:
            for p in self.projections:
                p.W = np.clip(p.W, 0, self.clip_max)


class ThreeTermSTDP:
    """The paper's STDP on the group post: for every incoming projection of
    the tag, dw = stdp_factor*(post(t)pre(t-1) - post(t-1)pre(t) +
    post(t)pre(t)) and W = clip(W + dw*enabled, 0, 10); afterwards the
    group's spike becomes its spike_old (see the module doc)."""

    def __init__(self, group, projections, stdp_factor=0.0015, syn_type='GLUTAMATE'):
        self.projections = incoming(projections, group, syn_type)
        self.factor = stdp_factor
        group.spike_old = group.zeros()

    def step(self, post):
        for p in self.projections:
            pre = p.src
            pairs = np.outer(post.spike, pre.spike_old) - np.outer(post.spike_old, pre.spike) \
                + np.outer(post.spike, pre.spike)
            p.W = np.clip(p.W + (self.factor * pairs) * p.enabled, 0.0, 10.0)
        post.spike_old = np.array(post.spike, dtype=f32)


def sinkhorn(W, iterations=10, nomr_fac=1.0, check=None):
    """CreateWeights' normalisation of a drawn W (dst x src): iterations
    times each row and then each column divided by its sum, then times
    nomr_fac. check(W) is called before each division."""
    for _ in range(iterations):
        if check:
            check(W)
        W = W / W.sum(axis=1)[:, None]
        if check:
            check(W)
        W = W / W.sum(axis=0)[None, :]
    return W * nomr_fac


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
    prefix = "pymonnto_lib_"

    def __init__(self, name, doc):
        self.name = name
        self.lines = ["# " + l for l in doc.strip().splitlines()]
        self.lines.append("# generated by bench/peers/%s.py (numpy %s)" % (self.prefix.rstrip("_"), np.__version__))

    def case(self, name):
        self.lines.append("case " + name)

    def param(self, key, value):
        self.lines.append("param %s %s" % (key, value))

    def params(self, kw):
        for key, v in kw.items():
            self.param(key, v)

    def array(self, name, a):
        a = np.asarray(a, dtype=f32)
        if a.ndim == 1:
            a = a[None, :]
        assert a.dtype == f32, name
        self.lines.append("array %s %d %d" % (name, a.shape[0], a.shape[1]))
        self.lines.append(" ".join("%.9g" % float(x) for x in a.ravel()))

    def write(self):
        path = os.path.join(OUT, "%s%s.txt" % (self.prefix, self.name))
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
        ("instant", "Instant_Homeostasis", dict(
            measurement_param='n.activity', adjustment_param='threshold', threshold=0.5, gap_percent=20.0,
            inc=1.5, dec=0.5, adj_strength=0.25, measurement_min=0.0, measurement_max=1.0,
            target_clip_min=-0.125, target_clip_max=0.375)),
        ("instant_plain", "Instant_Homeostasis", dict(
            measurement_param='n.activity', adjustment_param='threshold', min_th=0.25, max_th=0.75,
            distance_sensitive=False)),
        ("integration", "Time_Integration_Homeostasis", dict(
            measurement_param='n.activity', adjustment_param='threshold', threshold=0.5, gap_percent=10.0,
            adj_strength=0.5, integration_length=3, target_clip_min=0.0)),
    ]
    for name, behaviour, kw in cases:
        integrate = behaviour == "Time_Integration_Homeostasis"
        n = Neurons(N)
        n.threshold = th0.copy()
        rule = RangeHomeostasis(n, integrate=integrate, **kw)
        ths, avgs = [], []
        for k in range(S):
            n.activity = act[k].copy()
            rule.step(n)
            assert n.threshold.dtype == f32
            ths.append(n.threshold.copy())
            avgs.append(np.copy(rule.average))
        f.case(name)
        f.param("behaviour", behaviour)
        f.params(kw)
        f.array("activity", act)
        f.array("threshold0", th0)
        f.array("threshold", np.array(ths))
        if integrate:
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
        n = Neurons(N)
        n.voltage = n.zeros()
        rule = Exhaustion(n, **kw)
        vs, es = [], []
        for k in range(S):
            n.voltage += inp[k]
            rule.step(n)
            assert n.voltage.dtype == f32 and n.exhaustion.dtype == f32
            vs.append(n.voltage.copy())
            es.append(n.exhaustion.copy())
        f.case(name)
        f.params(kw)
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
        n = Neurons(N)
        n.activity = n.zeros()
        rule = OutputTrace(n, **kw)
        acts, rcs = [], []
        for k in range(S):
            n.output = out[k].copy()
            n.activity += ain[k]
            rule.step(n)
            assert n.activity.dtype == f32 and n.refractory_counter.dtype == f32
            acts.append(n.activity.copy())
            rcs.append(n.refractory_counter.copy())
        f.case(name)
        f.params(kw)
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
        C, A, B, D = Neurons(5), Neurons(7), Neurons(3), Neurons(4)
        WA = table(5, 7, 3, 5, 1, 13, 1 / 16, -0.25)
        WB = table(5, 3, 1, 4, 2, 11, 1 / 16, -0.125)
        WD = table(5, 4, 2, 1, 0, 7, 1 / 16, 0)
        if zero_row is not None:
            WA[zero_row] = 0
            WB[zero_row] = 0
        pa, pb, pd = Projection(A, C, ['GLUTAMATE'], WA), Projection(B, C, ['GLUTAMATE'], WB), \
            Projection(D, C, ['GABA'], WD)
        rule = RowNormalization(C, [pa, pb, pd], clip=True, **kw)
        wa, wb = [], []
        for k in range(S):
            rule.step(C)
            assert pa.W.dtype == f32 and pb.W.dtype == f32
            wa.append(pa.W.ravel().copy())
            wb.append(pb.W.ravel().copy())
        assert np.array_equal(pd.W, WD)
        f.case(name)
        f.params(kw)
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
        A, B = Neurons(6), Neurons(4)
        pAA, pBA, pG = Projection(A, A, ['GLUTAMATE'], WAA0), Projection(B, A, ['GLUTAMATE'], WBA0), \
            Projection(B, A, ['GABA'], WG0)
        pAA.enabled = WAA0 > 0
        net = [pAA, pBA, pG]
        rules = [(A, ThreeTermSTDP(A, net, **kw)), (B, ThreeTermSTDP(B, net, **kw))]
        if norm is not None:
            rules.append((A, RowNormalization(A, net, clip=False, **norm)))
        waa, wba = [], []
        for k in range(S):
            A.spike, B.spike = mA[k].copy(), mB[k].copy()
            for group, rule in rules:
                rule.step(group)
            assert pAA.W.dtype == f32 and pBA.W.dtype == f32
            waa.append(pAA.W.ravel().copy())
            wba.append(pBA.W.ravel().copy())
        assert np.array_equal(pG.W, WG0)
        f.case(name)
        f.params(kw)
        if norm is not None:
            f.params(norm)
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
        W = sinkhorn(W, iters, fac, check=check_sum_order)
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
