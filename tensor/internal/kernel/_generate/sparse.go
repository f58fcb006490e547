package main

import (
	"fmt"
	"math/bits"
	"strings"
)

// genSparse returns sparse_amd64.s: the kernels for products whose A is
// mostly zeros (declared, with their contracts, in sparse_amd64.go), for
// AVX-512 and AVX2+FMA. Both kinds sum each element of C with fused
// multiply-adds in increasing p, skipping the zero entries of A, and end
// with the outer kernels' epilogue C = alpha·s (+ beta·C), so they give the
// dense kernels' bits wherever the skipped terms are exact zeros.
//
//   - sparseRow: one row of A·B. Phase 1 writes the positions of the
//     nonzero entries of A's row to idx; phase 2 sums, for groups of
//     columns of C, the rows of B at those positions.
//   - sparseCols: up to w rows of Aᵀ·B (the weight gradient Xᵀ·dY). For
//     each group of columns it accumulates the w×group block T in scratch
//     memory: for each p, each nonzero lane r of A's row p adds
//     A[p, r]·B[p, group] to T[r]. Then C[r, group] = alpha·T[r] (+ beta·C).
//
// The columns go in groups of four vectors, then of one (n is a multiple
// of the vector width).
func genSparse() []byte {
	var b asmBuf
	b.WriteString(header)
	b.WriteString("//go:build !purego\n\n#include \"textflag.h\"\n\n")
	b.WriteString("// iota16<> is 0, 1, …, 15 as int32: the lane indices.\n")
	for i := 0; i < 16; i++ {
		fmt.Fprintf(&b, "DATA iota16<>+%d(SB)/4, $%d\n", 4*i, i)
	}
	b.WriteString("GLOBL iota16<>(SB), RODATA|NOPTR, $64\n")
	for _, is := range []isa{avx512, avx2} {
		sparseRow(&b, is)
		sparseCols(&b, is)
	}
	return b.Bytes()
}

// Registers both kernels use, on either ISA (numbers of Z or Y registers):
// accumulators 0–3, the broadcast entry of A 4, B's row 8–11, T's row 2,
// 3, 5, 12 (sparseCols), alpha 13, beta 14, zero 15; AVX2's sparseCols
// keeps its row mask in 7 (and lane indices in 6 while making it).
const (
	rBcast = 4
	rAlpha = 13
	rBeta  = 14
	rZero  = 15
)

var rB, rT = [4]int{8, 9, 10, 11}, [4]int{2, 3, 5, 12}

// reg returns the name of vector register i.
func (s isa) reg(i int) string { return fmt.Sprintf("%s%d", s.vreg, i) }

// columnGroups emits a kernel's loops over groups of four vectors of
// columns of C, then of one, each labelled prefix and its width in
// columns and going on to the next when fewer columns are left, and the
// kernel's end.
func columnGroups(b *asmBuf, is isa, prefix string, group func(b *asmBuf, is isa, nv int, label, next string)) {
	one := fmt.Sprintf("%s%d", prefix, is.w)
	group(b, is, 4, fmt.Sprintf("%s%d", prefix, 4*is.w), one)
	group(b, is, 1, one, "done")
	b.label("done")
	b.l("VZEROUPPER")
	b.l("RET")
}

func sparseRow(b *asmBuf, is isa) {
	v := is.reg
	fn := "sparseRow" + is.name
	b.WriteString("\n")
	b.text(fn, "(kc int, a *float32, b *float32, ldb int, c *float32, n int, alpha, beta float32, load int, idx *int32) int", 80)
	b.l("// Phase 1: the positions p < kc with a[p] ≠ 0 (or NaN), in")
	b.l("// increasing order, into idx.")
	b.l("MOVQ kc+0(FP), CX")
	b.l("MOVQ a+8(FP), SI")
	b.l("MOVQ idx+64(FP), R11")
	b.l("VXORPS %s, %s, %s", v(rZero), v(rZero), v(rZero))
	b.l("XORQ AX, AX")
	b.l("XORQ BX, BX")
	if is.avx512 {
		// 16 lanes at a time by VPCOMPRESSD (idx has kc+16 room), the
		// last up to 15 under a mask.
		b.l("VMOVDQU32 iota16<>(SB), Z29")
		b.l("MOVL $16, R12")
		b.l("VPBROADCASTD R12, Z30")
		b.l("MOVQ CX, R13")
		b.l("ANDQ $-16, R13")
		b.label("nz16")
		b.l("CMPQ AX, R13")
		b.l("JGE  nzTail")
		b.l("VMOVUPS (SI)(AX*4), Z0")
		b.l("VCMPPS $4, Z%d, Z0, K1 // not equal (unordered: NaN counts)", rZero)
		compress(b)
		b.l("VPADDD Z30, Z29, Z29")
		b.l("ADDQ $16, AX")
		b.l("JMP  nz16")
		b.label("nzTail")
		b.l("CMPQ AX, CX")
		b.l("JGE  cols")
		b.l("MOVQ CX, R15")
		b.l("SUBQ AX, CX")
		b.l("MOVL $1, R14")
		b.l("SHLL CX, R14")
		b.l("DECL R14")
		b.l("MOVQ R15, CX")
		b.l("KMOVW R14, K2")
		b.l("VMOVUPS.Z (SI)(AX*4), K2, Z0")
		b.l("VCMPPS $4, Z%d, Z0, K2, K1", rZero)
		compress(b)
	} else {
		// 8 lanes at a time by a compare and the set bits of its mask,
		// then one by one.
		b.l("MOVQ CX, R10")
		b.l("ANDQ $-8, R10")
		b.label("nz8")
		b.l("CMPQ AX, R10")
		b.l("JGE  nzOne")
		b.l("VCMPPS $4, (SI)(AX*4), Y%d, Y1 // not equal (unordered: NaN counts)", rZero)
		b.l("VMOVMSKPS Y1, R12")
		b.l("TESTL R12, R12")
		b.l("JZ    nz8next")
		b.label("nz8lane")
		b.l("BSFL R12, R13")
		b.l("LEAL -1(R12), R14")
		b.l("ANDL R14, R12")
		b.l("ADDL AX, R13")
		b.l("MOVL R13, (R11)(BX*4)")
		b.l("INCQ BX")
		b.l("TESTL R12, R12")
		b.l("JNZ   nz8lane")
		b.label("nz8next")
		b.l("ADDQ $8, AX")
		b.l("JMP  nz8")
		b.label("nzOne")
		b.l("CMPQ AX, CX")
		b.l("JGE  cols")
		b.l("MOVL (SI)(AX*4), R12")
		b.l("SHLL $1, R12 // drop the sign: −0 is 0")
		b.l("JZ   nzOneNext")
		b.l("MOVL AX, (R11)(BX*4)")
		b.l("INCQ BX")
		b.label("nzOneNext")
		b.l("INCQ AX")
		b.l("JMP  nzOne")
	}
	b.label("cols")
	b.l("// Phase 2: C[j] = alpha·Σ_t a[idx[t]]·B[idx[t], j] (+ beta·C[j]) for")
	b.l("// j < n, %d columns at a time, then %d.", 4*is.w, is.w)
	b.l("MOVQ BX, ret+72(FP)")
	b.l("MOVQ b+16(FP), DX")
	b.l("MOVQ ldb+24(FP), R8")
	b.l("SHLQ $2, R8")
	b.l("MOVQ c+32(FP), DI")
	b.l("MOVQ n+40(FP), R9")
	b.l("SHLQ $2, R9")
	b.l("VBROADCASTSS alpha+48(FP), %s", v(rAlpha))
	b.l("VBROADCASTSS beta+52(FP), %s", v(rBeta))
	b.l("MOVQ load+56(FP), R10")
	b.l("XORQ R15, R15")
	columnGroups(b, is, "g", rowGroup)
}

// label starts a new block of instructions at name.
func (b *asmBuf) label(name string) { fmt.Fprintf(b, "\n%s:\n", name) }

// compress appends the lane indices of K1's set bits (Z29) to idx at BX.
func compress(b *asmBuf) {
	b.l("VPCOMPRESSD Z29, K1, Z1")
	b.l("VMOVDQU32 Z1, (R11)(BX*4)")
	b.l("KMOVW K1, R12")
	b.l("POPCNTL R12, R12")
	b.l("ADDQ R12, BX")
}

// rowGroup emits sparseRow's loop over groups of nv vectors of columns,
// at label g, going on to next when fewer are left.
func rowGroup(b *asmBuf, is isa, nv int, g, next string) {
	v := is.reg
	vb := 4 * is.w
	b.label(g)
	b.l("MOVQ R9, R12")
	b.l("SUBQ R15, R12")
	b.l("CMPQ R12, $%d", nv*vb)
	b.l("JLT  %s", next)
	for i := range nv {
		b.l("VXORPS %s, %s, %s", v(i), v(i), v(i))
	}
	b.l("LEAQ (DX)(R15*1), R14")
	b.l("XORQ AX, AX")
	b.label(g + "loop")
	b.l("CMPQ AX, BX")
	b.l("JGE  %sdone", g)
	b.l("MOVLQSX (R11)(AX*4), R13")
	b.l("VBROADCASTSS (SI)(R13*4), %s", v(rBcast))
	b.l("IMULQ R8, R13")
	b.l("ADDQ R14, R13")
	for i := range nv {
		b.l("VFMADD231PS %d(R13), %s, %s", i*vb, v(rBcast), v(i))
	}
	b.l("INCQ AX")
	b.l("JMP  %sloop", g)
	b.label(g + "done")
	b.l("LEAQ (DI)(R15*1), R14")
	for i := range nv {
		b.l("VMULPS %s, %s, %s", v(rAlpha), v(i), v(i))
	}
	epilogue(b, is, nv, "R10", g+"store")
	b.l("ADDQ $%d, R15", nv*vb)
	b.l("JMP  %s", g)
}

// epilogue emits acc_i = alpha·acc_i (+ beta·C_i when the register load
// is not zero) and stores acc_i to C at R14, for i < nv.
func epilogue(b *asmBuf, is isa, nv int, load, store string) {
	v := is.reg
	vb := 4 * is.w
	b.l("TESTQ %s, %s", load, load)
	b.l("JZ    %s", store)
	for i := range nv {
		b.l("VFMADD231PS %d(R14), %s, %s", i*vb, v(rBeta), v(i))
	}
	b.label(store)
	for i := range nv {
		b.l("VMOVUPS %s, %d(R14)", v(i), i*vb)
	}
}

func sparseCols(b *asmBuf, is isa) {
	v := is.reg
	fn := "sparseCols" + is.name
	b.WriteString("\n")
	b.text(fn, "(kc int, a *float32, lda int, rows int, b *float32, ldb int, c *float32, ldc int, n int, alpha, beta float32, load int, t *float32)", 96)
	if is.avx512 {
		b.l("MOVQ rows+24(FP), CX")
		b.l("MOVL $1, AX")
		b.l("SHLL CX, AX")
		b.l("DECL AX")
		b.l("KMOVW AX, K7 // the panel's rows")
	} else {
		b.l("MOVQ rows+24(FP), AX")
		b.l("MOVQ AX, X7")
		b.l("VPBROADCASTD X7, Y7")
		b.l("VMOVDQU iota16<>(SB), Y6")
		b.l("VPCMPGTD Y6, Y7, Y7 // lane i: all ones if i < rows")
	}
	b.l("VXORPS %s, %s, %s", v(rZero), v(rZero), v(rZero))
	b.l("VBROADCASTSS alpha+72(FP), %s", v(rAlpha))
	b.l("VBROADCASTSS beta+76(FP), %s", v(rBeta))
	b.l("MOVQ lda+16(FP), R8")
	b.l("SHLQ $2, R8 // bytes per row of A's storage")
	b.l("MOVQ ldb+40(FP), R9")
	b.l("SHLQ $2, R9")
	b.l("MOVQ n+64(FP), R10")
	b.l("SHLQ $2, R10 // bytes of C's columns")
	b.l("MOVQ t+88(FP), DI")
	b.l("XORQ R15, R15 // column byte offset")
	columnGroups(b, is, "group", colsGroup)
}

// colsGroup emits sparseCols's loop over groups of nv vectors of columns,
// at label "group" and their width g, going on to next when fewer are left.
func colsGroup(b *asmBuf, is isa, nv int, label, next string) {
	v := is.reg
	vb := 4 * is.w
	cols := nv * is.w
	g := strings.TrimPrefix(label, "group")
	b.label(label)
	b.l("MOVQ R10, AX")
	b.l("SUBQ R15, AX")
	b.l("CMPQ AX, $%d", nv*vb)
	b.l("JLT  %s", next)
	b.l("// T = 0 (%d rows × %d columns)", is.w, cols)
	b.l("MOVQ DI, AX")
	b.l("MOVQ $%d, CX", is.w)
	b.label("zero" + g)
	for i := range nv {
		b.l("VMOVUPS %s, %d(AX)", v(rZero), i*vb)
	}
	b.l("ADDQ $%d, AX", nv*vb)
	b.l("DECQ CX")
	b.l("JNZ  zero%s", g)
	b.l("MOVQ a+8(FP), SI")
	b.l("MOVQ b+32(FP), DX")
	b.l("ADDQ R15, DX")
	b.l("MOVQ kc+0(FP), BX")
	b.label("p" + g)
	if is.avx512 {
		b.l("VMOVUPS.Z (SI), K7, Z0")
		b.l("VCMPPS $4, Z%d, Z0, K7, K1", rZero)
		b.l("KMOVW K1, R12")
	} else {
		b.l("VMASKMOVPS (SI), Y7, Y0")
		b.l("VCMPPS $4, Y0, Y%d, Y1", rZero)
		b.l("VMOVMSKPS Y1, R12")
	}
	b.l("TESTL R12, R12")
	b.l("JZ    next%s", g)
	for i := range nv {
		b.l("VMOVUPS %d(DX), %s", i*vb, v(rB[i]))
	}
	b.label("lane" + g)
	if is.avx512 {
		b.l("TZCNTL R12, R13")
		b.l("BLSRL  R12, R12")
	} else {
		b.l("BSFL R12, R13")
		b.l("LEAL -1(R12), R14")
		b.l("ANDL R14, R12")
	}
	b.l("VBROADCASTSS (SI)(R13*4), %s", v(rBcast))
	b.l("SHLQ $%d, R13", bits.TrailingZeros(uint(nv*vb)))
	b.l("ADDQ DI, R13")
	for i := range nv {
		b.l("VMOVUPS %d(R13), %s", i*vb, v(rT[i]))
	}
	for i := range nv {
		b.l("VFMADD231PS %s, %s, %s", v(rB[i]), v(rBcast), v(rT[i]))
	}
	for i := range nv {
		b.l("VMOVUPS %s, %d(R13)", v(rT[i]), i*vb)
	}
	b.l("TESTL R12, R12")
	b.l("JNZ   lane%s", g)
	b.label("next" + g)
	b.l("ADDQ R8, SI")
	b.l("ADDQ R9, DX")
	b.l("DECQ BX")
	b.l("JNZ  p%s", g)
	b.l("// C[r, group] = alpha·T[r] (+ beta·C[r, group]) for r < rows")
	b.l("MOVQ c+48(FP), R14")
	b.l("ADDQ R15, R14")
	b.l("MOVQ ldc+56(FP), R11")
	b.l("SHLQ $2, R11")
	b.l("MOVQ DI, AX")
	b.l("MOVQ rows+24(FP), CX")
	b.l("MOVQ load+80(FP), R12")
	b.label("out" + g)
	for i := range nv {
		b.l("VMULPS %d(AX), %s, %s", i*vb, v(rAlpha), v(i))
	}
	epilogue(b, is, nv, "R12", "store"+g)
	b.l("ADDQ $%d, AX", nv*vb)
	b.l("ADDQ R11, R14")
	b.l("DECQ CX")
	b.l("JNZ  out%s", g)
	b.l("ADDQ $%d, R15", nv*vb)
	b.l("JMP  %s", label)
}
