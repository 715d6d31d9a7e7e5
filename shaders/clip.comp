#version 430
// clip.comp: dst[i] = min(max(a[i], lo), hi) for i < n; NaN stays NaN.
// Twin of the cpu Clip.
layout(local_size_x = 256) in;

layout(std430, binding = 0) buffer Dst { float dst[]; };
layout(std430, binding = 1) buffer A { float a[]; };

uniform uint n;
uniform uint offDst;
uniform uint offA;
uniform float lo;
uniform float hi;

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < n; i += gl_NumWorkGroups.x * 256u) {
        // precise: otherwise the compiler may turn the comparisons into
        // min and max, which drop NaN.
        precise float v = a[offA + i];
        if (v < lo) { v = lo; }
        if (v > hi) { v = hi; }
        dst[offDst + i] = v;
    }
}
