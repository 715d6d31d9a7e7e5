package expr

import (
	"io/fs"
	"strings"

	"github.com/gomonnto/gomonnto/shaders"
)

// GLSL helpers of exprel, expm1, log1p, log10, sin, cos, sign and **.
//
// The transcendental functions among them are computed in double and
// rounded once to float32, as on the CPU, so the two agree to float32
// rounding: GLSL has doubles but no double exp, log, sin or cos, so these
// are written out. gm_dexp and gm_dlog are the gl backend's
// shaders/mathd.glsl (range reduction and series accurate to a few double
// ulp, far below float32 rounding); gm_dtrig is Go's math.Sin and math.Cos
// operation for operation (Cody-Waite reduction by pi/4 in three parts
// below 2^29, Payne-Hanek above, the same polynomials), with every
// operation precise, so that the double result is the CPU's and rounds to
// the same float32 wherever the driver's double arithmetic is IEEE.

// glslDcommon (NaN test, infinities, scaling by powers of two), glslDexp,
// glslDlog and glslDtanh (which needs glslDexp) are the gl backend's
// shaders/mathd.glsl, renamed into the fused kernels' gm_ names: one
// source for the double exp, log and tanh of both.
var glslDcommon, glslDexp, glslDlog, glslDtanh = mathd()

// mathd cuts shaders/mathd.glsl into the four helpers.
func mathd() (common, exp, log, tanh string) {
	b, err := fs.ReadFile(shaders.FS, "mathd.glsl")
	if err != nil {
		panic(err) // embedded: cannot fail
	}
	src := string(b)
	cut := func(from, to string) string {
		i, j := strings.Index(src, from), strings.Index(src, to)
		if i < 0 || j < i {
			panic("expr: shaders/mathd.glsl lacks " + from + " before " + to)
		}
		return src[i:j]
	}
	r := strings.NewReplacer("dIsNaN(", "gm_disnan(", "dInf(", "gm_dinf(", "dNaN(", "gm_dnan(", "dPow2(", "gm_dpow2(",
		"dScale2(", "gm_dscale2(", "dexp(", "gm_dexp(", "dlog(", "gm_dlog(", "dtanh(", "gm_dtanh(",
		"dLN2HI", "6.93147180369123816490e-01lf", "dLN2LO", "1.90821492927058770002e-10lf", "dLOG2E", "1.44269504088896338700e+00lf")
	tail := src[strings.Index(src, "double dtanh("):]
	return r.Replace(cut("bool dIsNaN(", "double dexp(")), r.Replace(cut("double dexp(", "double dlog(")), r.Replace(cut("double dlog(", "// dsinPoly")),
		r.Replace(tail)
}

// glslExpm1: expm1 and exprel (need glslDexp). Below |x| = 0.01 the
// Taylor series (to x^8; truncation error below 1e-21 relative), above
// exp(x) - 1, whose cancellation costs at most a factor 100 of double
// precision (relative error below 1e-13).
const glslExpm1 = `
double gm_dexpm1(double x) {
	if (abs(x) < 0.01lf) {
		return x * (1.0lf + x * (1.0lf / 2.0lf + x * (1.0lf / 6.0lf + x * (1.0lf / 24.0lf + x * (1.0lf / 120.0lf +
			x * (1.0lf / 720.0lf + x * (1.0lf / 5040.0lf + x * (1.0lf / 40320.0lf))))))));
	}
	return gm_dexp(x) - 1.0lf;
}

float gm_expm1(float x) { return float(gm_dexpm1(double(x))); }

float gm_exprel(float x) {
	double d = double(x);
	if (abs(d) < 0.01lf) {
		return float(1.0lf + d * (1.0lf / 2.0lf + d * (1.0lf / 6.0lf + d * (1.0lf / 24.0lf + d * (1.0lf / 120.0lf +
			d * (1.0lf / 720.0lf + d * (1.0lf / 5040.0lf + d * (1.0lf / 40320.0lf + d * (1.0lf / 362880.0lf)))))))));
	}
	if (d > 709.0lf) return uintBitsToFloat(0x7F800000u);
	return float((gm_dexp(d) - 1.0lf) / d);
}
`

// glslLog1p: log1p and log10 (need glslDlog). For |x| >= 2^-29, 1 + x is
// exact in double for a float32 x below 2^24, so log(1 + x) is as accurate
// as log; below, log1p(x) rounds to x.
const glslLog1p = `
float gm_log1p(float x) {
	if (abs(x) < 1.862645149230957e-09) return x; // 2^-29
	return float(gm_dlog(1.0lf + double(x)));
}

float gm_log10(float x) { return float(gm_dlog(double(x)) * 0.4342944819032518lf); }
`

// glslTrig: sin and cos (need glslDcommon). The constants are Go's, as
// the shortest decimals that read back to the same doubles.
const glslTrig = `
uvec2 gm_shl64(uvec2 a, uint s) { // a << s as uint64 (low, high); 0 for s >= 64
	if (s == 0u) return a;
	if (s >= 64u) return uvec2(0u);
	if (s >= 32u) return uvec2(0u, a.x << (s - 32u));
	return uvec2(a.x << s, (a.y << s) | (a.x >> (32u - s)));
}

uvec2 gm_shr64(uvec2 a, uint s) { // a >> s as uint64; 0 for s >= 64
	if (s == 0u) return a;
	if (s >= 64u) return uvec2(0u);
	if (s >= 32u) return uvec2(a.y >> (s - 32u), 0u);
	return uvec2((a.x >> s) | (a.y << (32u - s)), a.y >> s);
}

// gm_mul64 is bits.Mul64: the 128-bit product of a and b as (hi, lo).
void gm_mul64(uvec2 a, uvec2 b, out uvec2 hi, out uvec2 lo) {
	uint p00h, p00l, p01h, p01l, p10h, p10l, p11h, p11l;
	umulExtended(a.x, b.x, p00h, p00l);
	umulExtended(a.x, b.y, p01h, p01l);
	umulExtended(a.y, b.x, p10h, p10l);
	umulExtended(a.y, b.y, p11h, p11l);
	uint c1, c2, c3, c4, c5;
	uint w1 = uaddCarry(p00h, p01l, c1);
	w1 = uaddCarry(w1, p10l, c2);
	uint w2 = uaddCarry(p01h, p10h, c3);
	w2 = uaddCarry(w2, p11l, c4);
	w2 = uaddCarry(w2, c1 + c2, c5);
	lo = uvec2(p00l, w1);
	hi = uvec2(w2, p11h + c3 + c4 + c5);
}

// gm_add64 is bits.Add64.
uvec2 gm_add64(uvec2 a, uvec2 b, uint cin, out uint cout) {
	uint c1, c2, c3, c4;
	uint x = uaddCarry(a.x, b.x, c1);
	x = uaddCarry(x, cin, c2);
	uint y = uaddCarry(a.y, b.y, c3);
	y = uaddCarry(y, c1 + c2, c4);
	cout = c3 + c4;
	return uvec2(x, y);
}

// gm_mpi4: the leading digits of 4/pi (Go's mPi4), enough for float32
// arguments.
const uvec2 gm_mpi4[6] = uvec2[6](
	uvec2(0x00000001u, 0x00000000u), uvec2(0x9C882A53u, 0x45F306DCu), uvec2(0xEA69BB81u, 0xF84EAFA3u),
	uvec2(0x78872083u, 0xB6C52B32u), uvec2(0xBD778AC3u, 0xFCA2C757u), uvec2(0x849BA5C0u, 0x6E48DC74u));

// gm_trigreduce is Go's trigReduce (Payne-Hanek reduction by pi/4) for
// 2^29 <= x < 2^128: j = the octant, z = the remainder.
void gm_trigreduce(double x, out uint j, out double z) {
	uvec2 ix = unpackDouble2x32(x);
	int e = int((ix.y >> 20) & 0x7ffu) - 1023 - 52;
	ix.y = (ix.y & 0x000fffffu) | 0x00100000u;
	uint digit = uint(e + 61) / 64u, bitshift = uint(e + 61) % 64u;
	uvec2 z0 = gm_shl64(gm_mpi4[digit], bitshift) | gm_shr64(gm_mpi4[digit + 1u], 64u - bitshift);
	uvec2 z1 = gm_shl64(gm_mpi4[digit + 1u], bitshift) | gm_shr64(gm_mpi4[digit + 2u], 64u - bitshift);
	uvec2 z2 = gm_shl64(gm_mpi4[digit + 2u], bitshift) | gm_shr64(gm_mpi4[digit + 3u], 64u - bitshift);
	uvec2 z2hi, z2lo, z1hi, z1lo, z0hi, z0lo;
	gm_mul64(z2, ix, z2hi, z2lo);
	gm_mul64(z1, ix, z1hi, z1lo);
	gm_mul64(z0, ix, z0hi, z0lo);
	uint c, c2;
	uvec2 lo = gm_add64(z1lo, z2hi, 0u, c);
	uvec2 hi = gm_add64(z0lo, z1hi, c, c2);
	j = hi.y >> 29;
	hi = gm_shl64(hi, 3u) | gm_shr64(lo, 61u);
	uint lz = hi.y != 0u ? 31u - uint(findMSB(hi.y)) : hi.x != 0u ? 63u - uint(findMSB(hi.x)) : 64u;
	uint ex = 1023u - (lz + 1u);
	hi = gm_shl64(hi, lz + 1u) | gm_shr64(lo, 64u - (lz + 1u));
	hi = gm_shr64(hi, 12u);
	hi.y |= ex << 20;
	precise double zz = packDouble2x32(hi);
	if ((j & 1u) == 1u) {
		j = (j + 1u) & 7u;
		zz = zz - 1.0lf;
	}
	z = zz * 0.7853981633974483lf;
}

// gm_dtrig is Go's math.Sin (c false) or math.Cos (c true).
double gm_dtrig(double x, bool c) {
	if (gm_disnan(x) || abs(x) == gm_dinf()) return gm_dnan();
	if (!c && x == 0.0lf) return x;
	bool sign = false;
	if (x < 0.0lf) {
		x = -x;
		sign = !c;
	}
	uint j;
	precise double z;
	if (x >= 536870912.0lf) { // 2^29
		gm_trigreduce(x, j, z);
	} else {
		precise double y = floor(x * 1.2732395447351628lf);
		j = uint(y);
		if ((j & 1u) == 1u) {
			j++;
			y = y + 1.0lf;
		}
		j &= 7u;
		z = ((x - y * 0.7853981256484985lf) - y * 3.774894707930798e-08lf) - y * 2.6951514290790595e-15lf;
	}
	if (j > 3u) {
		sign = !sign;
		j -= 4u;
	}
	if (c && j > 1u) sign = !sign;
	precise double zz = z * z;
	precise double r;
	if ((j == 1u || j == 2u) != c) {
		r = 1.0lf - 0.5lf * zz + zz * zz * ((((((-1.1358536521387682e-11lf * zz) + 2.087570084197473e-09lf) * zz +
			-2.755731417929674e-07lf) * zz + 2.4801587288851704e-05lf) * zz + -0.0013888888888873056lf) * zz + 0.041666666666666595lf);
	} else {
		r = z + z * zz * ((((((1.5896230157654656e-10lf * zz) + -2.5050747762857807e-08lf) * zz + 2.7557313621385722e-06lf) * zz +
			-0.0001984126982958954lf) * zz + 0.008333333333322118lf) * zz + -0.1666666666666663lf);
	}
	return sign ? -r : r;
}

float gm_sin(float x) { return float(gm_dtrig(double(x), false)); }
float gm_cos(float x) { return float(gm_dtrig(double(x), true)); }
`

// glslSign is sign(x): 1, -1, or +0 for zeros and NaN.
const glslSign = `
float gm_sign(float x) { return float(x > 0.0) - float(x < 0.0); }
`

// glslExact: the reciprocal of x ** -k and the quotient of x % y are
// computed in double and rounded to float32, which is the correctly
// rounded float32 quotient (a quotient of float32s is never within double
// rounding of a float32 rounding boundary without being on it), as the
// CPU's float32 division, whatever the precision of the driver's float
// division: floor(x/y) would amplify a quotient one ulp off into an error
// of y.
const glslExact = `
float gm_recip(float x) { return float(1.0lf / double(x)); }

float gm_mod(float x, float y) {
	precise float m = floor(float(double(x) / double(y))) * y;
	precise float r = x - m;
	return r;
}
`

// glslPower is x ** y (needs glslPow and glslExact): the products of ipow, in its order,
// when y is an integer with |y| <= 8, else gm_pow.
const glslPower = `
float gm_ipow(float x, uint k) {
	precise float x2 = x * x;
	precise float x3 = x2 * x;
	precise float x4 = x2 * x2;
	precise float x6 = x3 * x3;
	precise float r;
	switch (k) {
	case 0u: r = 1.0; break;
	case 1u: r = x; break;
	case 2u: r = x2; break;
	case 3u: r = x3; break;
	case 4u: r = x4; break;
	case 5u: r = x4 * x; break;
	case 6u: r = x6; break;
	case 7u: r = x6 * x; break;
	default: r = x4 * x4; break;
	}
	return r;
}

float gm_power(float x, float y) {
	if (y != trunc(y) || !(abs(y) <= 8.0)) return gm_pow(x, y);
	float r = gm_ipow(x, uint(abs(y)));
	return y < 0.0 ? gm_recip(r) : r;
}
`
