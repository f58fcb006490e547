//go:build !purego

#include "textflag.h"

// iota16<> is 0, 1, …, 15 as int32: the lane indices.
DATA iota16<>+0(SB)/4, $0
DATA iota16<>+4(SB)/4, $1
DATA iota16<>+8(SB)/4, $2
DATA iota16<>+12(SB)/4, $3
DATA iota16<>+16(SB)/4, $4
DATA iota16<>+20(SB)/4, $5
DATA iota16<>+24(SB)/4, $6
DATA iota16<>+28(SB)/4, $7
DATA iota16<>+32(SB)/4, $8
DATA iota16<>+36(SB)/4, $9
DATA iota16<>+40(SB)/4, $10
DATA iota16<>+44(SB)/4, $11
DATA iota16<>+48(SB)/4, $12
DATA iota16<>+52(SB)/4, $13
DATA iota16<>+56(SB)/4, $14
DATA iota16<>+60(SB)/4, $15
GLOBL iota16<>(SB), RODATA|NOPTR, $64

// func sparseRowAVX512(kc int, a *float32, b *float32, ldb int, c *float32, n int, alpha, beta float32, load int, idx *int32) int
TEXT ·sparseRowAVX512(SB), NOSPLIT, $0-80
	// Phase 1: the positions p < kc with a[p] ≠ 0 (or NaN), in
	// increasing order, into idx (16 lanes at a time; idx has kc+16 room).
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ idx+64(FP), R11
	VMOVDQU32 iota16<>(SB), Z29
	MOVL $16, R12
	VPBROADCASTD R12, Z30
	VXORPS Z28, Z28, Z28
	XORQ AX, AX
	XORQ BX, BX
	MOVQ CX, R13
	ANDQ $-16, R13

nz16:
	CMPQ AX, R13
	JGE  nzTail
	VMOVUPS (SI)(AX*4), Z0
	VCMPPS $4, Z28, Z0, K1 // not equal (unordered: NaN counts)
	VPCOMPRESSD Z29, K1, Z1
	VMOVDQU32 Z1, (R11)(BX*4)
	KMOVW K1, R12
	POPCNTL R12, R12
	ADDQ R12, BX
	VPADDD Z30, Z29, Z29
	ADDQ $16, AX
	JMP  nz16

nzTail:
	CMPQ AX, CX
	JGE  cols
	MOVQ CX, R15
	SUBQ AX, CX
	MOVL $1, R14
	SHLL CX, R14
	DECL R14
	MOVQ R15, CX
	KMOVW R14, K2
	VMOVUPS.Z (SI)(AX*4), K2, Z0
	VCMPPS $4, Z28, Z0, K2, K1
	VPCOMPRESSD Z29, K1, Z1
	VMOVDQU32 Z1, (R11)(BX*4)
	KMOVW K1, R12
	POPCNTL R12, R12
	ADDQ R12, BX

cols:
	// Phase 2: C[j] = alpha·Σ_t a[idx[t]]·B[idx[t], j] (+ beta·C[j]) for
	// j < n, n a multiple of 16: 64 columns at a time, then 16.
	MOVQ BX, ret+72(FP)
	MOVQ b+16(FP), DX
	MOVQ ldb+24(FP), R8
	SHLQ $2, R8
	MOVQ c+32(FP), DI
	MOVQ n+40(FP), R9
	SHLQ $2, R9
	VBROADCASTSS alpha+48(FP), Z26
	VBROADCASTSS beta+52(FP), Z27
	MOVQ load+56(FP), R10
	XORQ R15, R15

g64:
	MOVQ R9, R12
	SUBQ R15, R12
	CMPQ R12, $256
	JLT  g16
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	LEAQ (DX)(R15*1), R14
	XORQ AX, AX

g64loop:
	CMPQ AX, BX
	JGE  g64done
	MOVLQSX (R11)(AX*4), R13
	VBROADCASTSS (SI)(R13*4), Z4
	IMULQ R8, R13
	ADDQ R14, R13
	VFMADD231PS 0(R13), Z4, Z0
	VFMADD231PS 64(R13), Z4, Z1
	VFMADD231PS 128(R13), Z4, Z2
	VFMADD231PS 192(R13), Z4, Z3
	INCQ AX
	JMP  g64loop

g64done:
	LEAQ (DI)(R15*1), R14
	VMULPS Z26, Z0, Z0
	VMULPS Z26, Z1, Z1
	VMULPS Z26, Z2, Z2
	VMULPS Z26, Z3, Z3
	TESTQ R10, R10
	JZ    g64store
	VFMADD231PS 0(R14), Z27, Z0
	VFMADD231PS 64(R14), Z27, Z1
	VFMADD231PS 128(R14), Z27, Z2
	VFMADD231PS 192(R14), Z27, Z3

g64store:
	VMOVUPS Z0, 0(R14)
	VMOVUPS Z1, 64(R14)
	VMOVUPS Z2, 128(R14)
	VMOVUPS Z3, 192(R14)
	ADDQ $256, R15
	JMP  g64

g16:
	CMPQ R15, R9
	JGE  done
	VXORPS Z0, Z0, Z0
	LEAQ (DX)(R15*1), R14
	XORQ AX, AX

g16loop:
	CMPQ AX, BX
	JGE  g16done
	MOVLQSX (R11)(AX*4), R13
	VBROADCASTSS (SI)(R13*4), Z4
	IMULQ R8, R13
	ADDQ R14, R13
	VFMADD231PS 0(R13), Z4, Z0
	INCQ AX
	JMP  g16loop

g16done:
	LEAQ (DI)(R15*1), R14
	VMULPS Z26, Z0, Z0
	TESTQ R10, R10
	JZ    g16store
	VFMADD231PS 0(R14), Z27, Z0

g16store:
	VMOVUPS Z0, 0(R14)
	ADDQ $64, R15
	JMP  g16

done:
	VZEROUPPER
	RET
