#version 430
// affine.comp: dst[i] = alpha*a[i] + beta for i < n (a float32 multiply,
// then an add, never fused). Twin of the cpu Affine.
layout(local_size_x = 256) in;

layout(std430, binding = 0) buffer Dst { float dst[]; };
layout(std430, binding = 1) buffer A { float a[]; };

uniform uint n;
uniform uint offDst;
uniform uint offA;
uniform float alpha;
uniform float beta;

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < n; i += gl_NumWorkGroups.x * 256u) {
        precise float y = alpha * a[offA + i] + beta;
        dst[offDst + i] = y;
    }
}
