#version 430
// fill.comp: dst[offDst + i] = s for i < n. Twin of the cpu Fill.
layout(local_size_x = 256) in;

layout(std430, binding = 0) buffer Dst { float dst[]; };

uniform uint n;
uniform uint offDst;
uniform float s;

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < n; i += gl_NumWorkGroups.x * 256u) {
        dst[offDst + i] = s;
    }
}
