#version 430
// outer.comp: W[i, j] += (alpha*u[i]) * v[j], or in the soft-bound form
// W[i, j] += (alpha*u[i]) * v[j] * (target - W[i, j]), then clipped to
// [lo, hi] if asked, for the selected rows i of one tile of W and the
// selected columns j. Twin of the cpu Outer (the same float32 operations
// in the same order, never fused).
//
// flags: 1 rows come from a spike list (rowCnt/rowList, row numbers of the
// whole matrix; otherwise every row of the tile), 2 columns come from a
// spike list (colCnt/colList; otherwise every column), 4 u is given,
// 8 v is given, 16 soft bound, 32 clip. The tile holds rows
// [rowBase, rowBase + rows). Each group handles selected rows
// g, g + groups, ... and its invocations share the row's columns.
layout(local_size_x = 64) in;

layout(std430, binding = 0) buffer W { float w[]; };
layout(std430, binding = 1) buffer RowCnt { uint rowCnt[]; };
layout(std430, binding = 2) buffer RowList { uint rowList[]; };
layout(std430, binding = 3) buffer ColCnt { uint colCnt[]; };
layout(std430, binding = 4) buffer ColList { uint colList[]; };
layout(std430, binding = 5) buffer U { float u[]; };
layout(std430, binding = 6) buffer V { float v[]; };

uniform uint rows;
uniform uint cols;
uniform uint rowBase;
uniform uint groups;
uniform uint flags;
uniform float alpha;
uniform float target;
uniform float lo;
uniform float hi;

void main() {
    uint g = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    if (g >= groups) { return; }
    uint lid = gl_LocalInvocationIndex;
    bool rowList_ = (flags & 1u) != 0u;
    bool colList_ = (flags & 2u) != 0u;
    uint nr = rowList_ ? rowCnt[0] : rows;
    uint nc = colList_ ? colCnt[0] : cols;
    for (uint k = g; k < nr; k += groups) {
        uint li;
        if (rowList_) {
            uint i = rowList[k];
            if (i < rowBase) { continue; }
            li = i - rowBase;
            if (li >= rows) { break; }
        } else {
            li = k;
        }
        precise float a = alpha;
        if ((flags & 4u) != 0u) { a = alpha * u[rowBase + li]; }
        uint base = li * cols;
        for (uint q = lid; q < nc; q += 64u) {
            uint j = colList_ ? colList[q] : q;
            float vc = (flags & 8u) != 0u ? v[j] : 1.0;
            precise float x = w[base + j];
            precise float av = a * vc;
            if ((flags & 16u) != 0u) {
                x = x + av * (target - x);
            } else {
                x = x + av;
            }
            if ((flags & 32u) != 0u) {
                if (x < lo) { x = lo; }
                if (x > hi) { x = hi; }
            }
            w[base + j] = x;
        }
    }
}
