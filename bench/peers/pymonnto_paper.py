#!/usr/bin/python3
"""Independent NumPy implementations of PymoNNto's paper networks, its
Structure code and NOX_Diffusion, run on fixed inputs.

Writes models/testdata/pymonnto_paper_*.txt, the expected outputs that
models/pymonnto_paper_test.go and models/structure_test.go compare
GoMoNNto's PaperNeuron, PaperInput, PymoNNtoBasic, PymoNNtoComplex
(models/pymonnto_paper.go) and GridDim, PartitionMasks,
ReceptiveFieldMask, MaxReceptiveField, PartitionBlocks, Box_/
Circle_Receptive_Fields, Remove_Autapses and NOX_Diffusion
(models/structure.go) with.

What is reproduced is the behaviour of trieschlab/PymoNNto 1fefe55
(Examples_Paper/Basic/Basic.py, Examples_Paper/STDP_Hom_Norm/*.py,
NeuronDimension's positions, the neuron group's partition_masks and
get_subgroup_receptive_field_mask, the synapse group's
get_max_receptive_field_size, NetworkBehavior/Structure: Partition,
Box_/Circle_Receptive_Fields, Remove_Autapses; NetworkBehavior/Basics/
Nox_diffusion.py). The code is our own, written from the documented
semantics (the doc comments of models/pymonnto_paper.go and
models/structure.go), not PymoNNto's; the rules of the paper's
STDP_Hom_Norm come from pymonnto_lib.py.

Inputs and number types:
- PymoNNto's noise, neurons.vector('uniform', density=0.01), is random and
  cannot be compared point by point: here it is a fixed table, added at the
  same place in the step. Likewise Input_Behavior's W, drawn there as
  matrix('uniform', density=0.1), is a fixed matrix (multiples of 1/16, so
  that W.spike is exact in any order of summation).
- Positions are float32. In NumPy 1.x a float32 scalar combined with a
  Python number gives a float64, so PymoNNto computes the block bounds of
  partition_masks and the receptive-field bounds in float64; NumPy rounds
  them to float32 where they meet the float32 positions. The bounds here
  are computed as Python floats and rounded to float32 explicitly, which
  gives the same masks on any NumPy.
- As in pymonnto_lib.py, the factors that multiply boolean masks in the
  homeostasis adjustment (inc, dec, and eta_nox, which becomes
  adj_strength) are np.float32, so that everything stays float32.
PymoNNto behaviour reproduced: partition_masks gives a neuron on a bound
between two blocks to the earlier block (x outermost, z innermost), so
blocks can differ in size or be empty; Partition with split_size 'auto'
does not partition when every axis has fewer than 3 pieces; the maximum
receptive field is at least 1 on every axis. PymoNNto's NOX_Diffusion does
not run as written (it calls split_grid_into_sub_group_blocks on the
behaviour instead of the neuron group, and reads output_new of a boolean
mask: both raise AttributeError); what it computes here is what it means,
the mean of output_new over each block's receptive field.

Run: /usr/bin/python3 bench/peers/pymonnto_paper.py  (needs numpy only)

The file format is pymonnto_lib.py's ("case", "param", "array" lines).
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pymonnto_lib as lib  # noqa: E402
from pymonnto_lib import f32, table, clip_opt, incoming  # noqa: E402


class File(lib.File):
    prefix = "pymonnto_paper_"


# ---- neurons on a grid ----

class Grid(lib.Neurons):
    """width x height x depth neurons, index i at x = i mod width,
    y = (i div width) mod height, z = i div (width*height), each axis
    centred on 0 when centered (NeuronDimension's default)."""

    def __init__(self, width, height, depth, centered=True):
        super().__init__(width * height * depth)
        self.width, self.height, self.depth = width, height, depth
        i = np.arange(self.size)
        self.x = (i % width).astype(f32)
        self.y = (i // width % height).astype(f32)
        self.z = (i // (width * height)).astype(f32)
        if centered:
            self.x -= (width - 1) / 2
            self.y -= (height - 1) / 2
            self.z -= (depth - 1) / 2

    def axes(self):
        return self.x, self.y, self.z


def in_box(g, lower, upper):
    """The neurons of g with lower <= position <= upper on every axis (the
    bounds are Python floats, rounded to float32 for the comparison)."""
    inside = np.ones(g.size, dtype=bool)
    for p, lo, hi in zip(g.axes(), lower, upper):
        inside &= (p >= f32(lo)) & (p <= f32(hi))
    return inside


def block_masks(g, steps):
    """partition_masks(steps): each axis' range [min, max] cut into
    steps[axis] equal pieces; block (a, b, c) holds the neurons inside its
    box that no earlier block holds (x outermost, z innermost)."""
    cuts = []
    for p, n in zip(g.axes(), steps):
        lo, hi = float(np.min(p)), float(np.max(p))
        cuts.append([(lo + (hi - lo) / n * k, lo + (hi - lo) / n * (k + 1)) for k in range(n)])
    taken = np.zeros(g.size, dtype=bool)
    out = []
    for bx in cuts[0]:
        for by in cuts[1]:
            for bz in cuts[2]:
                mask = in_box(g, (bx[0], by[0], bz[0]), (bx[1], by[1], bz[1])) & ~taken
                taken |= mask
                out.append(mask)
    return out


def field_mask(g, members, mask, rf):
    """get_subgroup_receptive_field_mask: the neurons of g inside the
    bounding box of the positions of members' neurons in mask, widened by
    rf[axis] on both sides. np.min of an empty mask raises, as in
    PymoNNto."""
    lower = [float(np.min(p[mask])) - r for p, r in zip(members.axes(), rf)]
    upper = [float(np.max(p[mask])) + r for p, r in zip(members.axes(), rf)]
    return in_box(g, lower, upper)


def distances(src, dst):
    """|dst - src| along each axis, dst x src, float32."""
    return [np.abs(d[:, None] - s[None, :]) for s, d in zip(src.axes(), dst.axes())]


def box_field(src, dst, range):
    dx, dy, dz = distances(src, dst)
    return (dx <= range) & (dy <= range) & (dz <= range)


def circle_field(src, dst, radius):
    dx, dy, dz = distances(src, dst)
    return np.sqrt(dx * dx + dy * dy + dz * dz) <= radius


def no_autapses(src, dst):
    return np.arange(dst.size)[:, None] != np.arange(src.size)[None, :]


def max_field(src, dst, enabled):
    """get_max_receptive_field_size: per axis the largest distance between a
    destination and an enabled source of it, at least 1."""
    enabled = np.broadcast_to(enabled, (dst.size, src.size))
    return tuple(max(1.0, float(np.max(d[enabled], initial=0))) for d in distances(src, dst))


def partition(src, dst, enabled, split_size='auto'):
    """Partition's blocks: (dst mask, src mask) for every non-empty
    destination block of block_masks(dst, split), the source mask being the
    field of the block widened by max_field; with 'auto' about one piece per
    7 neurons, averaged over src and dst, and None when every axis has
    fewer than 3."""
    if split_size == 'auto':
        split = [max(int((s / 7 + d / 7) / 2), 1) for s, d in
                 ((src.width, dst.width), (src.height, dst.height), (src.depth, dst.depth))]
        if all(n < 3 for n in split):
            return None
    else:
        split = list(split_size)
    rf = max_field(src, dst, enabled)
    blocks = [(m, field_mask(src, dst, m, rf)) for m in block_masks(dst, split) if m.any()]
    return blocks, split, rf


# ---- NOX_Diffusion ----

class NOXDiffusion:
    """NOX_Diffusion: the grid is split into steps blocks (block_masks);
    each step every neuron's measurement is the mean of output_new over its
    block's field (field_mask widened by receptive_field on every axis),
    clipped to [measurement_min, measurement_max], and nox is set to 0 and
    then to clip(0 + range_adjustment(m) with min_th = max_th = th_nox and
    adj_strength = -eta_nox, target_clip_min, target_clip_max)."""

    def __init__(self, g, steps=(5, 5, 1), receptive_field=5, th_nox=0, eta_nox=0.002,
                 distance_sensitive=True, inc=1.0, dec=1.0, measurement_min=None, measurement_max=None,
                 target_clip_min=None, target_clip_max=None):
        self.blocks = block_masks(g, steps)
        self.fields = [field_mask(g, g, b, [receptive_field] * 3) for b in self.blocks]
        self.th = th_nox
        self.gain = (f32(inc), f32(dec), -f32(eta_nox))
        self.distance = distance_sensitive
        self.mbounds = (measurement_min, measurement_max)
        self.tbounds = (target_clip_min, target_clip_max)
        g.nox = g.zeros()

    def step(self, g):
        m = g.zeros()
        for block, field in zip(self.blocks, self.fields):
            m[block] += np.mean(g.output_new[field])
        m = clip_opt(m, *self.mbounds)
        g.nox.fill(0)
        add = lib.range_adjustment(m, self.th, self.th, *self.gain, self.distance)
        g.nox = clip_opt(g.nox + add, *self.tbounds)


# ---- the paper's networks ----

class ThresholdUnit:
    """Basic_Behavior: spike = voltage > 0.5; a spiking neuron's voltage is
    reset to 0; voltage *= leak; voltage += noise[k]. Basic.py keeps spike
    boolean and takes leak_factor; Complex.py makes spike float32 and fixes
    the leak at 0.9."""

    def __init__(self, group, noise, leak_factor=0.9, float_spikes=False):
        self.noise, self.leak, self.float_spikes = noise, leak_factor, float_spikes
        group.voltage = group.zeros()

    def step(self, group, k):
        fired = group.voltage > 0.5
        group.spike = fired.astype(f32) if self.float_spikes else fired
        group.voltage = np.where(fired, f32(0), group.voltage) * self.leak
        group.voltage += self.noise[k]


class RecurrentInput:
    """Input_Behavior: every incoming GLUTAMATE projection gets the fixed W
    and enabled = W > 0; each step voltage += (W . src.spike)/src.size*10,
    projection by projection."""

    def __init__(self, group, projections, W):
        self.projections = incoming(projections, group, 'GLUTAMATE')
        for p in self.projections:
            p.W = W.copy()
            p.enabled = p.W > 0

    def step(self, group, k):
        for p in self.projections:
            group.voltage += p.W.dot(p.src.spike) / p.src.size * 10


class Step:
    """A rule of pymonnto_lib.py as a step(group, k)."""

    def __init__(self, rule):
        self.rule = rule

    def step(self, group, k):
        self.rule.step(group)


def fixed_inputs(N, S, every):
    """The fixed noise (about one neuron in 'every' per step, multiples of
    1/16 plus 3/64 in [3/64, 51/64], off the threshold 0.5) and W (dst x
    src, about 1/7 of the entries, multiples of 1/16 in [1/16, 1])."""
    mask = table(S, N, 7, 3, 0, every, 1, 0) == 0
    noise = np.where(mask, table(S, N, 7, 2, 1, 13, 1 / 16, 3 / 64), 0).astype(f32)
    wmask = table(N, N, 3, 5, 1, 7, 1, 0) == 0
    W = np.where(wmask, table(N, N, 1, 2, 0, 16, 1 / 16, 1 / 16), 0).astype(f32)
    return noise, W


def margin(v_before, th=0.5):
    return float(np.min(np.abs(v_before - f32(th))))


def basic():
    f = File("basic", """
The paper's Basic.py on 64 neurons (8 x 8) with a recurrent GLUTAMATE group:
Basic_Behavior (key 1), the fixed noise 'noise' (step x neuron) added where
Basic_Behavior adds its random noise, Input_Behavior (key 2) with the fixed
W (dst x src). 'spike' and 'voltage' hold the values after each step;
'margin' is the smallest distance of a voltage compared with the threshold
0.5 from it (a bound for how far rounding could move a voltage without
changing a spike).""")
    N, S = 64, 40
    noise, W = fixed_inputs(N, S, 10)
    for name, kw in [("default", {}), ("leak", dict(leak_factor=0.75))]:
        g = Grid(8, 8, 1)
        net = [lib.Projection(g, g, ['GLUTAMATE'], np.zeros((N, N)))]
        rules = [ThresholdUnit(g, noise, **kw), RecurrentInput(g, net, W)]
        spikes, volts, m = [], [], 1.0
        for k in range(S):
            m = min(m, margin(g.voltage))
            for r in rules:
                r.step(g, k)
            assert g.voltage.dtype == f32
            spikes.append(g.spike.astype(f32))
            volts.append(g.voltage.copy())
        assert m > 1e-4, m
        assert 0 < np.sum(spikes) < S * N
        f.case(name)
        f.params(kw)
        f.array("noise", noise)
        f.array("W", W)
        f.array("spike", np.array(spikes))
        f.array("voltage", np.array(volts))
        f.array("margin", np.array([m]))
    f.write()


def complex_():
    f = File("complex", """
The paper's Complex.py on 32 neurons (4 x 8) with a recurrent GLUTAMATE
group: Basic_Behavior (1) with the fixed noise 'noise', Input_Behavior (2)
with the fixed W, Homeostasis(target_voltage=0.05) (3),
STDP(stdp_factor=0.00015) (4), Normalization(norm_factor=10) (5).
'spike', 'voltage', 'exhaustion' and 'mean_voltage' (np.mean, the
Recorder's second expression) hold the values after each step; 'W_after'
holds W (dst x src) after the steps listed in 'W_steps' (1-based);
'margin' as in pymonnto_paper_basic.txt.""")
    N, S = 32, 40
    noise, W = fixed_inputs(N, S, 20)
    g = Grid(4, 8, 1)
    syn = lib.Projection(g, g, ['GLUTAMATE'], np.zeros((N, N)))
    net = [syn]
    rules = [ThresholdUnit(g, noise, float_spikes=True), RecurrentInput(g, net, W),
             Step(lib.Exhaustion(g, target_voltage=0.05)),
             Step(lib.ThreeTermSTDP(g, net, stdp_factor=0.00015)),
             Step(lib.RowNormalization(g, net, clip=False, norm_factor=10))]
    wsteps = [1, 2, 3, 5, 10, 20, 30, 40]
    spikes, volts, exh, means, ws, m = [], [], [], [], [], 1.0
    for k in range(S):
        m = min(m, margin(g.voltage))
        for r in rules:
            r.step(g, k)
        assert g.voltage.dtype == f32 and syn.W.dtype == f32 and g.exhaustion.dtype == f32
        spikes.append(g.spike.copy())
        volts.append(g.voltage.copy())
        exh.append(g.exhaustion.copy())
        means.append(np.mean(g.voltage))
        if k + 1 in wsteps:
            ws.append(syn.W.ravel().copy())
    assert m > 1e-3, m
    assert 0 < np.sum(spikes) < S * N
    f.case("complex")
    f.array("noise", noise)
    f.array("W", W)
    f.array("spike", np.array(spikes))
    f.array("voltage", np.array(volts))
    f.array("exhaustion", np.array(exh))
    f.array("mean_voltage", np.array(means, dtype=f32))
    f.array("W_steps", np.array(wsteps, dtype=f32))
    f.array("W_after", np.array(ws))
    f.array("margin", np.array([m]))
    f.write()


def structure():
    f = File("structure", """
PymoNNto's Structure code on fixed grids. Case 'grid_*': a group of
width x height x depth (params; centered True unless 'centered False'),
its positions 'x', 'y', 'z', the masks of partition_masks(steps) ('blocks',
one row per block, 0/1) and of get_subgroup_receptive_field_mask(block,
rf) for each block ('fields', rf the param). Case 'rf_*': a synapse group
src -> dst (grids 'src' and 'dst': width height depth) with
Box_/Circle_Receptive_Fields (param kind, range or radius,
remove_autapses): 'enabled' (dst x src, 0/1) and
get_max_receptive_field_size of it ('max_rf'). Case 'partition_*': the
blocks of Partition (split 'auto' or given) on a synapse group whose
enabled is a box receptive field: 'dst_blocks' and 'src_blocks' (one row
per non-empty block), 'split' and 'max_rf'.""")
    grids = [
        ("grid_10x10", (10, 10, 1, True), [3, 3, 1], [2, 1, 1]),
        ("grid_8x5x2", (8, 5, 2, True), [5, 5, 1], [5, 5, 5]),
        ("grid_7x6_plain", (7, 6, 1, False), [2, 3, 2], [1.5, 0, 1]),
        ("grid_12x11x2", (12, 11, 2, True), [4, 1, 2], [2.5, 3, 0]),
        ("grid_3x4_empty", (3, 4, 1, True), [5, 2, 1], [1, 1, 1]),
    ]
    for name, (w, h, d, c), steps, rf in grids:
        g = Grid(w, h, d, centered=c)
        masks = block_masks(g, steps)
        # an empty block has no field (PymoNNto: np.min of nothing raises)
        fields = [field_mask(g, g, mk, rf) if mk.any() else np.zeros(g.size, dtype=bool) for mk in masks]
        assert np.all(np.sum(np.array(masks), axis=0) <= 1)
        f.case(name)
        f.param("width", w)
        f.param("height", h)
        f.param("depth", d)
        f.param("centered", c)
        f.param("steps", ",".join(str(s) for s in steps))
        f.param("rf", ",".join(str(r) for r in rf))
        f.array("x", g.x)
        f.array("y", g.y)
        f.array("z", g.z)
        f.array("blocks", np.array(masks).astype(f32))
        f.array("fields", np.array(fields).astype(f32))
    rfs = [
        ("rf_box", (6, 5, 2), (4, 4, 1), dict(kind="box", range=1.5)),
        ("rf_circle", (6, 5, 2), (4, 4, 1), dict(kind="circle", radius=2.25)),
        ("rf_circle_recurrent", (5, 5, 1), None, dict(kind="circle", radius=1.5, remove_autapses=True)),
        ("rf_autapses", (4, 3, 1), None, dict(kind="autapses")),
    ]
    for name, sd, dd, kw in rfs:
        src = Grid(*sd)
        dst = src if dd is None else Grid(*dd)
        kw = dict(kw)
        kind = kw.pop("kind")
        enabled = np.ones((dst.size, src.size), dtype=bool)
        if kind == "box":
            enabled &= box_field(src, dst, kw["range"])
        elif kind == "circle":
            enabled &= circle_field(src, dst, kw["radius"])
        if kind == "autapses" or kw.get("remove_autapses", False):
            enabled &= no_autapses(src, dst)
        f.case(name)
        f.param("kind", kind)
        f.params(kw)
        f.array("src", np.array(sd, dtype=f32))
        f.array("dst", np.array(sd if dd is None else dd, dtype=f32))
        f.array("enabled", enabled.astype(f32))
        f.array("max_rf", np.array(max_field(src, dst, enabled), dtype=f32))
    parts = [
        ("partition_auto", (21, 21, 1), (21, 21, 1), 2.0, 'auto'),
        ("partition_given", (10, 8, 1), (7, 6, 1), 1.0, [2, 3, 1]),
        ("partition_none", (14, 14, 1), (14, 14, 1), 1.0, 'auto'),
    ]
    for name, sd, dd, rng, split in parts:
        src, dst = Grid(*sd), Grid(*dd)
        enabled = box_field(src, dst, rng)
        res = partition(src, dst, enabled, split)
        f.case(name)
        f.param("range", rng)
        f.param("split_size", split if split == 'auto' else ",".join(str(x) for x in split))
        f.array("src", np.array(sd, dtype=f32))
        f.array("dst", np.array(dd, dtype=f32))
        if res is None:
            f.param("partitioned", False)
            continue
        blocks, used, mrf = res
        cover = np.zeros_like(enabled)
        for dm, sm in blocks:
            cover |= dm[:, None] & sm[None, :]
        assert np.all(cover[enabled]), "an enabled synapse outside every block"
        f.param("partitioned", True)
        f.array("split", np.array(used, dtype=f32))
        f.array("max_rf", np.array(mrf, dtype=f32))
        f.array("dst_blocks", np.array([dm for dm, _ in blocks]).astype(f32))
        f.array("src_blocks", np.array([sm for _, sm in blocks]).astype(f32))
    f.write()


def nox():
    f = File("nox", """
NOX_Diffusion on a 12 x 11 x 2 grid (centered): at each step output_new is
set from the table 'output_new' (multiples of 1/16, some negative; step x
neuron), then the behaviour runs; 'nox' holds nox after each step and
'blocks' the masks of its blocks (one row per block).""")
    S = 8
    cases = [
        ("default", dict()),
        ("custom", dict(th_nox=0.125, eta_nox=0.0625, steps=[3, 2, 2], receptive_field=2,
                        inc=1.5, dec=0.5, target_clip_max=0.001)),
        ("plain", dict(eta_nox=0.5, steps=[2, 2, 1], receptive_field=1, distance_sensitive=False,
                       measurement_min=-0.0625)),
    ]
    for name, kw in cases:
        g = Grid(12, 11, 2)
        out = table(S, g.size, 3, 7, 1, 23, 1 / 16, -0.5)
        rule = NOXDiffusion(g, **kw)
        noxes = []
        for k in range(S):
            g.output_new = out[k].copy()
            rule.step(g)
            assert g.nox.dtype == f32, g.nox.dtype
            noxes.append(g.nox.copy())
        f.case(name)
        for key, v in kw.items():
            f.param(key, ",".join(str(x) for x in v) if isinstance(v, list) else v)
        f.array("output_new", out)
        f.array("blocks", np.array(rule.blocks).astype(f32))
        f.array("nox", np.array(noxes))
    f.write()


if __name__ == "__main__":
    basic()
    complex_()
    structure()
    nox()
