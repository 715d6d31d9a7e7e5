#version 430
// propagate_sparse.comp: the matrix operations on a sparse matrix in
// compressed row form (rowStart, colIdx, values) with its compressed
// column form (colStart, rowIdx, perm: the position of each column entry
// among the values). Twin of cpu/sparse.go; MODE selects the operation:
//   0 Propagate without trans: for every listed (spiking) column j,
//     dst[r] += alpha * W[r, j] for its stored entries, through the column
//     form. 1 Propagate with trans: the same for every listed row i,
//     dst[c] += alpha * W[i, c], through the row form. Workgroups take
//     spikes and their invocations the entries; the additions are atomic
//     (float atomicAdd with ATOMIC_FLOAT, else a compare-and-swap loop),
//     so their order, and the rounding, may differ from the cpu's. In MODE
//     1 the bound values and column indices are the entries [tileLo,
//     tileHi) of a matrix split over several buffers (one dispatch per
//     buffer); a matrix in one buffer has tileLo = 0, tileHi = NNZ.
//   2 MatVec without trans: dst[r] = alpha * (row r . x) + beta * dst[r].
//   3 MatVec with trans: the same per column, through the column form.
//   4 Outer: the stored entries of the selected rows and columns.
//   5 Normalize rows, 6 Normalize columns (sums in double).
//   7 The end of an ORDERED MODE 0: dst[r] += alpha * acc[r]; acc[r] = 0
//     (an indirect dispatch, like the ranges of ordered.glsl).
// ORDERED (backend.Options.Deterministic) makes MODE 0 and 1 add without
// atomics, in spike order, so that results do not depend on scheduling:
// invocation q owns the destinations [q * span, (q + 1) * span) and walks
// the spikes list[k], loopLo <= k < min(loopLo + chunk, cnt[0]), in order,
// adding the entries of each spike's row (or column) that fall in its
// range (the first by binary search: indices increase within a row). Every
// element is written by one invocation, so no barrier is needed. As on
// the cpu,
// MODE 0 sums the values of the spiking columns into acc (bound as dst)
// and MODE 7 then adds alpha times the sums to dst; MODE 1 adds
// alpha * W[i, c] to dst[c]. See ordered.glsl for the dispatches.
#if MODE <= 1 && defined(ATOMIC_FLOAT)
#extension GL_NV_shader_atomic_float : require
#endif
#ifdef ORDERED
layout(local_size_x = LANES) in;
#else
layout(local_size_x = 64) in;
#endif

#if MODE <= 1
#if defined(ATOMIC_FLOAT) || defined(ORDERED)
layout(std430, binding = 0) buffer Dst { float dst[]; };
#else
layout(std430, binding = 0) buffer Dst { uint dst[]; };
#endif
layout(std430, binding = 1) buffer Vals { float vals[]; };
layout(std430, binding = 2) buffer Start { uint start[]; }; // rowStart or colStart
layout(std430, binding = 3) buffer Idx { uint idx[]; };     // colIdx or rowIdx
layout(std430, binding = 5) buffer Cnt { uint cnt[]; };
layout(std430, binding = 6) buffer List { uint list[]; };
#if MODE == 0
layout(std430, binding = 4) buffer Perm { uint perm[]; };
#define VALUE(e) vals[perm[e]]
#define INDEX(e) idx[e]
#else
uniform uint tileLo;
uniform uint tileHi;
#define VALUE(e) vals[(e) - tileLo]
#define INDEX(e) idx[(e) - tileLo]
#endif
#elif MODE == 7
layout(std430, binding = 0) buffer Dst { float dst[]; };
layout(std430, binding = 1) buffer Acc { float acc[]; };
layout(std430, binding = 5) buffer Cnt { uint cnt[]; };
uniform uint argsAt;
#else
#if MODE <= 3
layout(std430, binding = 0) buffer Dst { float dst[]; };
layout(std430, binding = 1) buffer Vals { float vals[]; };
#else
layout(std430, binding = 0) buffer Vals { float vals[]; };
#endif
layout(std430, binding = 2) buffer RowStart { uint rowStart[]; };
layout(std430, binding = 3) buffer ColIdx { uint colIdx[]; };
#if MODE == 4
layout(std430, binding = 4) buffer RowMask { float rowMask[]; };
layout(std430, binding = 5) buffer ColMask { float colMask[]; };
layout(std430, binding = 6) buffer U { float u[]; };
layout(std430, binding = 7) buffer V { float v[]; };
#else
layout(std430, binding = 4) buffer Vec { float vec[]; };
layout(std430, binding = 5) buffer ColStart { uint colStart[]; };
layout(std430, binding = 6) buffer RowIdx { uint rowIdx[]; };
layout(std430, binding = 7) buffer Perm { uint perm[]; };
#endif
#endif

uniform uint rows;
uniform uint cols;
uniform float alpha;
uniform float beta;
uniform float target;
uniform float lo;
uniform float hi;
uniform uint flags;

const uint STRIDE = 64u;

#ifdef ORDERED
#include "ordered.glsl"
#endif

void main() {
    uint stride = gl_NumWorkGroups.x * STRIDE;
#if MODE <= 1 && defined(ORDERED)
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
            uint c = INDEX(e);
#if MODE == 0
            precise float y = dst[c] + VALUE(e);
#else
            precise float a = alpha * VALUE(e);
            precise float y = dst[c] + a;
#endif
            dst[c] = y;
        }
    }
#elif MODE <= 1
    uint m = cnt[0];
    for (uint k = gl_WorkGroupID.x; k < m; k += gl_NumWorkGroups.x) {
        uint i = list[k];
        uint begin = start[i];
        uint end = start[i + 1u];
#if MODE == 1
        begin = max(begin, tileLo);
        end = min(end, tileHi);
#endif
        // gl_NumWorkGroups.y groups share the spike's entries.
        for (uint e = begin + gl_WorkGroupID.y * STRIDE + gl_LocalInvocationID.x; e < end; e += STRIDE * gl_NumWorkGroups.y) {
            precise float a = alpha * VALUE(e);
            uint c = INDEX(e);
#ifdef ATOMIC_FLOAT
            atomicAdd(dst[c], a);
#else
            uint old = dst[c];
            for (;;) {
                precise float sum = uintBitsToFloat(old) + a;
                uint seen = atomicCompSwap(dst[c], old, floatBitsToUint(sum));
                if (seen == old) { break; }
                old = seen;
            }
#endif
        }
    }
#elif MODE == 7
    if (gl_GlobalInvocationID.x == 0u) { cnt[argsAt + 2u] = 0u; } // consumed
    for (uint r = gl_GlobalInvocationID.x; r < rows; r += stride) {
        precise float a = alpha * acc[r];
        precise float y = dst[r] + a;
        dst[r] = y;
        acc[r] = 0.0;
    }
#elif MODE == 2
    for (uint r = gl_GlobalInvocationID.x; r < rows; r += stride) {
        precise float s = 0.0;
        for (uint e = rowStart[r]; e < rowStart[r + 1u]; e++) {
            s += vals[e] * vec[colIdx[e]];
        }
        precise float y = alpha * s;
        if (beta != 0.0) { y += beta * dst[r]; }
        dst[r] = y;
    }
#elif MODE == 3
    for (uint c = gl_GlobalInvocationID.x; c < cols; c += stride) {
        precise float s = 0.0;
        for (uint k = colStart[c]; k < colStart[c + 1u]; k++) {
            s += vals[perm[k]] * vec[rowIdx[k]];
        }
        precise float y = alpha * s;
        if (beta != 0.0) { y += beta * dst[c]; }
        dst[c] = y;
    }
#elif MODE == 4
    // flags: 1 row mask, 2 column mask, 4 u, 8 v, 16 soft, 32 clip.
    for (uint r = gl_GlobalInvocationID.x; r < rows; r += stride) {
        if ((flags & 1u) != 0u && rowMask[r] == 0.0) { continue; }
        precise float a = alpha;
        if ((flags & 4u) != 0u) { a = a * u[r]; }
        for (uint e = rowStart[r]; e < rowStart[r + 1u]; e++) {
            uint c = colIdx[e];
            if ((flags & 2u) != 0u && colMask[c] == 0.0) { continue; }
            float vc = (flags & 8u) != 0u ? v[c] : 1.0;
            precise float x = vals[e];
            if ((flags & 16u) != 0u) {
                x = x + a * vc * (target - x);
            } else {
                x = x + a * vc;
            }
            if ((flags & 32u) != 0u) { x = min(max(x, lo), hi); }
            vals[e] = x;
        }
    }
#elif MODE == 5
    for (uint r = gl_GlobalInvocationID.x; r < rows; r += stride) {
        double s = 0.0lf;
        for (uint e = rowStart[r]; e < rowStart[r + 1u]; e++) { s += double(vals[e]); }
        if (s == 0.0lf) { continue; }
        double f = double(target) / s;
        for (uint e = rowStart[r]; e < rowStart[r + 1u]; e++) { vals[e] = float(double(vals[e]) * f); }
    }
#elif MODE == 6
    for (uint c = gl_GlobalInvocationID.x; c < cols; c += stride) {
        double s = 0.0lf;
        for (uint k = colStart[c]; k < colStart[c + 1u]; k++) { s += double(vals[perm[k]]); }
        if (s == 0.0lf) { continue; }
        double f = double(target) / s;
        for (uint k = colStart[c]; k < colStart[c + 1u]; k++) { vals[perm[k]] = float(double(vals[perm[k]]) * f); }
    }
#endif
}
