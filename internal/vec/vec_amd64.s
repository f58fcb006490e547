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

// func momentumStepAVX2(theta, grad, buf []float32, k *Momentum[float32])
// k: A 0, B 4, C 8, D 12, E 16, WD 20.
TEXT ·momentumStepAVX2(SB), NOSPLIT, $0-80
	MOVQ theta_base+0(FP), DI
	MOVQ theta_len+8(FP), CX
	MOVQ grad_base+24(FP), SI
	MOVQ buf_base+48(FP), DX
	MOVQ k+72(FP), R8
	VBROADCASTSS 0(R8), Y8   // A
	VBROADCASTSS 4(R8), Y9   // B
	VBROADCASTSS 8(R8), Y10  // C
	VBROADCASTSS 12(R8), Y11 // D
	VBROADCASTSS 16(R8), Y13 // E
	VBROADCASTSS 20(R8), Y12 // WD
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-8, BX
msLoop:
	CMPQ AX, BX
	JGE  msTail
	VMOVUPS      (DI)(AX*4), Y0     // θ
	VMOVUPS      (SI)(AX*4), Y1     // g
	VFMADD231PS  Y12, Y0, Y1        // g += WD·θ
	VMULPS       (DX)(AX*4), Y8, Y2 // v = A·buf
	VFMADD231PS  Y9, Y1, Y2         // v += B·g
	VMOVUPS      Y2, (DX)(AX*4)
	VMULPS       Y13, Y2, Y3        // s = E·v
	VFMADD231PS  Y11, Y1, Y3        // s += D·g
	VFNMADD231PS Y10, Y3, Y0        // θ -= C·s
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
	VMULSS       X13, X2, X3
	VFMADD231SS  X11, X1, X3
	VFNMADD231SS X10, X3, X0
	VMOVSS       X0, (DI)(AX*4)
	INCQ         AX
	JMP          msTail
msDone:
	VZEROUPPER
	RET

// func adamStepAVX2(theta, grad, m, v []float32, k *Adam[float32])
// k: B1 0, C1 4, B2 8, C2 12, BC1 16, BC2 20, Rate 24, Eps 28, WD 32,
// DecayRate 36.
TEXT ·adamStepAVX2(SB), NOSPLIT, $0-104
	MOVQ theta_base+0(FP), DI
	MOVQ theta_len+8(FP), CX
	MOVQ grad_base+24(FP), SI
	MOVQ m_base+48(FP), DX
	MOVQ v_base+72(FP), R9
	MOVQ k+96(FP), R8
	VBROADCASTSS 0(R8), Y10  // B1
	VBROADCASTSS 4(R8), Y11  // C1
	VBROADCASTSS 8(R8), Y12  // B2
	VBROADCASTSS 12(R8), Y13 // C2
	VBROADCASTSS 16(R8), Y14 // BC1
	VBROADCASTSS 20(R8), Y15 // BC2
	VBROADCASTSS 24(R8), Y6  // Rate
	VBROADCASTSS 28(R8), Y7  // Eps
	VBROADCASTSS 32(R8), Y8  // WD
	VBROADCASTSS 36(R8), Y9  // DecayRate
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-8, BX
adLoop:
	CMPQ AX, BX
	JGE  adTail
	VMOVUPS      (DI)(AX*4), Y0     // θ
	VMOVUPS      (SI)(AX*4), Y1     // g
	VFMADD231PS  Y8, Y0, Y1         // g += WD·θ
	VFNMADD231PS Y9, Y0, Y0         // θ -= DecayRate·θ
	VMULPS       (DX)(AX*4), Y10, Y2 // m = B1·m
	VFMADD231PS  Y11, Y1, Y2        // m += C1·g
	VMOVUPS      Y2, (DX)(AX*4)
	VMULPS       Y1, Y1, Y3         // g·g
	VMULPS       (R9)(AX*4), Y12, Y4 // v = B2·v
	VFMADD231PS  Y13, Y3, Y4        // v += C2·(g·g)
	VMOVUPS      Y4, (R9)(AX*4)
	VDIVPS       Y14, Y2, Y5        // m̂ = m/BC1
	VDIVPS       Y15, Y4, Y3        // v̂ = v/BC2
	VSQRTPS      Y3, Y3
	VADDPS       Y7, Y3, Y3         // √v̂ + Eps
	VMULPS       Y6, Y5, Y5         // Rate·m̂
	VDIVPS       Y3, Y5, Y5
	VSUBPS       Y5, Y0, Y0
	VMOVUPS      Y0, (DI)(AX*4)
	ADDQ         $8, AX
	JMP          adLoop
adTail:
	CMPQ AX, CX
	JGE  adDone
	VMOVSS       (DI)(AX*4), X0
	VMOVSS       (SI)(AX*4), X1
	VFMADD231SS  X8, X0, X1
	VFNMADD231SS X9, X0, X0
	VMULSS       (DX)(AX*4), X10, X2
	VFMADD231SS  X11, X1, X2
	VMOVSS       X2, (DX)(AX*4)
	VMULSS       X1, X1, X3
	VMULSS       (R9)(AX*4), X12, X4
	VFMADD231SS  X13, X3, X4
	VMOVSS       X4, (R9)(AX*4)
	VDIVSS       X14, X2, X5
	VDIVSS       X15, X4, X3
	VSQRTSS      X3, X3, X3
	VADDSS       X7, X3, X3
	VMULSS       X6, X5, X5
	VDIVSS       X3, X5, X5
	VSUBSS       X5, X0, X0
	VMOVSS       X0, (DI)(AX*4)
	INCQ         AX
	JMP          adTail
adDone:
	VZEROUPPER
	RET

// func rmspropStepAVX2(theta, grad, sq, avg, buf []float32, k *RMSProp[float32])
// k: Alpha 0, C 4, Mu 8, Rate 12, Eps 16, WD 20, Centered 24 (byte),
// Momentum 25 (byte). The two flags are tested in the loop (branches the
// predictor learns at once).
TEXT ·rmspropStepAVX2(SB), NOSPLIT, $0-128
	MOVQ theta_base+0(FP), DI
	MOVQ theta_len+8(FP), CX
	MOVQ grad_base+24(FP), SI
	MOVQ sq_base+48(FP), DX
	MOVQ avg_base+72(FP), R9
	MOVQ buf_base+96(FP), R10
	MOVQ k+120(FP), R8
	VBROADCASTSS 0(R8), Y10  // Alpha
	VBROADCASTSS 4(R8), Y11  // C
	VBROADCASTSS 8(R8), Y12  // Mu
	VBROADCASTSS 12(R8), Y13 // Rate
	VBROADCASTSS 16(R8), Y14 // Eps
	VBROADCASTSS 20(R8), Y15 // WD
	MOVBLZX 24(R8), R11      // Centered
	MOVBLZX 25(R8), R12      // Momentum
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-8, BX
rmLoop:
	CMPQ AX, BX
	JGE  rmTail
	VMOVUPS     (DI)(AX*4), Y0      // θ
	VMOVUPS     (SI)(AX*4), Y1      // g
	VFMADD231PS Y15, Y0, Y1         // g += WD·θ
	VMULPS      Y1, Y1, Y3          // g·g
	VMULPS      (DX)(AX*4), Y10, Y2 // s = Alpha·sq
	VFMADD231PS Y11, Y3, Y2         // s += C·(g·g)
	VMOVUPS     Y2, (DX)(AX*4)
	TESTQ       R11, R11
	JZ          rmRoot
	VMULPS       (R9)(AX*4), Y10, Y4 // a = Alpha·avg
	VFMADD231PS  Y11, Y1, Y4         // a += C·g
	VMOVUPS      Y4, (R9)(AX*4)
	VFNMADD231PS Y4, Y4, Y2          // s -= a·a
rmRoot:
	VSQRTPS Y2, Y2
	VADDPS  Y14, Y2, Y2              // d = √s + Eps
	TESTQ   R12, R12
	JZ      rmPlain
	VDIVPS       Y2, Y1, Y5          // g/d
	VFMADD231PS  (R10)(AX*4), Y12, Y5 // b = Mu·buf + g/d
	VMOVUPS      Y5, (R10)(AX*4)
	VFNMADD231PS Y13, Y5, Y0         // θ -= Rate·b
	JMP          rmStore
rmPlain:
	VMULPS Y13, Y1, Y5               // Rate·g
	VDIVPS Y2, Y5, Y5
	VSUBPS Y5, Y0, Y0
rmStore:
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     rmLoop
rmTail:
	CMPQ AX, CX
	JGE  rmDone
	VMOVSS      (DI)(AX*4), X0
	VMOVSS      (SI)(AX*4), X1
	VFMADD231SS X15, X0, X1
	VMULSS      X1, X1, X3
	VMULSS      (DX)(AX*4), X10, X2
	VFMADD231SS X11, X3, X2
	VMOVSS      X2, (DX)(AX*4)
	TESTQ       R11, R11
	JZ          rmRootS
	VMULSS       (R9)(AX*4), X10, X4
	VFMADD231SS  X11, X1, X4
	VMOVSS       X4, (R9)(AX*4)
	VFNMADD231SS X4, X4, X2
rmRootS:
	VSQRTSS X2, X2, X2
	VADDSS  X14, X2, X2
	TESTQ   R12, R12
	JZ      rmPlainS
	VDIVSS       X2, X1, X5
	VFMADD231SS  (R10)(AX*4), X12, X5
	VMOVSS       X5, (R10)(AX*4)
	VFNMADD231SS X13, X5, X0
	JMP          rmStoreS
rmPlainS:
	VMULSS X13, X1, X5
	VDIVSS X2, X5, X5
	VSUBSS X5, X0, X0
rmStoreS:
	VMOVSS X0, (DI)(AX*4)
	INCQ   AX
	JMP    rmTail
rmDone:
	VZEROUPPER
	RET

// func adagradStepAVX2(theta, grad, sum []float32, k *Adagrad[float32])
// k: Rate 0, Eps 4, WD 8.
TEXT ·adagradStepAVX2(SB), NOSPLIT, $0-80
	MOVQ theta_base+0(FP), DI
	MOVQ theta_len+8(FP), CX
	MOVQ grad_base+24(FP), SI
	MOVQ sum_base+48(FP), DX
	MOVQ k+72(FP), R8
	VBROADCASTSS 0(R8), Y13 // Rate
	VBROADCASTSS 4(R8), Y14 // Eps
	VBROADCASTSS 8(R8), Y15 // WD
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-8, BX
agLoop:
	CMPQ AX, BX
	JGE  agTail
	VMOVUPS     (DI)(AX*4), Y0 // θ
	VMOVUPS     (SI)(AX*4), Y1 // g
	VFMADD231PS Y15, Y0, Y1    // g += WD·θ
	VMOVUPS     (DX)(AX*4), Y2
	VFMADD231PS Y1, Y1, Y2     // sum += g·g
	VMOVUPS     Y2, (DX)(AX*4)
	VSQRTPS     Y2, Y2
	VADDPS      Y14, Y2, Y2    // √sum + Eps
	VMULPS      Y13, Y1, Y1    // Rate·g
	VDIVPS      Y2, Y1, Y1
	VSUBPS      Y1, Y0, Y0
	VMOVUPS     Y0, (DI)(AX*4)
	ADDQ        $8, AX
	JMP         agLoop
agTail:
	CMPQ AX, CX
	JGE  agDone
	VMOVSS      (DI)(AX*4), X0
	VMOVSS      (SI)(AX*4), X1
	VFMADD231SS X15, X0, X1
	VMOVSS      (DX)(AX*4), X2
	VFMADD231SS X1, X1, X2
	VMOVSS      X2, (DX)(AX*4)
	VSQRTSS     X2, X2, X2
	VADDSS      X14, X2, X2
	VMULSS      X13, X1, X1
	VDIVSS      X2, X1, X1
	VSUBSS      X1, X0, X0
	VMOVSS      X0, (DI)(AX*4)
	INCQ        AX
	JMP         agTail
agDone:
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
