#version 430
// matvec_t.comp: dst[c] = alpha * sum_r W[r, c] * x[offA + r] + beta *
// dst[c] for the columns c < cols, over the rows r < rows of one tile of W.
// Twin of the cpu MatVec with trans. A matrix split into several tiles is
// done one tile after the other, with beta = 1 after the first. With
// beta == 0, dst is not read. One invocation per column, or with VEC4
// (cols a multiple of 4) per four adjacent columns, read as one vec4.
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
layout(std430, binding = 2) buffer X { float x[]; };

uniform uint rows;
uniform uint cols;
uniform uint offA;
uniform float alpha;
uniform float beta;
uniform uint loopLo; // the rows [loopLo, loopHi) of this dispatch (llvmpipe
uniform uint loopHi; // splits long loops: loopIterations in exec.go)

void main() {
    uint n = cols / WIDTH;
    for (uint c = gl_GlobalInvocationID.x; c < n; c += gl_NumWorkGroups.x * 64u) {
        T s = T(0.0);
        uint k = c + loopLo * n;
        uint end = min(rows, loopHi);
        for (uint r = loopLo; r < end; r++) {
            s += w[k] * x[offA + r];
            k += n;
        }
        T y = alpha * s;
        if (beta != 0.0) {
            y += beta * dst[c];
        }
        dst[c] = y;
    }
}
