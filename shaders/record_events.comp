#version 430
// record_events.comp: appends a spike list (compact.comp) to an event log
// as record slot. Copies list[j] for loopLo <= j < min(loopHi, cnt[0]) to
// idx[base + j], where base is offs[slot], the end of the record before,
// or 0 for the first record of a buffer of idx (flags 1); the dispatch
// with loopLo 0 also writes the record's end, offs[slot + 1] = base +
// cnt[0]. Twin of the cpu's eventLog.Gather, which appends the indices on
// the host.
//
// The count stays on the device: a grid-stride loop over the positions
// of the list up to the mask's length, cut by the host into ranges
// [loopLo, loopHi) run one dispatch after another where one invocation
// would loop long (llvmpipe leaves a shader's loops after 65,535
// iterations). The copy keeps the list's increasing order.
layout(local_size_x = 256) in;

layout(std430, binding = 0) buffer Offs { uint offs[]; };
layout(std430, binding = 1) buffer Idx { uint idx[]; };
layout(std430, binding = 2) buffer Cnt { uint cnt[]; };
layout(std430, binding = 3) buffer List { uint list[]; };

uniform uint slot;
uniform uint flags;
uniform uint loopLo;
uniform uint loopHi;

void main() {
    uint c = cnt[0];
    uint base = flags == 1u ? 0u : offs[slot];
    uint gid = gl_GlobalInvocationID.x;
    uint hi = min(loopHi, c);
    for (uint j = loopLo + gid; j < hi; j += gl_NumWorkGroups.x * 256u) {
        idx[base + j] = list[j];
    }
    if (gid == 0u && loopLo == 0u) {
        offs[slot + 1u] = base + c;
    }
}
