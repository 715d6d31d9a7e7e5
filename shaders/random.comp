#version 430
// random.comp: dst[offDst + i] = rng.Sample(dist, key, first + i) for
// i < n. Twin of the cpu Random. Philox4x32-10 keyed by seed, counter
// (block, counter) as in package rng: every element uses `words` words of
// a block (rng.Dist.WordsPerElement: 1 for const, uniform and bernoulli,
// 2 for normal and lognormal, one more for the density mask, rounded up to
// 1, 2 or 4), so a block serves 4/words consecutive elements. Each
// invocation computes one block and writes its elements. Const, Uniform,
// Bernoulli and the density mask are bit-for-bit equal to rng.Sample;
// Normal and LogNormal use the same Box-Muller arithmetic, with log, sqrt,
// cos and exp in double rounded to float32 as Go does.
//
// base is the 64-bit index of the first block; its first skip elements
// (first mod 4/words) lie before this range.
// dist: 0 const, 1 uniform, 2 normal, 3 lognormal, 4 bernoulli.
layout(local_size_x = 256) in;

layout(std430, binding = 0) buffer Dst { float dst[]; };

uniform uint n;
uniform uint offDst;
uniform uvec2 base;
uniform uint skip;
uniform uint words;
uniform uvec2 seed;
uniform uvec2 ctr;
uniform uint dist;
uniform float distA;
uniform float distB;
uniform float scale;
uniform float density;

#include "mathd.glsl"

uvec4 philox(uvec4 c, uvec2 k) {
    for (int r = 0; r < 10; r++) {
        if (r > 0) {
            k.x += 0x9E3779B9u;
            k.y += 0xBB67AE85u;
        }
        uint hi0, lo0, hi1, lo1;
        umulExtended(0xD2511F53u, c.x, hi0, lo0);
        umulExtended(0xCD9E8D57u, c.z, hi1, lo1);
        c = uvec4(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
    }
    return c;
}

// unit maps a word to [0, 1) with 24 random bits, exactly as rng.Unit.
float unit(uint w) { return float(w >> 8) * (1.0 / 16777216.0); }

// stdNormal is rng.StdNormal2: Box-Muller of two words.
float stdNormal(uint w0, uint w1) {
    float u0 = unit(w0);
    float u1 = float((w1 >> 8) + 1u) * (1.0 / 16777216.0); // (0, 1]
    precise float m2 = -2.0 * float(dlog(double(u1)));
    float r = float(sqrt(double(m2)));
    precise float ang = 6.28318530717958647692 * u0;
    precise float z = r * float(dcos(double(ang)));
    return z;
}

// draw returns the element that starts at word b of the block w.
float draw(uvec4 w, uint b) {
    if (density < 1.0 && !(unit(w[b + words - 1u]) < density)) {
        return 0.0;
    }
    precise float x = 0.0;
    if (dist == 0u) {
        x = distA;
    } else if (dist == 1u) {
        x = distA + (distB - distA) * unit(w[b]);
    } else if (dist == 2u) {
        x = distA + distB * stdNormal(w[b], w[b + 1u]);
    } else if (dist == 3u) {
        precise float e = distA + distB * stdNormal(w[b], w[b + 1u]);
        x = float(dexp(double(e)));
    } else if (dist == 4u) {
        x = unit(w[b]) < distA ? 1.0 : 0.0;
    }
    precise float y = scale * x;
    return y;
}

void main() {
    uint per = 4u / words;
    uint blocks = (skip + n + per - 1u) / per;
    for (uint j = gl_GlobalInvocationID.x; j < blocks; j += gl_NumWorkGroups.x * 256u) {
        uint carry;
        uint lo = uaddCarry(base.x, j, carry);
        uvec4 w = philox(uvec4(lo, base.y + carry, ctr.x, ctr.y), seed);
        for (uint s = 0u; s < per; s++) {
            uint k = j * per + s; // element k - skip of this range
            if (k >= skip && k - skip < n) {
                dst[offDst + k - skip] = draw(w, s * words);
            }
        }
    }
}
