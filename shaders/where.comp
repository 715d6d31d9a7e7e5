#version 430
// where.comp: dst[i] = b[i] (or s when SCALAR is defined) where
// a[i] != 0, for i < n; a is the mask. Twin of the cpu Where and
// WhereScalar.
layout(local_size_x = 256) in;

layout(std430, binding = 0) buffer Dst { float dst[]; };
layout(std430, binding = 1) buffer A { float a[]; };
#ifndef SCALAR
layout(std430, binding = 2) buffer B { float b[]; };
#endif

uniform uint n;
uniform uint offDst;
uniform uint offA;
uniform uint offB;
uniform float s;

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < n; i += gl_NumWorkGroups.x * 256u) {
        if (a[offA + i] != 0.0) {
#ifdef SCALAR
            dst[offDst + i] = s;
#else
            dst[offDst + i] = b[offB + i];
#endif
        }
    }
}
