// mathd.glsl: double-precision exp, log, cos, tanh and a NaN test, included
// by kernels that must round transcendental functions to the same float32
// as the cpu backend (which computes them in float64). GLSL has doubles
// but no double exp/log/cos; these use range reduction and polynomials
// accurate to a few double ulp, far below float32 rounding.

const double dLN2HI = 6.93147180369123816490e-01lf;
const double dLN2LO = 1.90821492927058770002e-10lf;
const double dLOG2E = 1.44269504088896338700e+00lf;

bool dIsNaN(double x) {
    uvec2 b = unpackDouble2x32(x);
    return (b.y & 0x7fffffffu) > 0x7ff00000u || ((b.y & 0x7fffffffu) == 0x7ff00000u && b.x != 0u);
}

double dInf() { return packDouble2x32(uvec2(0u, 0x7ff00000u)); }
double dNaN() { return packDouble2x32(uvec2(0u, 0x7ff80000u)); }

// dPow2 returns 2^k for -1022 <= k <= 1023.
double dPow2(int k) { return packDouble2x32(uvec2(0u, uint(k + 1023) << 20)); }

// dScale2 returns p * 2^k for -1075 <= k <= 1024 and p in [0.5, 2].
double dScale2(double p, int k) {
    if (k > 1023) { return p * dPow2(k - 1) * 2.0lf; }
    if (k < -1022) { return p * dPow2(k + 60) * dPow2(-60); }
    return p * dPow2(k);
}

double dexp(double x) {
    if (dIsNaN(x)) { return x; }
    if (x > 709.8lf) { return dInf(); }
    if (x < -745.2lf) { return 0.0lf; }
    double k = floor(x * dLOG2E + 0.5lf);
    double r = (x - k * dLN2HI) - k * dLN2LO; // |r| <= 0.3466
    // Taylor series of e^r to r^13: truncation error below 5e-18.
    double p = 1.0lf / 6227020800.0lf;
    p = p * r + 1.0lf / 479001600.0lf;
    p = p * r + 1.0lf / 39916800.0lf;
    p = p * r + 1.0lf / 3628800.0lf;
    p = p * r + 1.0lf / 362880.0lf;
    p = p * r + 1.0lf / 40320.0lf;
    p = p * r + 1.0lf / 5040.0lf;
    p = p * r + 1.0lf / 720.0lf;
    p = p * r + 1.0lf / 120.0lf;
    p = p * r + 1.0lf / 24.0lf;
    p = p * r + 1.0lf / 6.0lf;
    p = p * r + 0.5lf;
    p = p * r + 1.0lf;
    p = p * r + 1.0lf;
    return dScale2(p, int(k));
}

double dlog(double x) {
    if (dIsNaN(x) || x < 0.0lf) { return dNaN(); }
    if (x == 0.0lf) { return -dInf(); }
    if (x == dInf()) { return x; }
    // x = m * 2^e with m in [sqrt(1/2), sqrt(2)). Subnormal inputs are
    // first scaled into the normal range.
    int e = 0;
    uvec2 b = unpackDouble2x32(x);
    if ((b.y & 0x7ff00000u) == 0u) {
        x *= 18014398509481984.0lf; // 2^54
        e = -54;
        b = unpackDouble2x32(x);
    }
    e += int((b.y >> 20) & 0x7ffu) - 1023;
    double m = packDouble2x32(uvec2(b.x, (b.y & 0x000fffffu) | 0x3ff00000u)); // [1, 2)
    if (m > 1.41421356237309504880lf) { m *= 0.5lf; e += 1; }
    // log(m) = 2 atanh(f) = 2 (f + f^3/3 + f^5/5 + ...), |f| <= 0.1716.
    double f = (m - 1.0lf) / (m + 1.0lf);
    double f2 = f * f;
    double s = 1.0lf / 25.0lf;
    s = s * f2 + 1.0lf / 23.0lf;
    s = s * f2 + 1.0lf / 21.0lf;
    s = s * f2 + 1.0lf / 19.0lf;
    s = s * f2 + 1.0lf / 17.0lf;
    s = s * f2 + 1.0lf / 15.0lf;
    s = s * f2 + 1.0lf / 13.0lf;
    s = s * f2 + 1.0lf / 11.0lf;
    s = s * f2 + 1.0lf / 9.0lf;
    s = s * f2 + 1.0lf / 7.0lf;
    s = s * f2 + 1.0lf / 5.0lf;
    s = s * f2 + 1.0lf / 3.0lf;
    double de = double(e);
    return de * dLN2HI + (2.0lf * f + (2.0lf * f * f2 * s + de * dLN2LO));
}

// dsinPoly and dcosPoly are the Taylor series of sin and cos on
// |r| <= pi/4 (truncation error below 1e-17).
double dsinPoly(double r) {
    double r2 = r * r;
    double p = -1.0lf / 1307674368000.0lf;
    p = p * r2 + 1.0lf / 6227020800.0lf;
    p = p * r2 - 1.0lf / 39916800.0lf;
    p = p * r2 + 1.0lf / 362880.0lf;
    p = p * r2 - 1.0lf / 5040.0lf;
    p = p * r2 + 1.0lf / 120.0lf;
    p = p * r2 - 1.0lf / 6.0lf;
    return r + r * r2 * p;
}

double dcosPoly(double r) {
    double r2 = r * r;
    double p = 1.0lf / 20922789888000.0lf;
    p = p * r2 - 1.0lf / 87178291200.0lf;
    p = p * r2 + 1.0lf / 479001600.0lf;
    p = p * r2 - 1.0lf / 3628800.0lf;
    p = p * r2 + 1.0lf / 40320.0lf;
    p = p * r2 - 1.0lf / 720.0lf;
    p = p * r2 + 1.0lf / 24.0lf;
    p = p * r2 - 0.5lf;
    return 1.0lf + r2 * p;
}

// dcos is accurate for |x| up to about 1e5 (Box-Muller needs [0, 2 pi)).
double dcos(double x) {
    const double PIO2_1 = 1.57079632673412561417e+00lf;
    const double PIO2_2 = 6.07710050650619224932e-11lf;
    const double PIO2_3 = 2.02226624879595063154e-21lf;
    double k = floor(x * 6.36619772367581382433e-01lf + 0.5lf);
    double r = ((x - k * PIO2_1) - k * PIO2_2) - k * PIO2_3;
    int q = int(k - 4.0lf * floor(k * 0.25lf)); // k mod 4
    if (q == 0) { return dcosPoly(r); }
    if (q == 1) { return -dsinPoly(r); }
    if (q == 2) { return -dcosPoly(r); }
    return dsinPoly(r);
}

double dtanh(double x) {
    if (dIsNaN(x)) { return x; }
    double a = abs(x);
    double t;
    if (a < 1e-5lf) {
        t = a - a * a * a / 3.0lf;
    } else if (a > 22.0lf) {
        t = 1.0lf;
    } else {
        double e = dexp(2.0lf * a); // tanh a = (e - 1) / (e + 1)
        t = (e - 1.0lf) / (e + 1.0lf);
    }
    return x < 0.0lf ? -t : t;
}
