#!/usr/bin/python3
"""NumPy replicas of PymoNNto's paper networks and Structure code.

Writes models/testdata/pymonnto_paper_*.txt, the expected outputs that
models/pymonnto_paper_test.go and models/structure_test.go compare
GoMoNNto's PaperNeuron, PaperInput, PymoNNtoBasic, PymoNNtoComplex
(models/pymonnto_paper.go) and GridDim, PartitionMasks,
ReceptiveFieldMask, MaxReceptiveField, PartitionBlocks, Box_/
Circle_Receptive_Fields, Remove_Autapses and NOX_Diffusion
(models/structure.go) with.

The code below is PymoNNto's (trieschlab/PymoNNto 1fefe55:
Examples_Paper/Basic/Basic.py, Examples_Paper/STDP_Hom_Norm/*.py,
NetworkCore/Neuron_Group.py, NetworkCore/Synapse_Group.py,
NetworkBehavior/Structure/*.py, NetworkBehavior/Basics/Nox_diffusion.py),
with the framework replaced by stubs (those of pymonnto_lib.py, plus a
grid group with NeuronDimension's positions and NeuronSubGroup's masked
attributes). Three changes, each marked "CHANGE":
- the noise neurons.vector('uniform', density=0.01) is a fixed table
  (random numbers cannot be compared point by point), added at the same
  place;
- Input_Behavior's W is a fixed matrix (multiples of 1/16, so that
  W.dot(spike) is exact in any order of summation) instead of
  matrix('uniform', density=0.1);
- NOX_Diffusion calls self.split_grid_into_sub_group_blocks (a method of
  the neuron group, not of the behaviour) and np.mean(sg_rf.output_new)
  with sg_rf a boolean mask: both raise AttributeError in PymoNNto; here
  neurons.split_grid_into_sub_group_blocks and neurons.subGroup(sg_rf).
As in pymonnto_lib.py, the factors that multiply boolean arrays (inc,
dec, adj_strength, and eta_nox, which becomes adj_strength) are
np.float32, so that everything stays float32.

Run: /usr/bin/python3 bench/peers/pymonnto_paper.py  (needs numpy only)

The file format is pymonnto_lib.py's ("case", "param", "array" lines).
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pymonnto_lib as lib  # noqa: E402
from pymonnto_lib import (Behavior, Group, Syn, Homeostasis, STDP, Normalization,  # noqa: E402
                          Instant_Homeostasis, table, f32, afferent)

lib.F32_KEYS.add('eta_nox')


class File(lib.File):
    def write(self):
        path = os.path.join(lib.OUT, "pymonnto_paper_%s.txt" % self.name)
        with open(path, "w") as f:
            f.write("\n".join(self.lines) + "\n")
        print("wrote", os.path.normpath(path))


# ---- framework stubs: a group on a grid (NeuronDimension) ----

class Grid(Group):
    def __init__(self, width, height, depth, net, centered=True):
        super().__init__(width * height * depth, net)
        self.width, self.height, self.depth = width, height, depth
        # NeuronDimension.set_positions and move (centered=True)
        self.x = np.array([i % width for i in range(self.size)]).astype(f32)
        self.y = np.array([np.floor(i / width) % height for i in range(self.size)]).astype(f32)
        self.z = np.array([np.floor(i / (width * height)) for i in range(self.size)]).astype(f32)
        if centered:
            self.x += -(width - 1) / 2
            self.y += -(height - 1) / 2
            self.z += -(depth - 1) / 2

    # NetworkCore/Neuron_Group.py

    def subGroup(self, mask=None):
        return NeuronSubGroup(self, mask)

    def partition_masks(self, steps=[1, 1, 1]):

        dst_min = [np.min(p) for p in [self.x, self.y, self.z]]
        dst_max = [np.max(p) for p in [self.x, self.y, self.z]]

        def get_start_end(step, dim):
            start = dst_min[dim] + (dst_max[dim] - dst_min[dim]) / steps[dim] * step
            end = dst_min[dim] + (dst_max[dim] - dst_min[dim]) / steps[dim] * (step + 1)
            return start, end

        results = []

        masks = []
        for w_step in range(steps[0]):  # x_steps
            dst_x_start, dst_x_end = get_start_end(w_step, 0)
            for h_step in range(steps[1]):  # y_steps
                dst_y_start, dst_y_end = get_start_end(h_step, 1)
                for d_step in range(steps[2]):  # z_steps
                    dst_z_start, dst_z_end = get_start_end(d_step, 2)

                    sub_group_mask = (self.x >= dst_x_start) * (self.x <= dst_x_end) * (self.y >= dst_y_start) * (self.y <= dst_y_end) * (self.z >= dst_z_start) * (self.z <= dst_z_end)

                    # remove redundancies
                    for old_dst_mask in masks:
                        sub_group_mask[old_dst_mask] *= False
                    masks.append(sub_group_mask)

                    results.append(sub_group_mask)

        return results

    def split_grid_into_sub_group_blocks(self, steps=[1, 1, 1]):
        return [self.subGroup(mask) for mask in self.partition_masks(steps)]

    def get_subgroup_receptive_field_mask(self, subgroup, xyz_rf=[1, 1, 1]):
        rf_x, rf_y, rf_z = xyz_rf

        src_x_start = np.min(subgroup.x) - rf_x
        src_x_end = np.max(subgroup.x) + rf_x

        src_y_start = np.min(subgroup.y) - rf_y
        src_y_end = np.max(subgroup.y) + rf_y

        src_z_start = np.min(subgroup.z) - rf_z
        src_z_end = np.max(subgroup.z) + rf_z

        mask = (self.x >= src_x_start) * (self.x <= src_x_end) * (self.y >= src_y_start) * (self.y <= src_y_end) * (self.z >= src_z_start) * (self.z <= src_z_end)

        return mask


class NeuronSubGroup:  # NetworkCore/Neuron_Group.py, numpy branches only

    def __init__(self, BaseNeuronGroup, mask):
        self.BaseNeuronGroup = BaseNeuronGroup
        self.mask = mask

    def __getattr__(self, attr_name):
        if attr_name in ['BaseNeuronGroup', 'mask']:
            return super().__getattr__(attr_name)
        if attr_name == 'size':
            return np.sum(self.mask)
        attr = getattr(self.BaseNeuronGroup, attr_name)
        if type(attr) == np.ndarray:
            if attr.shape[0] != self.mask.shape[0]:
                return attr[:, self.mask]
            else:
                return attr[self.mask]
        return attr

    def __setattr__(self, attr_name, value):
        if attr_name in ['BaseNeuronGroup', 'mask']:
            super().__setattr__(attr_name, value)
            return
        attr = getattr(self.BaseNeuronGroup, attr_name)
        if type(attr) == np.ndarray:
            if attr.shape[0] != self.mask.shape[0]:
                attr[:, self.mask] = value
            else:
                attr[self.mask] = value
        else:
            setattr(self.BaseNeuronGroup, attr, value)


class GridSyn(Syn):
    def __init__(self, src, dst, tags, W=None):
        super().__init__(src, dst, tags, np.zeros((dst.size, src.size), dtype=f32) if W is None else W)

    def get_max_receptive_field_size(self):  # NetworkCore/Synapse_Group.py
        max_dx = 1
        max_dy = 1
        max_dz = 1

        for i in range(self.dst.size):
            if type(self.enabled) is np.ndarray:
                mask = self.enabled[i]
            else:
                mask = self.enabled

            if np.sum(mask) > 0:
                x = self.dst.x[i]
                y = self.dst.y[i]
                z = self.dst.z[i]

                sx_v = self.src.x[mask]
                sy_v = self.src.y[mask]
                sz_v = self.src.z[mask]

                max_dx = np.maximum(np.max(np.abs(x - sx_v)), max_dx)
                max_dy = np.maximum(np.max(np.abs(y - sy_v)), max_dy)
                max_dz = np.maximum(np.max(np.abs(z - sz_v)), max_dz)

        return max_dx, max_dy, max_dz


# ---- NetworkBehavior/Structure/Receptive_Fields.py ----

class Receptive_Fields(Behavior):

    def initialize(self, synapses):
        src = synapses.src
        dst = synapses.dst

        s_id = np.tile(np.arange(src.size), (1, dst.size)).reshape(dst.size, src.size)
        sx = np.tile(src.x, (1, dst.size)).reshape(dst.size, src.size)
        sy = np.tile(src.y, (1, dst.size)).reshape(dst.size, src.size)
        sz = np.tile(src.z, (1, dst.size)).reshape(dst.size, src.size)

        d_id = np.tile(np.arange(dst.size), (1, src.size)).reshape(src.size, dst.size).transpose()
        dx = np.tile(dst.x, (1, src.size)).reshape(src.size, dst.size).transpose()
        dy = np.tile(dst.y, (1, src.size)).reshape(src.size, dst.size).transpose()
        dz = np.tile(dst.z, (1, src.size)).reshape(src.size, dst.size).transpose()

        synapses.enabled *= self.get_enabled_mat(synapses, s_id, sx, sy, sz, d_id, dx, dy, dz)

        if self.parameter('remove_autapses', False):
            synapses.enabled *= (s_id != d_id)


class Box_Receptive_Fields(Receptive_Fields):

    def get_enabled_mat(self, synapses, s_id, sx, sy, sz, d_id, dx, dy, dz):
        range = self.parameter('range', None)
        x_diff = np.abs(sx - dx)
        y_diff = np.abs(sy - dy)
        z_diff = np.abs(sz - dz)
        return (x_diff <= range) * (y_diff <= range) * (z_diff <= range)


class Circle_Receptive_Fields(Receptive_Fields):

    def get_enabled_mat(self, synapses, s_id, sx, sy, sz, d_id, dx, dy, dz):
        radius = self.parameter('radius', None)
        x_diff = np.abs(sx - dx)
        y_diff = np.abs(sy - dy)
        z_diff = np.abs(sz - dz)
        return np.sqrt(x_diff * x_diff + y_diff * y_diff + z_diff * z_diff) <= radius


class Remove_Autapses(Behavior):

    def initialize(self, synapses):
        src = synapses.src
        dst = synapses.dst

        s_id = np.tile(np.arange(src.size), (1, dst.size)).reshape(dst.size, src.size)
        d_id = np.tile(np.arange(dst.size), (1, src.size)).reshape(src.size, dst.size).transpose()

        synapses.enabled *= (s_id != d_id)


def partition_blocks(synapses, split_size='auto'):
    """NetworkBehavior/Structure/Partition.py without the sub synapse
    groups: the (dst mask, src mask) pairs it builds them from."""
    if split_size == 'auto':
        best_block_size = 7
        w = int((synapses.src.width / best_block_size + synapses.dst.width / best_block_size) / 2)
        h = int((synapses.src.height / best_block_size + synapses.dst.height / best_block_size) / 2)
        d = int((synapses.src.depth / best_block_size + synapses.dst.depth / best_block_size) / 2)
        split_size = [np.maximum(w, 1), np.maximum(h, 1), np.maximum(d, 1)]
        if split_size[0] < 3 and split_size[1] < 3 and split_size[2] < 3:
            return None  # do not partition in this case
    dst_group_masks = synapses.dst.partition_masks(split_size)
    rf_x, rf_y, rf_z = synapses.get_max_receptive_field_size()
    out = []
    for dst_mask in dst_group_masks:
        dst_subgroup = synapses.dst.subGroup(dst_mask)
        if np.sum(dst_mask) == 0:
            continue  # PymoNNto: np.min of an empty array raises
        src_mask = synapses.src.get_subgroup_receptive_field_mask(dst_subgroup, [rf_x, rf_y, rf_z])
        out.append((dst_mask, src_mask))
    return out, split_size, (rf_x, rf_y, rf_z)


# ---- NetworkBehavior/Basics/Nox_diffusion.py ----

class NOX_Diffusion(Instant_Homeostasis):

    def partition_sum(self, neurons):
        neurons._temp_act_sum = neurons.vector()
        for sg, sg_rf in zip(self.subgroups, self.subgroups_rf):
            # CHANGE: PymoNNto's np.mean(sg_rf.output_new), sg_rf being a mask
            sg._temp_act_sum += np.mean(neurons.subGroup(sg_rf).output_new)
        return neurons._temp_act_sum

    def initialize(self, neurons):
        super().initialize(neurons)

        # CHANGE: PymoNNto's self.split_grid_into_sub_group_blocks
        self.subgroups = neurons.split_grid_into_sub_group_blocks(steps=self.parameter('steps', [5, 5, 1]))

        receptive_field = self.parameter('receptive_field', 5)
        self.subgroups_rf = []
        for sg in self.subgroups:
            sg_rf = neurons.get_subgroup_receptive_field_mask(sg, [receptive_field, receptive_field, receptive_field])
            self.subgroups_rf.append(sg_rf)

        neurons.nox = neurons.vector()
        self.adjustment_param = 'nox'

        self.measurement_param = self.parameter('mp', 'self.partition_sum(n)', None)

        self.set_threshold(self.parameter('th_nox', 0, neurons))
        self.adj_strength = -self.parameter('eta_nox', 0.002, neurons)

    def iteration(self, neurons):
        neurons.nox.fill(0)
        super().iteration(neurons)


# ---- Examples_Paper ----

class Basic_Behavior(Behavior):  # Examples_Paper/Basic/Basic.py

    def initialize(self, neurons):
        neurons.voltage = neurons.vector()
        self.threshold = 0.5
        self.leak_factor = self.parameter('leak_factor', 0.9, neurons)

    def iteration(self, neurons):
        neurons.spike = neurons.voltage > self.threshold  # spikes
        neurons.voltage[neurons.spike] = 0.0  # reset

        neurons.voltage *= self.leak_factor  # voltage decay
        neurons.voltage += NOISE[neurons.k]  # CHANGE: neurons.vector('uniform', density=0.01)


class Complex_Basic_Behavior(Behavior):  # Examples_Paper/STDP_Hom_Norm/Complex.py: Basic_Behavior

    def initialize(self, neurons):
        neurons.voltage = neurons.vector()
        self.threshold = 0.5

    def iteration(self, neurons):
        firing = neurons.voltage > self.threshold
        neurons.spike = firing.astype(neurons.def_dtype)  # spikes
        neurons.voltage[firing] = 0.0  # reset

        neurons.voltage *= 0.9  # voltage decay
        neurons.voltage += NOISE[neurons.k]  # CHANGE: neurons.vector('uniform', density=0.01)


class Input_Behavior(Behavior):  # Basic.py and Complex.py

    def initialize(self, neurons):
        for synapse in neurons.synapses(afferent, 'GLUTAMATE'):
            synapse.W = W0.copy()  # CHANGE: synapse.matrix('uniform', density=0.1)
            synapse.enabled = synapse.W > 0

    def iteration(self, neurons):
        for synapse in neurons.synapses(afferent, 'GLUTAMATE'):
            neurons.voltage += synapse.W.dot(synapse.src.spike) / synapse.src.size * 10


NOISE = None
W0 = None


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
    global NOISE, W0
    f = File("basic", """
The paper's Basic.py on 64 neurons (8 x 8) with a recurrent GLUTAMATE group:
Basic_Behavior (key 1), the fixed noise 'noise' (step x neuron) added where
Basic_Behavior adds its random noise, Input_Behavior (key 2) with the fixed
W (dst x src). 'spike' and 'voltage' hold the values after each step;
'margin' is the smallest distance of a voltage compared with the threshold
0.5 from it (a bound for how far rounding could move a voltage without
changing a spike).""")
    N, S = 64, 40
    NOISE, W0 = fixed_inputs(N, S, 10)
    for name, kw in [("default", {}), ("leak", dict(leak_factor=0.75))]:
        net = []
        g = Grid(8, 8, 1, net)
        syn = GridSyn(g, g, ['GLUTAMATE'])
        net.append(syn)
        b1, b2 = Basic_Behavior(**kw), Input_Behavior()
        b1.initialize(g)
        b2.initialize(g)
        spikes, volts, m = [], [], 1.0
        for k in range(S):
            g.k = k
            m = min(m, margin(g.voltage))
            b1.iteration(g)
            b2.iteration(g)
            assert g.voltage.dtype == f32
            spikes.append(g.spike.astype(f32))
            volts.append(g.voltage.copy())
        assert m > 1e-4, m
        assert 0 < np.sum(spikes) < S * N
        f.case(name)
        for key, v in kw.items():
            f.param(key, v)
        f.array("noise", NOISE)
        f.array("W", W0)
        f.array("spike", np.array(spikes))
        f.array("voltage", np.array(volts))
        f.array("margin", np.array([m]))
    f.write()


def complex_():
    global NOISE, W0
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
    NOISE, W0 = fixed_inputs(N, S, 20)
    net = []
    g = Grid(4, 8, 1, net)
    syn = GridSyn(g, g, ['GLUTAMATE'])
    net.append(syn)
    bs = [Complex_Basic_Behavior(), Input_Behavior(), Homeostasis(target_voltage=0.05),
          STDP(stdp_factor=0.00015), Normalization(norm_factor=10)]
    for b in bs:
        b.initialize(g)
    wsteps = [1, 2, 3, 5, 10, 20, 30, 40]
    spikes, volts, exh, means, ws, m = [], [], [], [], [], 1.0
    for k in range(S):
        g.k = k
        m = min(m, margin(g.voltage))
        for b in bs:
            b.iteration(g)
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
    f.array("noise", NOISE)
    f.array("W", W0)
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
        g = Grid(w, h, d, [], centered=c)
        masks = g.partition_masks(steps)
        fields = []
        for mk in masks:
            if np.sum(mk) == 0:
                fields.append(np.zeros(g.size, dtype=bool))  # PymoNNto: np.min of nothing raises
                continue
            fields.append(g.get_subgroup_receptive_field_mask(g.subGroup(mk), rf))
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
        src = Grid(*sd, [])
        dst = src if dd is None else Grid(*dd, [])
        s = GridSyn(src, dst, ['GLUTAMATE'])
        kind = kw.pop("kind")
        b = {"box": Box_Receptive_Fields, "circle": Circle_Receptive_Fields, "autapses": Remove_Autapses}[kind](**kw)
        b.initialize(s)
        assert type(s.enabled) is np.ndarray
        f.case(name)
        f.param("kind", kind)
        for key, v in kw.items():
            f.param(key, v)
        f.array("src", np.array(sd, dtype=f32))
        f.array("dst", np.array(sd if dd is None else dd, dtype=f32))
        f.array("enabled", s.enabled.astype(f32))
        f.array("max_rf", np.array(s.get_max_receptive_field_size(), dtype=f32))
    parts = [
        ("partition_auto", (21, 21, 1), (21, 21, 1), 2.0, 'auto'),
        ("partition_given", (10, 8, 1), (7, 6, 1), 1.0, [2, 3, 1]),
        ("partition_none", (14, 14, 1), (14, 14, 1), 1.0, 'auto'),
    ]
    for name, sd, dd, rng, split in parts:
        src, dst = Grid(*sd, []), Grid(*dd, [])
        s = GridSyn(src, dst, ['GLUTAMATE'])
        Box_Receptive_Fields(range=rng).initialize(s)
        res = partition_blocks(s, split)
        f.case(name)
        f.param("range", rng)
        f.param("split_size", split if split == 'auto' else ",".join(str(x) for x in split))
        f.array("src", np.array(sd, dtype=f32))
        f.array("dst", np.array(dd, dtype=f32))
        if res is None:
            f.param("partitioned", False)
            continue
        blocks, used, mrf = res
        cover = np.zeros_like(s.enabled)
        for dm, sm in blocks:
            cover |= dm[:, None] & sm[None, :]
        assert np.all(cover[s.enabled]), "an enabled synapse outside every block"
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
        g = Grid(12, 11, 2, [])
        out = table(S, g.size, 3, 7, 1, 23, 1 / 16, -0.5)
        b = NOX_Diffusion(**kw)
        b.initialize(g)
        noxes = []
        for k in range(S):
            g.output_new = out[k].copy()
            b.iteration(g)
            assert g.nox.dtype == f32, g.nox.dtype
            noxes.append(g.nox.copy())
        f.case(name)
        for key, v in kw.items():
            f.param(key, ",".join(str(x) for x in v) if isinstance(v, list) else v)
        f.array("output_new", out)
        f.array("blocks", np.array([sg.mask for sg in b.subgroups]).astype(f32))
        f.array("nox", np.array(noxes))
    f.write()


if __name__ == "__main__":
    basic()
    complex_()
    structure()
    nox()
