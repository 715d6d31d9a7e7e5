#version 430
// axpy.comp: dst[i] += alpha*a[i] for i < n (multiply, then add, never
// fused, as blas32.Axpy). Twin of the cpu Axpy.
layout(local_size_x = 256) in;

layout(std430, binding = 0) buffer Dst { float dst[]; };
layout(std430, binding = 1) buffer A { float a[]; };

uniform uint n;
uniform uint offDst;
uniform uint offA;
uniform float alpha;

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < n; i += gl_NumWorkGroups.x * 256u) {
        precise float y = dst[offDst + i] + alpha * a[offA + i];
        dst[offDst + i] = y;
    }
}
