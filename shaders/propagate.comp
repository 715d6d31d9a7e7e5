#version 430
// propagate.comp: dst[offDst + r] += alpha * sum_k W[r, list[k]] for the
// rows r < rows of one tile of W (cols columns), summing the cnt[0] listed
// (spiking) columns in increasing order, as the cpu Propagate does. The
// list comes from compact.comp. Nothing changes when no column is listed.
layout(local_size_x = 64) in;

layout(std430, binding = 0) buffer Dst { float dst[]; };
layout(std430, binding = 1) buffer W { float w[]; };
layout(std430, binding = 2) buffer Cnt { uint cnt[]; };
layout(std430, binding = 3) buffer List { uint list[]; };

uniform uint rows;
uniform uint cols;
uniform uint offDst;
uniform float alpha;
uniform uint loopLo; // the spikes [loopLo, loopHi) of this dispatch (llvmpipe
uniform uint loopHi; // splits long loops: loopIterations in exec.go)

void main() {
    uint m = cnt[0];
    if (m == 0u) { return; }
    for (uint r = gl_GlobalInvocationID.x; r < rows; r += gl_NumWorkGroups.x * 64u) {
        uint base = r * cols;
        float s = 0.0;
        uint end = min(m, loopHi);
        for (uint k = loopLo; k < end; k++) {
            s += w[base + list[k]];
        }
        precise float y = dst[offDst + r] + alpha * s;
        dst[offDst + r] = y;
    }
}
