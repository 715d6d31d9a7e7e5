#version 430
// matvec.comp: dst[offDst + r] = alpha * sum_j W[r, j] * x[j] + beta *
// dst[offDst + r] for the rows r < rows of one tile of W (cols columns).
// Twin of the cpu MatVec without trans. With beta == 0, dst is not read
// (so NaN there does not survive, as in BLAS).
//
// By default one group of 64 invocations shares a row and reduces it in
// shared memory, which coalesces the reads on GPUs. With
// ROWS_PER_INVOCATION (software renderers) each invocation sums one row on
// its own, which streams memory well on CPU cores; VEC4 (when cols is a
// multiple of 4) then reads four elements at a time.
layout(local_size_x = 64) in;

layout(std430, binding = 0) buffer Dst { float dst[]; };
#ifdef VEC4
layout(std430, binding = 1) buffer W { vec4 w[]; };
layout(std430, binding = 2) buffer X { vec4 x[]; };
#else
layout(std430, binding = 1) buffer W { float w[]; };
layout(std430, binding = 2) buffer X { float x[]; };
#endif

uniform uint rows;
uniform uint cols;
uniform uint offDst;
uniform float alpha;
uniform float beta;
uniform uint loopLo; // ROWS_PER_INVOCATION: the columns (vec4s) [loopLo,
uniform uint loopHi; // loopHi) of this dispatch (loopChunk in exec.go)

shared float acc[64];

void store(uint r, float sum) {
    float y = alpha * sum;
    if (beta != 0.0) {
        y += beta * dst[offDst + r];
    }
    dst[offDst + r] = y;
}

void main() {
#ifdef ROWS_PER_INVOCATION
    for (uint r = gl_GlobalInvocationID.x; r < rows; r += gl_NumWorkGroups.x * 64u) {
#ifdef VEC4
        uint c4 = cols / 4u;
        uint base = r * c4;
        vec4 s = vec4(0.0);
        uint end = min(c4, loopHi);
        for (uint j = loopLo; j < end; j++) {
            s += w[base + j] * x[j];
        }
        store(r, (s.x + s.y) + (s.z + s.w));
#else
        uint base = r * cols;
        float s = 0.0;
        uint end = min(cols, loopHi);
        for (uint j = loopLo; j < end; j++) {
            s += w[base + j] * x[j];
        }
        store(r, s);
#endif
    }
#else
    uint r = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    if (r >= rows) { return; }
    uint lid = gl_LocalInvocationIndex;
    uint base = r * cols;
    float s = 0.0;
    for (uint j = lid; j < cols; j += 64u) {
        s += w[base + j] * x[j];
    }
    acc[lid] = s;
    memoryBarrierShared();
    barrier();
    for (uint k = 32u; k > 0u; k >>= 1) {
        if (lid < k) {
            acc[lid] += acc[lid + k];
        }
        memoryBarrierShared();
        barrier();
    }
    if (lid == 0u) {
        store(r, acc[0]);
    }
#endif
}
