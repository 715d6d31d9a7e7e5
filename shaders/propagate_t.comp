#version 430
// propagate_t.comp: dst[c] += alpha * W[i, c] for every listed (spiking)
// row i, in increasing order, for the columns c < cols. Twin of the cpu
// Propagate with trans, which adds alpha times each spiking row (an axpy
// per row, multiply then add, never fused). The list holds row numbers of
// the whole matrix; this dispatch sees the tile of rows
// [rowBase, rowBase + rows). With VEC4 (cols a multiple of 4) each
// invocation handles four adjacent columns.
layout(local_size_x = 64) in;

#ifdef VEC4
layout(std430, binding = 0) buffer Dst { vec4 dst[]; };
layout(std430, binding = 1) buffer W { vec4 w[]; };
#define T vec4
#define WIDTH 4u
#else
layout(std430, binding = 0) buffer Dst { float dst[]; };
layout(std430, binding = 1) buffer W { float w[]; };
#define T float
#define WIDTH 1u
#endif
layout(std430, binding = 2) buffer Cnt { uint cnt[]; };
layout(std430, binding = 3) buffer List { uint list[]; };

uniform uint rows;
uniform uint cols;
uniform uint rowBase;
uniform float alpha;
uniform uint loopLo; // the spikes [loopLo, loopHi) of this dispatch (llvmpipe
uniform uint loopHi; // splits long loops: loopIterations in exec.go)

void main() {
    uint n = cols / WIDTH;
    uint m = cnt[0];
    for (uint c = gl_GlobalInvocationID.x; c < n; c += gl_NumWorkGroups.x * 64u) {
        precise T y = dst[c];
        bool any = false;
        uint end = min(m, loopHi);
        for (uint k = loopLo; k < end; k++) {
            uint i = list[k];
            if (i < rowBase) { continue; }
            i -= rowBase;
            if (i >= rows) { break; }
            y = y + alpha * w[i * n + c];
            any = true;
        }
        if (any) { dst[c] = y; }
    }
}
