#version 430
// read_gather.comp: gathers elements of one tensor buffer into the staging
// buffer of Backend.ReadBatch (backend/opengl/readbatch.go):
// dst[offDst + i] = a[offA + i*span] for i < n, or, with flags 1,
// dst[offDst + i] = a[idx[offB + i]] (element indices local to the
// buffer bound as a). Twin of the loops of the cpu ReadBatch. Every index
// stays inside the bound buffer: the host cuts a request where it crosses
// from one buffer of a split tensor to the next.
layout(local_size_x = 256) in;

layout(std430, binding = 0) buffer Dst { float dst[]; };
layout(std430, binding = 1) buffer A { float a[]; };
layout(std430, binding = 2) buffer Idx { uint idx[]; };

uniform uint n;
uniform uint offDst;
uniform uint offA;
uniform uint offB;
uniform uint span;  // stride between elements without an index list
uniform uint flags; // 1: read the elements listed in idx

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < n; i += gl_NumWorkGroups.x * 256u) {
        uint e = flags == 1u ? idx[offB + i] : offA + i * span;
        dst[offDst + i] = a[e];
    }
}
