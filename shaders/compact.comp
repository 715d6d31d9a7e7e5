#version 430
// compact.comp: the spike list of a mask. Writes the indices i < n with
// mask[offA + i] != 0 in increasing order to list[0 ...] and their number
// to cnt[0]. It is the pre-pass of Propagate and Outer (their cpu twins
// collect the indices in a loop).
//
// Each group handles 4096 consecutive elements (16 per invocation) and
// orders them with a prefix sum in shared memory. With one group, PASS 2
// alone does the job. With several, PASS 1 first stores each group's count
// in cnt[1 + group]; PASS 2 then starts each group at the sum of the counts
// of the groups before it, so the list is in increasing order and the
// result does not depend on scheduling (no atomics are needed).
//
// SERIAL (software renderers, where one CPU core scans a mask faster than
// a group synchronises): one invocation writes the whole list.
//
// With the count, cnt[1 + groups ...] receives ARGS triples of work-group
// counts (x, y, 1) for the glDispatchComputeIndirect that scatters the
// spikes, triple q at cnt[1 + groups + 3q]: on GPUs (flags 0) x is a group
// per spike (at most 65535) and y = 2^q groups share each spike's entries
// (a scatter that uses gl_WorkGroupID.y; the others take triple 0); on
// software renderers (flags 1) x is at most 64 groups unless that would
// give a group more than 64 spikes (llvmpipe leaves a shader's loops after
// 65535 iterations in all, so no invocation may loop long) and y is 1.
// No group at all when nothing spiked. GATE (backend.Options.Deterministic)
// adds 16 triples q = 0 ... 15, (2^q, 1, 1) if anything spiked, else
// (0, 1, 1), at cnt[1 + groups + 3 (ARGS + q)], for the ordered scatters
// (ordered.glsl).
#ifdef SERIAL
layout(local_size_x = 1) in;
#else
layout(local_size_x = 256) in;
#endif

layout(std430, binding = 0) buffer Cnt { uint cnt[]; };
layout(std430, binding = 1) buffer List { uint list[]; };
layout(std430, binding = 2) buffer Mask { float mask[]; };

uniform uint n;
uniform uint offA;
uniform uint groups;

const uint PER = 16u;

shared uint part[256];

// prefixSum returns the inclusive prefix sum of v over the group's
// invocations (Hillis-Steele); part[255] then holds the group's total.
uint prefixSum(uint lid, uint v) {
    part[lid] = v;
    memoryBarrierShared();
    barrier();
    for (uint off = 1u; off < 256u; off <<= 1) {
        uint add = lid >= off ? part[lid - off] : 0u;
        memoryBarrierShared();
        barrier();
        part[lid] += add;
        memoryBarrierShared();
        barrier();
    }
    return part[lid];
}

// writeArgs stores the indirect dispatch arguments for count spikes.
uniform uint flags;

const uint ARGS = 6u; // opengl/exec.go argsTriples

void writeArgs(uint count) {
    uint x = min(count, 65535u);
    if (flags == 1u) {
        x = min(x, max(64u, (count + 63u) / 64u));
    }
    for (uint q = 0u; q < ARGS; q++) {
        cnt[1u + groups + 3u * q] = x;
        cnt[2u + groups + 3u * q] = (flags == 1u || x == 0u) ? 1u : (1u << q);
        cnt[3u + groups + 3u * q] = 1u;
    }
#ifdef GATE
    for (uint q = 0u; q < 16u; q++) {
        cnt[1u + groups + 3u * (ARGS + q)] = min(count, 1u) << q;
        cnt[2u + groups + 3u * (ARGS + q)] = 1u;
        cnt[3u + groups + 3u * (ARGS + q)] = 1u;
    }
#endif
}

void main() {
#ifdef SERIAL
    uint o = 0u;
    for (uint i = 0u; i < n; i++) {
        if (mask[offA + i] != 0.0) {
            list[o] = i;
            o++;
        }
    }
    cnt[0] = o;
    writeArgs(o);
#else
    uint g = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    if (g >= groups) { return; }
    uint lid = gl_LocalInvocationIndex;
    uint start = g * (256u * PER) + lid * PER;
    uint c = 0u;
    for (uint k = 0u; k < PER; k++) {
        uint i = start + k;
        if (i < n && mask[offA + i] != 0.0) { c++; }
    }
    uint incl = prefixSum(lid, c);
    uint total = part[255];
#if PASS == 1
    if (lid == 0u) { cnt[1u + g] = total; }
#else
    uint base = 0u;
    if (g > 0u) {
        // The counts of the groups before this one, summed by the group.
        memoryBarrierShared();
        barrier();
        uint s = 0u;
        for (uint k = lid; k < g; k += 256u) { s += cnt[1u + k]; }
        prefixSum(lid, s);
        base = part[255];
    }
    uint o = base + incl - c;
    for (uint k = 0u; k < PER; k++) {
        uint i = start + k;
        if (i < n && mask[offA + i] != 0.0) {
            list[o] = i;
            o++;
        }
    }
    if (g == groups - 1u && lid == 0u) {
        cnt[0] = base + total;
        writeArgs(base + total);
    }
#endif
#endif // SERIAL
}
