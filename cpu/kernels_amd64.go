//go:build amd64 && !purego

package cpu

import "golang.org/x/sys/cpu"

// useFMA selects the AVX2+FMA kernels of kernels_amd64.s.
var useFMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

const kernelName = "avx2+fma kernels"

// dot4 sets out[k] to the dot product of rk[:n] and x[:n]; n is a multiple
// of 16 and every pointer addresses at least n elements.
//
//go:noescape
func dot4(r0, r1, r2, r3, x *float32, n int, out *[4]float32)

// axpy4 adds a[0]*r0[:n] + ... + a[3]*r3[:n] to y[:n]; n is a multiple of
// 16 and every pointer addresses at least n elements.
//
//go:noescape
func axpy4(r0, r1, r2, r3, y *float32, n int, a *[4]float32)

// hasAVX2 selects the AVX2 kernels without FMA: skipZeros32AVX and
// philox8Uniform.
var hasAVX2 = cpu.X86.HasAVX2

// skipZeros32 returns the offset of the first group of 32 elements of
// m[:n] that holds an element other than ±0, or n if there is none; n is a
// multiple of 32.
func skipZeros32(m []float32, n int) int {
	if hasAVX2 && n > 0 {
		return skipZeros32AVX(&m[0], n)
	}
	return skipZeros32Go(m, n)
}

// nonZero32 returns the bits k with m[k] != 0 of the 32 elements m[:32].
func nonZero32(m []float32) uint32 {
	if hasAVX2 {
		return nonZero32AVX(&m[0])
	}
	return nonZero32Go(m)
}

// nonZero32AVX is nonZero32 with AVX2.
//
//go:noescape
func nonZero32AVX(p *float32) uint32

// skipZeros32AVX is skipZeros32 with AVX2: 32 elements per test.
//
//go:noescape
func skipZeros32AVX(p *float32, n int) int

// philox8Uniform writes the uniform numbers of eight Philox blocks, 32
// elements, to out: out[4j+w] = sc*(a + r*rng.Unit(word w of block j)),
// block j having the counter (c0[j], c1[j], c2, c3) and the key (k0, k1).
//
//go:noescape
func philox8Uniform(out *float32, c0, c1 *[8]uint32, c2, c3, k0, k1 uint32, a, r, sc float32)

// prefetchCols asks the processor to load row[c] for every c in cols into
// the cache ahead of use (PREFETCHT0; it changes nothing else). Every c
// must index row.
//
//go:noescape
func prefetchCols(row *float32, cols []int)

// prefetchAddrs asks the processor to load the cache line of every address
// in addrs (PREFETCHT0); it reads nothing itself, so any address is safe.
//
//go:noescape
func prefetchAddrs(addrs []uintptr)

// addRefs adds a*ent[k].v to d[ent[k].i] for k < n, in order, without
// bounds checks: every ent[k].i must index d (a layout's destinations are
// below its ring's length, which is dst's).
//
//go:noescape
func addRefs(d *float32, ent *event, n int, a float32)

// addRun adds a*ent[k].v to d[ent[k].i] for every k, in order; every
// ent[k].i must index d.
func addRun(d []float32, ent []event, a float32) {
	if len(ent) > 0 && len(d) > 0 {
		addRefs(&d[0], &ent[0], len(ent), a)
	}
}
