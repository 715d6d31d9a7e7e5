#version 430
// binary.comp: dst[i] = a[i] OP b[i] (or a[i] OP s when SCALAR is defined)
// for i < n. Twin of the cpu Binary and BinaryScalar. OP is the
// backend.BinaryOp number: 0 add, 1 sub, 2 mul, 3 div, 4 min, 5 max, 6 gt,
// 7 ge, 8 lt, 9 le, 10 eq, 11 ne. Division is done in double and rounded,
// which gives the correctly rounded float32 quotient (as Go computes it).
// Min and max return NaN when either operand is NaN, like Go's min and max.
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

bool isNaN(float v) { return (floatBitsToUint(v) & 0x7fffffffu) > 0x7f800000u; }

float apply(float x, float y) {
#if OP == 0
    return x + y;
#elif OP == 1
    return x - y;
#elif OP == 2
    return x * y;
#elif OP == 3
    return float(double(x) / double(y));
#elif OP == 4
    if (isNaN(x) || isNaN(y)) { return uintBitsToFloat(0x7fc00000u); }
    return y < x ? y : x;
#elif OP == 5
    if (isNaN(x) || isNaN(y)) { return uintBitsToFloat(0x7fc00000u); }
    return y > x ? y : x;
#elif OP == 6
    return x > y ? 1.0 : 0.0;
#elif OP == 7
    return x >= y ? 1.0 : 0.0;
#elif OP == 8
    return x < y ? 1.0 : 0.0;
#elif OP == 9
    return x <= y ? 1.0 : 0.0;
#elif OP == 10
    return x == y ? 1.0 : 0.0;
#elif OP == 11
    return x != y ? 1.0 : 0.0;
#else
#error unknown OP
#endif
}

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < n; i += gl_NumWorkGroups.x * 256u) {
#ifdef SCALAR
        float y = s;
#else
        float y = b[offB + i];
#endif
        dst[offDst + i] = apply(a[offA + i], y);
    }
}
