#version 430
// propagate_delayed.comp: spike propagation through a sparse matrix with a
// delay per stored entry, into a ring buffer of D rows of n destinations
// (row s: what arrives at the steps t with t mod D == s). Twin of
// cpu/delay.go; MODE selects the operation:
//   0 PropagateDelayed without trans: for every listed (spiking) column j
//     and its stored entries (through the column form and perm),
//     ring[((slot + k) mod D) * n + r] += alpha * W[r, j], k = delays[e]
//     truncated and clamped to [0, D-1].
//   1 PropagateDelayed with trans: the same for every listed row i,
//     through the row form.
//   2 TakeSlot: dst[i] += ring[slot * n + i]; ring[slot * n + i] = 0.
// In MODE 1 the bound values, column indices and delays are the entries
// [tileLo, tileHi) of a matrix split over several buffers (one dispatch
// per buffer); a matrix in one buffer has tileLo = 0, tileHi = NNZ.
// Modes 0 and 1 take a workgroup per spike and add atomically (float
// atomicAdd with ATOMIC_FLOAT, else a compare-and-swap loop), so the order
// of the additions into one element may differ from the cpu's. The spikes
// come from a compacted list (cnt, list: compact.comp; gl_NumWorkGroups.y
// groups share a spike's entries) or, with SCAN, from the mask itself:
// each group reads 64 mask elements, collects its spikes in shared memory
// and adds their entries, gl_NumWorkGroups.z groups sharing each spike's
// entries (one dispatch, no compaction pass: what a GPU wants when a step
// has a few spikes of long rows).
// ORDERED (backend.Options.Deterministic) makes modes 0 and 1 add without
// atomics, in spike order, as propagate_sparse.comp ORDERED does: each
// invocation owns span destinations (all D cells of each: a row's cells
// ((slot + delay) mod D) * n + destination are distinct) and walks the
// listed spikes of its dispatch in order (dispatches: ordered.glsl).
#if MODE <= 1 && defined(ATOMIC_FLOAT)
#extension GL_NV_shader_atomic_float : require
#endif
#ifdef ORDERED
layout(local_size_x = LANES) in;
#else
layout(local_size_x = 64) in;
#endif

uniform uint rows;  // D
uniform uint cols;  // n, the destinations
uniform uint slot;
uniform float alpha;

const uint STRIDE = 64u;

#if MODE <= 1
#if defined(ATOMIC_FLOAT) || defined(ORDERED)
layout(std430, binding = 0) buffer Ring { float ring[]; };
#else
layout(std430, binding = 0) buffer Ring { uint ring[]; };
#endif
layout(std430, binding = 1) buffer Vals { float vals[]; };
layout(std430, binding = 2) buffer Start { uint start[]; }; // colStart or rowStart
layout(std430, binding = 3) buffer Idx { uint idx[]; };     // rowIdx or colIdx
layout(std430, binding = 4) buffer Perm { uint perm[]; };   // MODE 0 only
#ifdef SCAN
layout(std430, binding = 5) buffer Mask { float mask[]; };
uniform uint n; // the mask's length
shared uint nSpikes;
shared uint spikes[64];
#else
layout(std430, binding = 5) buffer Cnt { uint cnt[]; };
layout(std430, binding = 6) buffer List { uint list[]; };
#endif
#ifdef DELAY_BITS
// The steps packed 32 / DELAY_BITS to a word, lowest bits first
// (opengl/delay.go packDelays); W is then in one buffer (tileLo = 0).
layout(std430, binding = 7) buffer Delays { uint delays[]; };
uint delayOf(uint v) {
#if DELAY_BITS == 8
    return (delays[v >> 2u] >> ((v & 3u) * 8u)) & 0xffu;
#else
    return (delays[v >> 1u] >> ((v & 1u) * 16u)) & 0xffffu;
#endif
}
#else
layout(std430, binding = 7) buffer Delays { float delays[]; };
#endif

#if MODE == 0
#define ENTRY(e) perm[e]
#define INDEX(e) idx[e]
#else
uniform uint tileLo;
uniform uint tileHi;
#define ENTRY(e) ((e) - tileLo)
#define INDEX(e) idx[(e) - tileLo]
#endif

#ifdef DELAY_BITS
// target returns the ring row that entry v's delay sends to
// (backend.DelaySlot).
uint target(uint v) {
    uint s = slot + min(delayOf(v), rows - 1u);
    if (s >= rows) { s -= rows; }
    return s;
}
#else
// target returns the ring row that entry v's delay sends to
// (backend.DelaySlot).
uint target(uint v) {
    float d = delays[v];
    uint k = 0u;
    if (d >= float(rows - 1u)) {
        k = rows - 1u;
    } else if (d > 0.0) {
        k = uint(d);
    }
    uint s = slot + k;
    if (s >= rows) { s -= rows; }
    return s;
}
#endif

#ifdef ORDERED
#include "ordered.glsl"
#endif

#ifdef SCAN
#define PART gl_WorkGroupID.z
#define PARTS gl_NumWorkGroups.z
#else
#define PART gl_WorkGroupID.y
#define PARTS gl_NumWorkGroups.y
#endif

#ifdef ORDERED
void main() {
    orderedArgs();
    uint dLo = gl_GlobalInvocationID.x * span;
    if (dLo >= dests) { return; }
    uint dHi = dLo + span;
    uint m = min(cnt[0], loopLo + chunk);
    for (uint k = loopLo; k < m; k++) {
        uint i = list[k];
        uint begin = start[i];
        uint end = start[i + 1u];
#if MODE == 1
        begin = max(begin, tileLo);
        end = min(end, tileHi);
#endif
        for (uint e = lowerBound(begin, end, dLo); e < end && INDEX(e) < dHi; e++) {
            uint v = ENTRY(e);
            precise float a = alpha * vals[v];
            uint c = target(v) * cols + INDEX(e);
            precise float y = ring[c] + a;
            ring[c] = y;
        }
    }
}
#else
void main() {
#ifdef SCAN
    // No early return: every invocation reaches the barriers.
    uint lid = gl_LocalInvocationID.x;
    if (lid == 0u) { nSpikes = 0u; }
    memoryBarrierShared();
    barrier();
    uint own = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * STRIDE + lid;
    if (own < n && mask[own] != 0.0) {
        spikes[atomicAdd(nSpikes, 1u)] = own;
    }
    memoryBarrierShared();
    barrier();
    uint m = nSpikes;
    for (uint k = 0u; k < m; k++) {
        uint i = spikes[k];
#else
    uint m = cnt[0];
    for (uint k = gl_WorkGroupID.x; k < m; k += gl_NumWorkGroups.x) {
        uint i = list[k];
#endif
        uint begin = start[i];
        uint end = start[i + 1u];
#if MODE == 1
        begin = max(begin, tileLo);
        end = min(end, tileHi);
#endif
        // PARTS groups share the spike's entries.
        for (uint e = begin + PART * STRIDE + gl_LocalInvocationID.x; e < end; e += STRIDE * PARTS) {
            uint v = ENTRY(e);
            precise float a = alpha * vals[v];
            uint c = target(v) * cols + INDEX(e);
#ifdef ATOMIC_FLOAT
            atomicAdd(ring[c], a);
#else
            uint old = ring[c];
            for (;;) {
                precise float sum = uintBitsToFloat(old) + a;
                uint seen = atomicCompSwap(ring[c], old, floatBitsToUint(sum));
                if (seen == old) { break; }
                old = seen;
            }
#endif
        }
    }
}
#endif // ORDERED
#else
layout(std430, binding = 0) buffer Dst { float dst[]; };
layout(std430, binding = 1) buffer Ring { float ring[]; };

void main() {
    uint stride = gl_NumWorkGroups.x * STRIDE;
    uint base = slot * cols;
    for (uint i = gl_GlobalInvocationID.x; i < cols; i += stride) {
        precise float y = dst[i] + ring[base + i];
        dst[i] = y;
        ring[base + i] = 0.0;
    }
}
#endif
