#version 430
// copy_range.comp: dst[offDst + i] = a[offA + i] for i < n. Twin of the cpu
// Copy and CopyRange (overlapping ranges of one tensor go through a scratch
// buffer, so the two ranges never overlap here).
layout(local_size_x = 256) in;

layout(std430, binding = 0) buffer Dst { float dst[]; };
layout(std430, binding = 1) buffer A { float a[]; };

uniform uint n;
uniform uint offDst;
uniform uint offA;

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < n; i += gl_NumWorkGroups.x * 256u) {
        dst[offDst + i] = a[offA + i];
    }
}
