// ordered.glsl: shared by the ORDERED scatters of propagate_sparse.comp
// and propagate_delayed.comp (backend.Options.Deterministic). Included
// after INDEX(e) and the spike list's Cnt buffer are declared.
//
// The spikes are cut into ranges of chunk (one for all on GPUs), one
// indirect dispatch each. Range 0 runs through the compaction's gate
// triple for gl_NumWorkGroups.x groups (compact.comp GATE: none when
// nothing spiked) and writes the triples of the other ranges that hold
// spikes (and of propagate_sparse.comp MODE 7) at cnt[argsAt + 3j];
// each of those zeroes its z when it runs, so that between scatters no
// triple there launches a group.
uniform uint loopLo; // the first spike of this dispatch: range loopLo / chunk
uniform uint chunk;  // spikes per range
uniform uint span;   // destinations per invocation
uniform uint dests;  // destinations
uniform uint argsAt; // triple j of range j; triple 0 for MODE 7
uniform uint finish; // groups of MODE 7 (0: none)

// lowerBound returns the first e in [lo, hi) with INDEX(e) >= v, or hi.
uint lowerBound(uint lo, uint hi, uint v) {
    while (lo < hi) {
        uint mid = lo + (hi - lo) / 2u;
        if (INDEX(mid) < v) { lo = mid + 1u; } else { hi = mid; }
    }
    return lo;
}

// orderedArgs writes or consumes the indirect arguments (above).
void orderedArgs() {
    uint gid = gl_GlobalInvocationID.x;
    uint j = loopLo / chunk;
    if (j > 0u) {
        if (gid == 0u) { cnt[argsAt + 3u * j + 2u] = 0u; }
        return;
    }
    uint ranges = (cnt[0] + chunk - 1u) / chunk;
    uint all = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint r = 1u + gid; r < ranges; r += all) {
        cnt[argsAt + 3u * r] = gl_NumWorkGroups.x;
        cnt[argsAt + 3u * r + 1u] = 1u;
        cnt[argsAt + 3u * r + 2u] = 1u;
    }
    if (gid == 0u && finish > 0u) {
        cnt[argsAt] = finish;
        cnt[argsAt + 1u] = 1u;
        cnt[argsAt + 2u] = 1u;
    }
}
