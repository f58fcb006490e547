//go:build !purego

#include "textflag.h"

// The NEON kernels. Each handles the first len &^ 3 elements (&^ 15 for
// bytesToFloatsNEON), four lanes per iteration; the Go wrappers in
// vec_arm64.go run the Go twin on the tail. Every operation is the twin's,
// unfused and in the twin's order, so the results are the twin's bits.
//
// Go's assembler lacks the vector FADD, FSUB, FMUL, FDIV, FSQRT, the
// compares with zero, AND, BIC, UXTL and UCVTF; they are emitted as WORDs
// (d, n, m are register numbers; all are the .4S / .16B forms).
#define FADD4(d, n, m) WORD $(0x4E20D400|((m)<<16)|((n)<<5)|(d))
#define FSUB4(d, n, m) WORD $(0x4EA0D400|((m)<<16)|((n)<<5)|(d))
#define FMUL4(d, n, m) WORD $(0x6E20DC00|((m)<<16)|((n)<<5)|(d))
#define FDIV4(d, n, m) WORD $(0x6E20FC00|((m)<<16)|((n)<<5)|(d))
#define FSQRT4(d, n) WORD $(0x6EA1F800|((n)<<5)|(d))
#define FCMGTZ4(d, n) WORD $(0x4EA0C800|((n)<<5)|(d)) // Vd = Vn > 0 ? ones : 0 (0 for NaN)
#define FCMLTZ4(d, n) WORD $(0x4EA0E800|((n)<<5)|(d)) // Vd = Vn < 0 ? ones : 0 (0 for NaN, −0)
#define AND16(d, n, m) WORD $(0x4E201C00|((m)<<16)|((n)<<5)|(d))
#define BIC16(d, n, m) WORD $(0x4E601C00|((m)<<16)|((n)<<5)|(d)) // Vd = Vn &^ Vm
#define UXTL8H(d, n) WORD $(0x2F08A400|((n)<<5)|(d))  // low 8 bytes → 8 halves
#define UXTL28H(d, n) WORD $(0x6F08A400|((n)<<5)|(d)) // high 8 bytes → 8 halves
#define UXTL4S(d, n) WORD $(0x2F10A400|((n)<<5)|(d))  // low 4 halves → 4 words
#define UXTL24S(d, n) WORD $(0x6F10A400|((n)<<5)|(d)) // high 4 halves → 4 words
#define UCVTF4(d, n) WORD $(0x6E21D800|((n)<<5)|(d))

// BCAST loads the float32 at off(p) into every lane of v (through V0).
#define BCAST(off, p, v) FMOVS off(p), F0; VDUP V0.S[0], v

// func biasReLUNEON(x, b []float32)
TEXT ·biasReLUNEON(SB), NOSPLIT, $0-48
	MOVD x_base+0(FP), R0
	MOVD x_len+8(FP), R8
	MOVD b_base+24(FP), R1
	LSR  $2, R8
	CBZ  R8, done
loop:
	VLD1   (R0), [V0.S4]
	VLD1.P 16(R1), [V1.S4]
	FADD4(0, 0, 1)
	FCMLTZ4(2, 0)
	BIC16(0, 0, 2)         // v < 0 ? 0 : v: NaN and −0 kept, as in the twin
	VST1.P [V0.S4], 16(R0)
	SUBS   $1, R8
	BNE    loop
done:
	RET

// func addToNEON(dst, src []float32)
TEXT ·addToNEON(SB), NOSPLIT, $0-48
	MOVD dst_base+0(FP), R0
	MOVD dst_len+8(FP), R8
	MOVD src_base+24(FP), R1
	LSR  $2, R8
	CBZ  R8, done
loop:
	VLD1   (R0), [V0.S4]
	VLD1.P 16(R1), [V1.S4]
	FADD4(0, 0, 1)
	VST1.P [V0.S4], 16(R0)
	SUBS   $1, R8
	BNE    loop
done:
	RET

// func reluBackwardNEON(dz, dy, y, db []float32)
TEXT ·reluBackwardNEON(SB), NOSPLIT, $0-96
	MOVD dz_base+0(FP), R0
	MOVD dy_base+24(FP), R1
	MOVD y_base+48(FP), R2
	MOVD y_len+56(FP), R8
	MOVD db_base+72(FP), R3
	LSR  $2, R8
	CBZ  R8, done
loop:
	VLD1.P 16(R2), [V0.S4] // y
	VLD1.P 16(R1), [V1.S4] // dy (read before dz is written: dz may be dy)
	VLD1   (R3), [V2.S4]   // db
	FCMGTZ4(0, 0)
	AND16(1, 1, 0)         // g = y > 0 ? dy : +0
	VST1.P [V1.S4], 16(R0)
	FADD4(2, 2, 1)
	VST1.P [V2.S4], 16(R3)
	SUBS   $1, R8
	BNE    loop
done:
	RET

// func momentumStepNEON(theta, grad, buf []float32, k *Momentum[float32])
// k: A 0, B 4, C 8, D 12, E 16, WD 20.
TEXT ·momentumStepNEON(SB), NOSPLIT, $0-80
	MOVD theta_base+0(FP), R0
	MOVD theta_len+8(FP), R8
	MOVD grad_base+24(FP), R1
	MOVD buf_base+48(FP), R2
	MOVD k+72(FP), R4
	LSR  $2, R8
	CBZ  R8, done
	BCAST(0, R4, V16.S4)  // A
	BCAST(4, R4, V17.S4)  // B
	BCAST(8, R4, V18.S4)  // C
	BCAST(12, R4, V19.S4) // D
	BCAST(16, R4, V20.S4) // E
	BCAST(20, R4, V21.S4) // WD
loop:
	VLD1   (R0), [V0.S4]   // θ
	VLD1.P 16(R1), [V1.S4] // grad
	VLD1   (R2), [V2.S4]   // buf
	FMUL4(3, 21, 0)
	FADD4(1, 1, 3)         // g = grad + WD·θ
	FMUL4(2, 16, 2)
	FMUL4(3, 17, 1)
	FADD4(2, 2, 3)         // v = A·buf + B·g
	VST1.P [V2.S4], 16(R2)
	FMUL4(3, 19, 1)
	FMUL4(4, 20, 2)
	FADD4(3, 3, 4)         // D·g + E·v
	FMUL4(3, 18, 3)
	FSUB4(0, 0, 3)         // θ −= C·(D·g + E·v)
	VST1.P [V0.S4], 16(R0)
	SUBS   $1, R8
	BNE    loop
done:
	RET

// func plainStepNEON(theta, grad []float32, rate, wd float32)
TEXT ·plainStepNEON(SB), NOSPLIT, $0-56
	MOVD theta_base+0(FP), R0
	MOVD theta_len+8(FP), R8
	MOVD grad_base+24(FP), R1
	LSR  $2, R8
	CBZ  R8, done
	FMOVS rate+48(FP), F16
	VDUP  V16.S[0], V16.S4
	FMOVS wd+52(FP), F17
	VDUP  V17.S[0], V17.S4
loop:
	VLD1   (R0), [V0.S4]
	VLD1.P 16(R1), [V1.S4]
	FMUL4(2, 17, 0)
	FADD4(1, 1, 2)         // g = grad + wd·θ
	FMUL4(2, 16, 1)
	FSUB4(0, 0, 2)         // θ −= rate·g
	VST1.P [V0.S4], 16(R0)
	SUBS   $1, R8
	BNE    loop
done:
	RET

// func adamStepNEON(theta, grad, m, v []float32, k *Adam[float32])
// k: B1 0, C1 4, B2 8, C2 12, BC1 16, BC2 20, Rate 24, Eps 28, WD 32,
// DecayRate 36.
TEXT ·adamStepNEON(SB), NOSPLIT, $0-104
	MOVD theta_base+0(FP), R0
	MOVD theta_len+8(FP), R8
	MOVD grad_base+24(FP), R1
	MOVD m_base+48(FP), R2
	MOVD v_base+72(FP), R3
	MOVD k+96(FP), R4
	LSR  $2, R8
	CBZ  R8, done
	BCAST(0, R4, V16.S4)  // B1
	BCAST(4, R4, V17.S4)  // C1
	BCAST(8, R4, V18.S4)  // B2
	BCAST(12, R4, V19.S4) // C2
	BCAST(16, R4, V20.S4) // BC1
	BCAST(20, R4, V21.S4) // BC2
	BCAST(24, R4, V22.S4) // Rate
	BCAST(28, R4, V23.S4) // Eps
	BCAST(32, R4, V24.S4) // WD
	BCAST(36, R4, V25.S4) // DecayRate
loop:
	VLD1   (R0), [V0.S4]   // θ
	VLD1.P 16(R1), [V1.S4] // grad
	VLD1   (R2), [V2.S4]   // m
	VLD1   (R3), [V3.S4]   // v
	FMUL4(4, 24, 0)
	FADD4(1, 1, 4)         // g = grad + WD·θ
	FMUL4(4, 25, 0)
	FSUB4(0, 0, 4)         // θ −= DecayRate·θ
	FMUL4(2, 16, 2)
	FMUL4(4, 17, 1)
	FADD4(2, 2, 4)         // m = B1·m + C1·g
	FMUL4(3, 18, 3)
	FMUL4(4, 1, 1)
	FMUL4(4, 19, 4)
	FADD4(3, 3, 4)         // v = B2·v + C2·(g·g)
	VST1.P [V2.S4], 16(R2)
	VST1.P [V3.S4], 16(R3)
	FDIV4(2, 2, 20)        // m̂
	FDIV4(3, 3, 21)        // v̂
	FSQRT4(3, 3)
	FADD4(3, 3, 23)        // √v̂ + Eps
	FMUL4(2, 22, 2)
	FDIV4(2, 2, 3)
	FSUB4(0, 0, 2)         // θ −= (Rate·m̂)/(√v̂ + Eps)
	VST1.P [V0.S4], 16(R0)
	SUBS   $1, R8
	BNE    loop
done:
	RET

// func rmspropStepNEON(theta, grad, sq, avg, buf []float32, k *RMSProp[float32])
// k: Alpha 0, C 4, Mu 8, Rate 12, Eps 16, WD 20, Centered 24, Momentum 25.
TEXT ·rmspropStepNEON(SB), NOSPLIT, $0-128
	MOVD theta_base+0(FP), R0
	MOVD theta_len+8(FP), R8
	MOVD grad_base+24(FP), R1
	MOVD sq_base+48(FP), R2
	MOVD avg_base+72(FP), R3
	MOVD buf_base+96(FP), R4
	MOVD k+120(FP), R5
	LSR  $2, R8
	CBZ  R8, done
	MOVBU 24(R5), R6 // Centered
	MOVBU 25(R5), R7 // Momentum
	BCAST(0, R5, V16.S4)  // Alpha
	BCAST(4, R5, V17.S4)  // C
	BCAST(8, R5, V18.S4)  // Mu
	BCAST(12, R5, V19.S4) // Rate
	BCAST(16, R5, V20.S4) // Eps
	BCAST(20, R5, V21.S4) // WD
loop:
	VLD1   (R0), [V0.S4]   // θ
	VLD1.P 16(R1), [V1.S4] // grad
	VLD1   (R2), [V2.S4]   // sq
	FMUL4(4, 21, 0)
	FADD4(1, 1, 4)         // g = grad + WD·θ
	FMUL4(2, 16, 2)
	FMUL4(4, 1, 1)
	FMUL4(4, 17, 4)
	FADD4(2, 2, 4)         // s = Alpha·sq + C·(g·g)
	VST1.P [V2.S4], 16(R2)
	CBZ    R6, uncentered
	VLD1   (R3), [V3.S4]
	FMUL4(3, 16, 3)
	FMUL4(4, 17, 1)
	FADD4(3, 3, 4)         // a = Alpha·avg + C·g
	VST1.P [V3.S4], 16(R3)
	FMUL4(4, 3, 3)
	FSUB4(2, 2, 4)         // s −= a·a
uncentered:
	FSQRT4(2, 2)
	FADD4(2, 2, 20)        // d = √s + Eps
	CBZ    R7, plain
	VLD1   (R4), [V3.S4]
	FMUL4(3, 18, 3)
	FDIV4(4, 1, 2)
	FADD4(3, 3, 4)         // b = Mu·buf + g/d
	VST1.P [V3.S4], 16(R4)
	FMUL4(4, 19, 3)        // Rate·b
	B      update
plain:
	FMUL4(4, 19, 1)
	FDIV4(4, 4, 2)         // (Rate·g)/d
update:
	FSUB4(0, 0, 4)
	VST1.P [V0.S4], 16(R0)
	SUBS   $1, R8
	BNE    loop
done:
	RET

// func adagradStepNEON(theta, grad, sum []float32, k *Adagrad[float32])
// k: Rate 0, Eps 4, WD 8.
TEXT ·adagradStepNEON(SB), NOSPLIT, $0-80
	MOVD theta_base+0(FP), R0
	MOVD theta_len+8(FP), R8
	MOVD grad_base+24(FP), R1
	MOVD sum_base+48(FP), R2
	MOVD k+72(FP), R4
	LSR  $2, R8
	CBZ  R8, done
	BCAST(0, R4, V16.S4) // Rate
	BCAST(4, R4, V17.S4) // Eps
	BCAST(8, R4, V18.S4) // WD
loop:
	VLD1   (R0), [V0.S4]   // θ
	VLD1.P 16(R1), [V1.S4] // grad
	VLD1   (R2), [V2.S4]   // sum
	FMUL4(3, 18, 0)
	FADD4(1, 1, 3)         // g = grad + WD·θ
	FMUL4(3, 1, 1)
	FADD4(2, 2, 3)         // s = sum + g·g
	VST1.P [V2.S4], 16(R2)
	FSQRT4(2, 2)
	FADD4(2, 2, 17)        // √s + Eps
	FMUL4(3, 16, 1)
	FDIV4(3, 3, 2)
	FSUB4(0, 0, 3)         // θ −= (Rate·g)/(√s + Eps)
	VST1.P [V0.S4], 16(R0)
	SUBS   $1, R8
	BNE    loop
done:
	RET

// func bytesToFloatsNEON(dst []float32, src []uint8)
TEXT ·bytesToFloatsNEON(SB), NOSPLIT, $0-48
	MOVD dst_base+0(FP), R0
	MOVD src_base+24(FP), R1
	MOVD src_len+32(FP), R8
	LSR  $4, R8
	CBZ  R8, done
	MOVW $0x437f0000, R2 // 255 as float32
	VDUP R2, V16.S4
loop:
	VLD1.P 16(R1), [V0.B16]
	UXTL8H(1, 0)
	UXTL28H(2, 0)
	UXTL4S(3, 1)
	UXTL24S(4, 1)
	UXTL4S(5, 2)
	UXTL24S(6, 2)
	UCVTF4(3, 3)
	UCVTF4(4, 4)
	UCVTF4(5, 5)
	UCVTF4(6, 6)
	FDIV4(3, 3, 16)
	FDIV4(4, 4, 16)
	FDIV4(5, 5, 16)
	FDIV4(6, 6, 16)        // correctly rounded v/255, as in the twin
	VST1.P [V3.S4, V4.S4, V5.S4, V6.S4], 64(R0)
	SUBS   $1, R8
	BNE    loop
done:
	RET
