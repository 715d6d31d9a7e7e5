//go:build amd64 && !purego

#include "textflag.h"

// AVX2+FMA kernels for MatVec and Propagate. The Go callers check
// useFMA (CPU support) and handle the n%16 tail.

// func dot4(r0, r1, r2, r3, x *float32, n int, out *[4]float32)
// out[k] = sum_{j<n} rk[j]*x[j], for n a multiple of 16.
TEXT ·dot4(SB), NOSPLIT, $0-56
	MOVQ r0+0(FP), R8
	MOVQ r1+8(FP), R9
	MOVQ r2+16(FP), R10
	MOVQ r3+24(FP), R11
	MOVQ x+32(FP), SI
	MOVQ n+40(FP), CX
	MOVQ out+48(FP), DI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	XORQ   AX, AX
	SHRQ   $4, CX
	JZ     dot4_sum

dot4_loop:
	VMOVUPS     (SI)(AX*4), Y8
	VMOVUPS     32(SI)(AX*4), Y9
	VFMADD231PS (R8)(AX*4), Y8, Y0
	VFMADD231PS 32(R8)(AX*4), Y9, Y4
	VFMADD231PS (R9)(AX*4), Y8, Y1
	VFMADD231PS 32(R9)(AX*4), Y9, Y5
	VFMADD231PS (R10)(AX*4), Y8, Y2
	VFMADD231PS 32(R10)(AX*4), Y9, Y6
	VFMADD231PS (R11)(AX*4), Y8, Y3
	VFMADD231PS 32(R11)(AX*4), Y9, Y7
	ADDQ        $16, AX
	DECQ        CX
	JNZ         dot4_loop

dot4_sum:
	VADDPS       Y4, Y0, Y0
	VADDPS       Y5, Y1, Y1
	VADDPS       Y6, Y2, Y2
	VADDPS       Y7, Y3, Y3
	// Pairwise horizontal adds leave the four row sums in lanes 0-3 of
	// each 128-bit half; adding the halves finishes them.
	VHADDPS      Y1, Y0, Y0
	VHADDPS      Y3, Y2, Y2
	VHADDPS      Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VMOVUPS      X0, (DI)
	VZEROUPPER
	RET

// func axpy4(r0, r1, r2, r3, y *float32, n int, a *[4]float32)
// y[j] += a[0]*r0[j] + a[1]*r1[j] + a[2]*r2[j] + a[3]*r3[j] (four fused
// multiply-adds in that order), for j < n, n a multiple of 16.
TEXT ·axpy4(SB), NOSPLIT, $0-56
	MOVQ         r0+0(FP), R8
	MOVQ         r1+8(FP), R9
	MOVQ         r2+16(FP), R10
	MOVQ         r3+24(FP), R11
	MOVQ         y+32(FP), DI
	MOVQ         n+40(FP), CX
	MOVQ         a+48(FP), SI
	VBROADCASTSS 0(SI), Y12
	VBROADCASTSS 4(SI), Y13
	VBROADCASTSS 8(SI), Y14
	VBROADCASTSS 12(SI), Y15
	XORQ         AX, AX
	SHRQ         $4, CX
	JZ           axpy4_done

axpy4_loop:
	VMOVUPS     (DI)(AX*4), Y0
	VMOVUPS     32(DI)(AX*4), Y1
	VFMADD231PS (R8)(AX*4), Y12, Y0
	VFMADD231PS 32(R8)(AX*4), Y12, Y1
	VFMADD231PS (R9)(AX*4), Y13, Y0
	VFMADD231PS 32(R9)(AX*4), Y13, Y1
	VFMADD231PS (R10)(AX*4), Y14, Y0
	VFMADD231PS 32(R10)(AX*4), Y14, Y1
	VFMADD231PS (R11)(AX*4), Y15, Y0
	VFMADD231PS 32(R11)(AX*4), Y15, Y1
	VMOVUPS     Y0, (DI)(AX*4)
	VMOVUPS     Y1, 32(DI)(AX*4)
	ADDQ        $16, AX
	DECQ        CX
	JNZ         axpy4_loop

axpy4_done:
	VZEROUPPER
	RET

// func skipZeros32AVX(p *float32, n int) int
TEXT ·skipZeros32AVX(SB), NOSPLIT, $0-24
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), BX
	MOVL $0x7fffffff, AX
	VMOVD AX, X5
	VPBROADCASTD X5, Y5
	XORQ AX, AX
	CMPQ BX, $0
	JE szdone

szloop:
	VMOVDQU (SI)(AX*4), Y0
	VPOR 32(SI)(AX*4), Y0, Y0
	VPOR 64(SI)(AX*4), Y0, Y0
	VPOR 96(SI)(AX*4), Y0, Y0
	VPTEST Y5, Y0
	JNZ szdone
	ADDQ $32, AX
	CMPQ AX, BX
	JB szloop

szdone:
	MOVQ AX, ret+16(FP)
	VZEROUPPER
	RET

// func nonZero32AVX(p *float32) uint32
//
// Bit k of the result is set where p[k] != 0 (NaN included, ±0 not), for
// the 32 elements p[0:32].
TEXT ·nonZero32AVX(SB), NOSPLIT, $0-12
	MOVQ p+0(FP), SI
	VXORPS Y4, Y4, Y4
	VCMPPS $4, (SI), Y4, Y0
	VCMPPS $4, 32(SI), Y4, Y1
	VCMPPS $4, 64(SI), Y4, Y2
	VCMPPS $4, 96(SI), Y4, Y3
	VMOVMSKPS Y0, AX
	VMOVMSKPS Y1, BX
	VMOVMSKPS Y2, CX
	VMOVMSKPS Y3, DX
	SHLL $8, BX
	SHLL $16, CX
	SHLL $24, DX
	ORL BX, AX
	ORL CX, AX
	ORL DX, AX
	MOVL AX, ret+8(FP)
	VZEROUPPER
	RET

// MULHILO8 sets HI and LO to the high and low words of M * C for the eight
// 32-bit lanes of C (T0, T1 are scratch).
#define MULHILO8(M, C, HI, LO, T0, T1) \
	VPMULUDQ M, C, T0 \
	VPSRLQ $32, C, T1 \
	VPMULUDQ M, T1, T1 \
	VPSLLQ $32, T1, LO \
	VPBLENDD $0xAA, LO, T0, LO \
	VPSRLQ $32, T0, HI \
	VPBLENDD $0xAA, T1, HI, HI

// PHILOXROUND is one Philox4x32 round on eight counters (Y0-Y3) with the
// round keys Y4, Y5; M0 in Y8, M1 in Y9; Y10-Y15 scratch.
#define PHILOXROUND \
	MULHILO8(Y8, Y0, Y10, Y11, Y14, Y15) \
	MULHILO8(Y9, Y2, Y12, Y13, Y14, Y15) \
	VPXOR Y12, Y1, Y0 \
	VPXOR Y4, Y0, Y0 \
	VMOVDQU Y13, Y1 \
	VPXOR Y10, Y3, Y2 \
	VPXOR Y5, Y2, Y2 \
	VMOVDQU Y11, Y3

// NEXTKEY adds the Weyl increments (Y6, Y7) to the round keys.
#define NEXTKEY \
	VPADDD Y6, Y4, Y4 \
	VPADDD Y7, Y5, Y5

// func philox8Uniform(out *float32, c0, c1 *[8]uint32, c2, c3, k0, k1 uint32, a, r, sc float32)
//
// out[4j+w] = sc * (a + r*Unit(word w of Philox4x32-10 of counter (c0[j],
// c1[j], c2, c3) under key (k0, k1))) for j < 8, w < 4: eight blocks.
TEXT ·philox8Uniform(SB), NOSPLIT, $0-52
	MOVQ out+0(FP), DI
	MOVQ c0+8(FP), SI
	MOVQ c1+16(FP), DX
	VMOVDQU (SI), Y0
	VMOVDQU (DX), Y1
	MOVL c2+24(FP), AX
	VMOVD AX, X2
	VPBROADCASTD X2, Y2
	MOVL c3+28(FP), AX
	VMOVD AX, X3
	VPBROADCASTD X3, Y3
	MOVL k0+32(FP), AX
	VMOVD AX, X4
	VPBROADCASTD X4, Y4
	MOVL k1+36(FP), AX
	VMOVD AX, X5
	VPBROADCASTD X5, Y5
	MOVL $0x9E3779B9, AX
	VMOVD AX, X6
	VPBROADCASTD X6, Y6
	MOVL $0xBB67AE85, AX
	VMOVD AX, X7
	VPBROADCASTD X7, Y7
	MOVL $0xD2511F53, AX
	VMOVD AX, X8
	VPBROADCASTD X8, Y8
	MOVL $0xCD9E8D57, AX
	VMOVD AX, X9
	VPBROADCASTD X9, Y9
	PHILOXROUND
	NEXTKEY
	PHILOXROUND
	NEXTKEY
	PHILOXROUND
	NEXTKEY
	PHILOXROUND
	NEXTKEY
	PHILOXROUND
	NEXTKEY
	PHILOXROUND
	NEXTKEY
	PHILOXROUND
	NEXTKEY
	PHILOXROUND
	NEXTKEY
	PHILOXROUND
	NEXTKEY
	PHILOXROUND
	// Unit: float32(w >> 8) * 2^-24, then sc * (a + r*u), each rounded.
	MOVL $0x33800000, AX // 2^-24
	VMOVD AX, X4
	VPBROADCASTD X4, Y4
	VBROADCASTSS a+40(FP), Y5
	VBROADCASTSS r+44(FP), Y6
	VBROADCASTSS sc+48(FP), Y7
	VPSRLD $8, Y0, Y0
	VPSRLD $8, Y1, Y1
	VPSRLD $8, Y2, Y2
	VPSRLD $8, Y3, Y3
	VCVTDQ2PS Y0, Y0
	VCVTDQ2PS Y1, Y1
	VCVTDQ2PS Y2, Y2
	VCVTDQ2PS Y3, Y3
	VMULPS Y4, Y0, Y0
	VMULPS Y4, Y1, Y1
	VMULPS Y4, Y2, Y2
	VMULPS Y4, Y3, Y3
	VMULPS Y6, Y0, Y0
	VMULPS Y6, Y1, Y1
	VMULPS Y6, Y2, Y2
	VMULPS Y6, Y3, Y3
	VADDPS Y5, Y0, Y0
	VADDPS Y5, Y1, Y1
	VADDPS Y5, Y2, Y2
	VADDPS Y5, Y3, Y3
	VMULPS Y7, Y0, Y0
	VMULPS Y7, Y1, Y1
	VMULPS Y7, Y2, Y2
	VMULPS Y7, Y3, Y3
	// Transpose words x blocks into block-major order.
	VUNPCKLPS Y1, Y0, Y10 // j0w0 j0w1 j1w0 j1w1 | j4 j5
	VUNPCKHPS Y1, Y0, Y11 // j2w0 j2w1 j3w0 j3w1 | j6 j7
	VUNPCKLPS Y3, Y2, Y12 // j0w2 j0w3 j1w2 j1w3 | j4 j5
	VUNPCKHPS Y3, Y2, Y13 // j2w2 j2w3 j3w2 j3w3 | j6 j7
	VUNPCKLPD Y12, Y10, Y0 // j0 | j4
	VUNPCKHPD Y12, Y10, Y1 // j1 | j5
	VUNPCKLPD Y13, Y11, Y2 // j2 | j6
	VUNPCKHPD Y13, Y11, Y3 // j3 | j7
	VPERM2F128 $0x20, Y1, Y0, Y4 // j0 j1
	VPERM2F128 $0x20, Y3, Y2, Y5 // j2 j3
	VPERM2F128 $0x31, Y1, Y0, Y6 // j4 j5
	VPERM2F128 $0x31, Y3, Y2, Y7 // j6 j7
	VMOVUPS Y4, (DI)
	VMOVUPS Y5, 32(DI)
	VMOVUPS Y6, 64(DI)
	VMOVUPS Y7, 96(DI)
	VZEROUPPER
	RET

// func prefetchCols(row *float32, cols []int)
//
// Issues PREFETCHT0 for row[c] for every c in cols.
TEXT ·prefetchCols(SB), NOSPLIT, $0-32
	MOVQ row+0(FP), DI
	MOVQ cols_base+8(FP), SI
	MOVQ cols_len+16(FP), CX
	TESTQ CX, CX
	JZ pfdone

pfloop:
	MOVQ (SI), AX
	PREFETCHT0 (DI)(AX*4)
	ADDQ $8, SI
	DECQ CX
	JNZ pfloop

pfdone:
	RET

// func prefetchAddrs(addrs []uintptr)
//
// Issues PREFETCHT0 for every address in addrs.
TEXT ·prefetchAddrs(SB), NOSPLIT, $0-24
	MOVQ addrs_base+0(FP), SI
	MOVQ addrs_len+8(FP), CX
	TESTQ CX, CX
	JZ pfadone

pfaloop:
	MOVQ (SI), AX
	PREFETCHT0 (AX)
	ADDQ $8, SI
	DECQ CX
	JNZ pfaloop

pfadone:
	RET

// func addRefs(d *float32, ent *event, n int, a float32)
//
// d[ent[k].i] += a * ent[k].v for k < n (event: int32 i, float32 v).
// Every ent[k].i must index d: the caller guarantees it.
TEXT ·addRefs(SB), NOSPLIT, $0-28
	MOVQ d+0(FP), DI
	MOVQ ent+8(FP), SI
	MOVQ n+16(FP), CX
	MOVSS a+24(FP), X0
	TESTQ CX, CX
	JLE addrefsdone

addrefsloop:
	MOVLQSX (SI), AX
	MOVSS 4(SI), X1
	MULSS X0, X1
	ADDSS (DI)(AX*4), X1
	MOVSS X1, (DI)(AX*4)
	ADDQ $8, SI
	DECQ CX
	JNZ addrefsloop

addrefsdone:
	RET
