#version 430
// unary.comp: dst[i] = OP(a[i]) for i < n. Twin of the cpu Unary. OP is the
// backend.UnaryOp number: 0 neg, 1 abs, 2 exp, 3 log, 4 sqrt, 5 square,
// 6 recip, 7 tanh, 8 sigmoid, 9 heaviside, 10 not. Like the cpu backend,
// exp, log, sqrt, recip, tanh and sigmoid are computed in double and
// rounded to float32.
layout(local_size_x = 256) in;

layout(std430, binding = 0) buffer Dst { float dst[]; };
layout(std430, binding = 1) buffer A { float a[]; };

uniform uint n;
uniform uint offDst;
uniform uint offA;

#include "mathd.glsl"

float apply(float x) {
#if OP == 0
    return -x;
#elif OP == 1
    return uintBitsToFloat(floatBitsToUint(x) & 0x7fffffffu);
#elif OP == 2
    return float(dexp(double(x)));
#elif OP == 3
    return float(dlog(double(x)));
#elif OP == 4
    return float(sqrt(double(x)));
#elif OP == 5
    return x * x;
#elif OP == 6
    return float(1.0lf / double(x));
#elif OP == 7
    return float(dtanh(double(x)));
#elif OP == 8
    return float(1.0lf / (1.0lf + dexp(-double(x))));
#elif OP == 9
    return x > 0.0 ? 1.0 : 0.0;
#elif OP == 10
    return x == 0.0 ? 1.0 : 0.0;
#else
#error unknown OP
#endif
}

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < n; i += gl_NumWorkGroups.x * 256u) {
        dst[offDst + i] = apply(a[offA + i]);
    }
}
