//go:build !purego

#include "textflag.h"

// Each kernel runs 8 lanes per YMM iteration, then a scalar tail with the
// same operations on X registers. AX is the element index, CX the count.

// func biasReLUAVX2(x, b []float32)
TEXT ·biasReLUAVX2(SB), NOSPLIT, $0-48
	MOVQ x_base+0(FP), DI
	MOVQ x_len+8(FP), CX
	MOVQ b_base+24(FP), SI
	VXORPS Y15, Y15, Y15
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-8, BX
brLoop:
	CMPQ AX, BX
	JGE  brTail
	VMOVUPS (DI)(AX*4), Y0
	VADDPS  (SI)(AX*4), Y0, Y0
	VMAXPS  Y0, Y15, Y0        // max(0, x): a NaN x is kept
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     brLoop
brTail:
	CMPQ AX, CX
	JGE  brDone
	VMOVSS (DI)(AX*4), X0
	VADDSS (SI)(AX*4), X0, X0
	VMAXSS X0, X15, X0
	VMOVSS X0, (DI)(AX*4)
	INCQ   AX
	JMP    brTail
brDone:
	VZEROUPPER
	RET

// func addToAVX2(dst, src []float32)
TEXT ·addToAVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ src_base+24(FP), SI
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-8, BX
atLoop:
	CMPQ AX, BX
	JGE  atTail
	VMOVUPS (DI)(AX*4), Y0
	VADDPS  (SI)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     atLoop
atTail:
	CMPQ AX, CX
	JGE  atDone
	VMOVSS (DI)(AX*4), X0
	VADDSS (SI)(AX*4), X0, X0
	VMOVSS X0, (DI)(AX*4)
	INCQ   AX
	JMP    atTail
atDone:
	VZEROUPPER
	RET

// func reluBackwardAVX2(dz, dy, y, db []float32)
TEXT ·reluBackwardAVX2(SB), NOSPLIT, $0-96
	MOVQ dz_base+0(FP), DI
	MOVQ dy_base+24(FP), SI
	MOVQ y_base+48(FP), DX
	MOVQ y_len+56(FP), CX
	MOVQ db_base+72(FP), R8
	VXORPS Y15, Y15, Y15
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-8, BX
rbLoop:
	CMPQ AX, BX
	JGE  rbTail
	VMOVUPS (DX)(AX*4), Y0
	VCMPPS  $0x1e, Y15, Y0, Y1 // y > 0 (ordered: false for NaN)
	VANDPS  (SI)(AX*4), Y1, Y2
	VMOVUPS Y2, (DI)(AX*4)
	VADDPS  (R8)(AX*4), Y2, Y3
	VMOVUPS Y3, (R8)(AX*4)
	ADDQ    $8, AX
	JMP     rbLoop
rbTail:
	CMPQ AX, CX
	JGE  rbDone
	VMOVSS (DX)(AX*4), X0
	VCMPSS $0x1e, X15, X0, X1
	VMOVSS (SI)(AX*4), X2
	VANDPS X2, X1, X2
	VMOVSS X2, (DI)(AX*4)
	VADDSS (R8)(AX*4), X2, X3
	VMOVSS X3, (R8)(AX*4)
	INCQ   AX
	JMP    rbTail
rbDone:
	VZEROUPPER
	RET

// func momentumStepAVX2(theta, grad, buf []float32, a, b, c, d, wd float32)
TEXT ·momentumStepAVX2(SB), NOSPLIT, $0-92
	MOVQ theta_base+0(FP), DI
	MOVQ theta_len+8(FP), CX
	MOVQ grad_base+24(FP), SI
	MOVQ buf_base+48(FP), DX
	VBROADCASTSS a+72(FP), Y8
	VBROADCASTSS b+76(FP), Y9
	VBROADCASTSS c+80(FP), Y10
	VBROADCASTSS d+84(FP), Y11
	VBROADCASTSS wd+88(FP), Y12
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-8, BX
msLoop:
	CMPQ AX, BX
	JGE  msTail
	VMOVUPS      (DI)(AX*4), Y0 // θ
	VMOVUPS      (SI)(AX*4), Y1 // g
	VFMADD231PS  Y12, Y0, Y1    // g += wd·θ
	VMULPS       (DX)(AX*4), Y8, Y2 // v = a·buf
	VFMADD231PS  Y9, Y1, Y2     // v += b·g
	VMOVUPS      Y2, (DX)(AX*4)
	VFNMADD231PS Y10, Y2, Y0    // θ -= c·v
	VFNMADD231PS Y11, Y1, Y0    // θ -= d·g
	VMOVUPS      Y0, (DI)(AX*4)
	ADDQ         $8, AX
	JMP          msLoop
msTail:
	CMPQ AX, CX
	JGE  msDone
	VMOVSS       (DI)(AX*4), X0
	VMOVSS       (SI)(AX*4), X1
	VFMADD231SS  X12, X0, X1
	VMULSS       (DX)(AX*4), X8, X2
	VFMADD231SS  X9, X1, X2
	VMOVSS       X2, (DX)(AX*4)
	VFNMADD231SS X10, X2, X0
	VFNMADD231SS X11, X1, X0
	VMOVSS       X0, (DI)(AX*4)
	INCQ         AX
	JMP          msTail
msDone:
	VZEROUPPER
	RET

// func plainStepAVX2(theta, grad []float32, rate, wd float32)
TEXT ·plainStepAVX2(SB), NOSPLIT, $0-56
	MOVQ theta_base+0(FP), DI
	MOVQ theta_len+8(FP), CX
	MOVQ grad_base+24(FP), SI
	VBROADCASTSS rate+48(FP), Y10
	VBROADCASTSS wd+52(FP), Y12
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-8, BX
psLoop:
	CMPQ AX, BX
	JGE  psTail
	VMOVUPS      (DI)(AX*4), Y0
	VMOVUPS      (SI)(AX*4), Y1
	VFMADD231PS  Y12, Y0, Y1 // g += wd·θ
	VFNMADD231PS Y10, Y1, Y0 // θ -= rate·g
	VMOVUPS      Y0, (DI)(AX*4)
	ADDQ         $8, AX
	JMP          psLoop
psTail:
	CMPQ AX, CX
	JGE  psDone
	VMOVSS       (DI)(AX*4), X0
	VMOVSS       (SI)(AX*4), X1
	VFMADD231SS  X12, X0, X1
	VFNMADD231SS X10, X1, X0
	VMOVSS       X0, (DI)(AX*4)
	INCQ         AX
	JMP          psTail
psDone:
	VZEROUPPER
	RET

// func bytesToFloatsAVX2(dst []float32, src []uint8)
TEXT ·bytesToFloatsAVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	MOVL $0x437f0000, R9 // 255.0
	MOVL R9, X15
	VBROADCASTSS X15, Y15
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-8, BX
bfLoop:
	CMPQ AX, BX
	JGE  bfTail
	VPMOVZXBD (SI)(AX*1), Y0
	VCVTDQ2PS Y0, Y0
	VDIVPS    Y15, Y0, Y0 // correctly rounded v/255
	VMOVUPS   Y0, (DI)(AX*4)
	ADDQ      $8, AX
	JMP       bfLoop
bfTail:
	CMPQ AX, CX
	JGE  bfDone
	MOVBLZX   (SI)(AX*1), R10
	VCVTSI2SSL R10, X0, X0
	VDIVSS    X15, X0, X0
	VMOVSS    X0, (DI)(AX*4)
	INCQ      AX
	JMP       bfTail
bfDone:
	VZEROUPPER
	RET
