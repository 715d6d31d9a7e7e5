//go:build !amd64 || purego

package cpu

// Without the assembly kernels every product goes through gonum's blas32.
var useFMA = false

const kernelName = ""

func dot4(r0, r1, r2, r3, x *float32, n int, out *[4]float32) {
	panic("cpu: dot4 without assembly kernels")
}

func axpy4(r0, r1, r2, r3, y *float32, n int, a *[4]float32) {
	panic("cpu: axpy4 without assembly kernels")
}

// skipZeros32 returns the offset of the first group of 32 elements of
// m[:n] that holds an element other than ±0, or n if there is none; n is a
// multiple of 32.
func skipZeros32(m []float32, n int) int { return skipZeros32Go(m, n) }

// nonZero32 returns the bits k with m[k] != 0 of the 32 elements m[:32].
func nonZero32(m []float32) uint32 { return nonZero32Go(m) }

// hasAVX2: no vector kernels here.
const hasAVX2 = false

func philox8Uniform(out *float32, c0, c1 *[8]uint32, c2, c3, k0, k1 uint32, a, r, sc float32) {
	panic("cpu: philox8Uniform without assembly kernels")
}

// prefetchCols is a no-op without the assembly kernels.
func prefetchCols(row *float32, cols []int) {}

// prefetchAddrs is a no-op without the assembly kernels.
func prefetchAddrs(addrs []uintptr) {}

// addRun adds a*ent[k].v to d[ent[k].i] for every k, in order.
func addRun(d []float32, ent []event, a float32) {
	for _, e := range ent {
		d[e.i] += a * e.v
	}
}
