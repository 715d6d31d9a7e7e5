#version 430
// reduce.comp: Reduce in two passes. Twin of the cpu Reduce.
//
// PASS 1 reduces the n elements a[offA ...] with gl_NumWorkGroups.x groups
// (each invocation strides over the source) to one double per group,
// stored at part[offDst + group]. PASS 2 reduces the n partials part[...]
// with a single group and stores the float32 result at dst[offDst].
//
// OP: 0 sum, 1 mean, 2 max, 3 min, 4 count (the backend.ReduceOp numbers).
// Sums and counts accumulate in double, as the cpu backend does; max and
// min return NaN when any element is NaN. mean divides by total.
layout(local_size_x = 256) in;

#if PASS == 1
layout(std430, binding = 0) buffer Part { double part[]; };
layout(std430, binding = 1) buffer A { float a[]; };
#else
layout(std430, binding = 0) buffer Dst { float dst[]; };
layout(std430, binding = 1) buffer Part { double part[]; };
#endif

uniform uint n;
uniform uint offDst;
uniform uint offA;
uniform double total;

shared double acc[256];

double dNaN() { return packDouble2x32(uvec2(0u, 0x7ff80000u)); }

double identity() {
#if OP == 2
    return double(uintBitsToFloat(0xff800000u)); // -Inf
#elif OP == 3
    return double(uintBitsToFloat(0x7f800000u)); // +Inf
#else
    return 0.0lf;
#endif
}

// combine merges two partial results.
double combine(double x, double y) {
#if OP == 2
    if (isnan(x) || isnan(y)) { return dNaN(); }
    return y > x ? y : x;
#elif OP == 3
    if (isnan(x) || isnan(y)) { return dNaN(); }
    return y < x ? y : x;
#else
    return x + y;
#endif
}

#if PASS == 1
// term is the contribution of one source element.
double term(float v) {
#if OP == 4
    return v != 0.0 ? 1.0lf : 0.0lf;
#else
    return double(v);
#endif
}
#endif

void main() {
    uint lid = gl_LocalInvocationIndex;
    double r = identity();
#if PASS == 1
    uint stride = gl_NumWorkGroups.x * 256u;
    for (uint i = gl_WorkGroupID.x * 256u + lid; i < n; i += stride) {
        r = combine(r, term(a[offA + i]));
    }
#else
    for (uint i = lid; i < n; i += 256u) {
        r = combine(r, part[i]);
    }
#endif
    acc[lid] = r;
    memoryBarrierShared();
    barrier();
    for (uint k = 128u; k > 0u; k >>= 1) {
        if (lid < k) {
            acc[lid] = combine(acc[lid], acc[lid + k]);
        }
        memoryBarrierShared();
        barrier();
    }
    if (lid != 0u) { return; }
#if PASS == 1
    part[offDst + gl_WorkGroupID.x] = acc[0];
#else
    double v = acc[0];
#if OP == 1
    v = v / total;
#endif
    dst[offDst] = float(v);
#endif
}
