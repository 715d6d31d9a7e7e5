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
