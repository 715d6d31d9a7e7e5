// Package backendtest is the conformance suite that every GoMoNNto compute
// backend passes. A backend's tests call
//
//	func TestConformance(t *testing.T) {
//		backendtest.Run(t, func(t *testing.T) backend.Backend {
//			b, err := cpu.New(backend.Options{})
//			if err != nil {
//				t.Fatal(err)
//			}
//			return b
//		})
//	}
//
// Run executes table-driven subtests for every operation of
// backend.Backend, one top-level subtest per operation, each on a fresh
// backend (Run closes it). Inputs come from fixed seeds; results are read
// back with Backend.Read only and compared with references computed on the
// host: float32 arithmetic where float32 arithmetic defines the result,
// float64 otherwise, rng.Sample for random fills. A failure names the
// operation, the case, the element, the value, the reference and the
// tolerance.
//
// # Tolerances
//
// The same numbers hold for every backend (cpu, gl on llvmpipe, gl on a
// hardware GPU). "ulp" counts representable float32 values between the
// result and the correctly rounded float32 reference; "terms" is the sum of
// the absolute values of the terms that make up the element.
//
//	Operation                                   Tolerance
//	------------------------------------------  ----------------------------------------
//	Write/Read, Fill, Copy, CopyRange           exact
//	Binary, BinaryScalar: add sub mul min max,  exact (IEEE float32 +, -, * are
//	  gt ge lt le eq ne                           correctly rounded on CPUs and in GLSL)
//	Binary, BinaryScalar: div                   3 ulp (GLSL guarantees 2.5 ulp for a/b)
//	Unary: neg abs square heaviside not         exact
//	Unary: recip                                3 ulp
//	Unary: exp log sqrt tanh sigmoid            1e-6*|ref| + 1e-6, ref in float64
//	                                              (inputs: exp [-2, 2], log [0.01, 100],
//	                                              sqrt [0, 100], tanh/sigmoid [-6, 6])
//	Affine, Axpy                                1e-6 * terms (a fused multiply-add is fine)
//	Where, WhereScalar, Clip                    exact
//	Reduce sum, mean                            1e-5 * sum|x| (divided by n for mean)
//	Reduce max, min, count                      exact
//	MatVec, Propagate                           1e-4 * terms of each output element,
//	                                              terms = |alpha|*sum_j|W_ij x_j| + |beta*dst_i|
//	Outer                                       1e-6 * (|W| + |Alpha*u*v|), soft form
//	                                              1e-6 * (|W| + |Alpha*u*v|*(|Target|+|W|));
//	                                              elements not selected: exact (not clipped)
//	Normalize                                   1e-5 * |ref|; zero-sum rows/columns exact
//	Random const, uniform, bernoulli            bitwise equal to rng.Sample
//	Random density mask (all kinds)             bitwise: zero exactly where rng.Sample is 0
//	Random normal, lognormal                    2e-6*|ref| + 2e-6 against rng.Sample
//
// Consequences for implementers: sums need pairwise, blocked or float64
// accumulation to meet 1e-5 for 100003 elements and 1e-4 for dot products
// of 6000 terms; GLSL code for Uniform must not contract A + (B-A)*U into a
// fused multiply-add (use the precise qualifier) to stay bitwise equal.
//
// # Sizes
//
// Reductions run on lengths that are not powers of two (1, 3, 65, 257,
// 1000, 1025, 4097, 65537, 100003, ...), where GPU tree reductions tend to
// fail. Random fills of 5,000,000 elements and the LargeVector group
// (5,000,011 elements) exceed 65535 work groups of 64 invocations, the GPU
// dispatch limit. The LargeMatrix group runs MatVec, Propagate and Reduce
// on a 6000x6000 matrix (144 MB, above llvmpipe's 128 MiB shader storage
// block limit, so a GL backend must split it); it is skipped with -short.
//
// # Misuse
//
// Shape mismatches, a tensor of another backend, a released tensor, ranges
// outside a tensor and invalid operations must panic at the call, with a
// message that says "mismatch" or names the offending shape (as the
// backend.Check* helpers do); an invalid operation's message names it (its
// String method gives "BinaryOp(200)"). Out-of-range Read and Write must
// return an error instead, and leave the tensor unchanged. After misuse the
// backend keeps working.
package backendtest
