package main

import (
	"bytes"
	"fmt"
	"strings"
)

// The arm64 (NEON, "ASIMD") micro-kernels: the same contract and the same
// arithmetic as the amd64 ones (see outerGo): per element of C, fused
// multiply-adds in increasing p from zero, then alpha·acc and, when load ≠ 0,
// one more fused multiply-add with beta·C. An element of C therefore gets
// the same bits from every NEON kernel, and the same bits as from the
// AVX2 and AVX-512 outer kernels.
//
// Register tile: 6 rows × 16 columns (24 of the 32 128-bit registers hold
// accumulators, 4 hold a row of B, 4 rotate the broadcasts of A). Per step
// of p: one LD1 of 4 B vectors, 6 LD1R (load and replicate one element of
// A per row, on the load pipes rather than the vector pipes a DUP would
// take), 24 FMLA, and a SUBS/BNE pair: 33 instructions for 24 FMLAs. Go's
// assembler has vector FMLA but not the by-element form, nor a vector
// FMUL; the epilogue's FMUL (alpha·acc) is emitted as a WORD.
//
// NEON has no masked loads, so the last vector of a tile whose width is
// not a multiple of 4 is loaded and stored lane by lane: one kernel per
// remainder (1, 2 or 3 lanes), chosen by the driver.
const (
	neonW        = 4  // float32 lanes per register
	neonRowsWide = 6  // panel height when C has more than 4 columns
	neonMaxRows  = 12 // panel height when C has at most 4 columns
	neonMaxNV    = 8  // widest kernel, in vectors
)

// neonNVMax is the widest NEON kernel, in vectors, for mr rows: mr·nv
// accumulators, nv B registers and at least one broadcast register; rows
// beyond the wide panel height only serve C of at most 4 columns.
func neonNVMax(mr int) int {
	if mr > neonRowsWide {
		return 1
	}
	return min(31/(mr+1), neonMaxNV)
}

func neonName(mr, nv, rem int) string {
	if rem == 0 {
		return fmt.Sprintf("outer%dx%dNEON", mr, nv)
	}
	return fmt.Sprintf("outer%dx%dNEONR%d", mr, nv, rem)
}

// neonRowReg holds the pointer to row i of the A micro-panel.
func neonRowReg(i int) string {
	regs := []string{"R7", "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15", "R16", "R17", "R19"}
	return regs[i]
}

// regList formats the consecutive registers V[first] … V[first+n-1].
func regList(first, n int) string {
	var s []string
	for i := first; i < first+n; i++ {
		s = append(s, fmt.Sprintf("V%d.S4", i))
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// fmulWord is FMUL Vd.4S, Vn.4S, Vm.4S, which Go's assembler lacks.
func fmulWord(d, n, m int) string {
	return fmt.Sprintf("WORD $0x%08x // FMUL V%d.4S, V%d.4S, V%d.4S", 0x6E20DC00|m<<16|n<<5|d, d, n, m)
}

// neonLoadVectors loads n full vectors from the address in base (which it
// leaves unchanged) into V[first]…, using scratch as a walking pointer;
// after it, scratch points just past them.
func neonLoadVectors(b *asmBuf, base, scratch string, first, n int) {
	b.l("MOVD %s, %s", base, scratch)
	for g := 0; g < n; g += 4 {
		c := min(4, n-g)
		b.l("VLD1.P %d(%s), %s", 16*c, scratch, regList(first+g, c))
	}
}

// Registers: R0 K-counter, R1 B row, R2 ldb bytes, R3 and R25 scratch,
// R4 csa bytes, R5 rsa bytes, R6 a, R7–R19 (not R18) the A rows,
// R20 tiles left, R21 b of the tile, R22 c of the tile, R23 ldc bytes,
// R24 the C row.
func genNEON(b *asmBuf, mr, nv, rem int) {
	nacc := mr * nv
	acc := func(i, j int) int { return i*nv + j }
	bReg := func(j int) int { return nacc + j }
	nb := min(4, 32-nacc-nv) // broadcast registers, rotated
	if nb < 1 || nacc+3 > 32 {
		panic(fmt.Sprintf("neon %dx%d: too many registers", mr, nv))
	}
	bc := func(i int) int { return nacc + nv + i%nb }
	full := nv // vectors loaded whole
	if rem != 0 {
		full = nv - 1
	}
	name := neonName(mr, nv, rem)
	b.text(name, "(kc int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, nr int, alpha, beta float32, load, tiles int)", 96)
	b.l("MOVD a+8(FP), R6")
	b.l("MOVD rsa+16(FP), R5")
	b.l("LSL $2, R5")
	b.l("MOVD csa+24(FP), R4")
	b.l("LSL $2, R4")
	b.l("MOVD b+32(FP), R21")
	b.l("MOVD ldb+40(FP), R2")
	b.l("LSL $2, R2")
	b.l("MOVD c+48(FP), R22")
	b.l("MOVD ldc+56(FP), R23")
	b.l("LSL $2, R23")
	b.l("MOVD tiles+88(FP), R20")
	fmt.Fprintf(b, "tile:\n")
	b.l("MOVD kc+0(FP), R0")
	b.l("MOVD R21, R1")
	b.l("MOVD R6, %s", neonRowReg(0))
	for i := 1; i < mr; i++ {
		b.l("ADD R5, %s, %s", neonRowReg(i-1), neonRowReg(i))
	}
	for i := 0; i < nacc; i++ {
		b.l("VEOR V%d.B16, V%d.B16, V%d.B16", i, i, i)
	}
	if rem != 0 { // lanes ≥ rem of the last B vector stay zero
		b.l("VEOR V%d.B16, V%d.B16, V%d.B16", bReg(nv-1), bReg(nv-1), bReg(nv-1))
	}
	fmt.Fprintf(b, "loop:\n")
	switch {
	case rem == 0 && nv <= 4:
		b.l("VLD1.P (R1)(R2), %s", regList(bReg(0), nv))
	default:
		if full > 0 {
			neonLoadVectors(b, "R1", "R3", bReg(0), full)
		} else {
			b.l("MOVD R1, R3")
		}
		if rem != 0 {
			for l := 0; l < rem; l++ {
				if l < rem-1 {
					b.l("VLD1.P 4(R3), V%d.S[%d]", bReg(nv-1), l)
				} else {
					b.l("VLD1 (R3), V%d.S[%d]", bReg(nv-1), l)
				}
			}
		}
		b.l("ADD R2, R1")
	}
	for i := 0; i < mr; i++ {
		b.l("VLD1R.P (%s)(R4), [V%d.S4]", neonRowReg(i), bc(i))
		for j := 0; j < nv; j++ {
			b.l("VFMLA V%d.S4, V%d.S4, V%d.S4", bReg(j), bc(i), acc(i, j))
		}
	}
	b.l("SUBS $1, R0")
	b.l("BNE loop")

	// Epilogue: C = alpha·acc (+ beta·C), row by row.
	alpha, beta, tmp := nacc, nacc+1, nacc+2
	b.l("FMOVS alpha+72(FP), F%d", alpha)
	b.l("VDUP V%d.S[0], V%d.S4", alpha, alpha)
	b.l("FMOVS beta+76(FP), F%d", beta)
	b.l("VDUP V%d.S[0], V%d.S4", beta, beta)
	b.l("MOVD R22, R24")
	b.l("MOVD load+80(FP), R0")
	b.l("CBZ R0, noload")
	for i := 0; i < mr; i++ {
		b.l("MOVD R24, R3")
		for j := 0; j < nv; j++ {
			a := acc(i, j)
			b.l(fmulWord(a, a, alpha))
			if j < full {
				b.l("VLD1 (R3), [V%d.S4]", tmp)
				b.l("VFMLA V%d.S4, V%d.S4, V%d.S4", beta, tmp, a)
				b.l("VST1.P [V%d.S4], 16(R3)", a)
				continue
			}
			b.l("VEOR V%d.B16, V%d.B16, V%d.B16", tmp, tmp, tmp)
			b.l("MOVD R3, R25")
			for l := 0; l < rem; l++ {
				b.l("VLD1.P 4(R3), V%d.S[%d]", tmp, l)
			}
			b.l("VFMLA V%d.S4, V%d.S4, V%d.S4", beta, tmp, a)
			for l := 0; l < rem; l++ {
				b.l("VST1.P V%d.S[%d], 4(R25)", a, l)
			}
		}
		if i < mr-1 {
			b.l("ADD R23, R24")
		}
	}
	b.l("B next")
	fmt.Fprintf(b, "noload:\n")
	for i := 0; i < mr; i++ {
		b.l("MOVD R24, R3")
		for j := 0; j < nv; j++ {
			a := acc(i, j)
			b.l(fmulWord(a, a, alpha))
			if j < full {
				b.l("VST1.P [V%d.S4], 16(R3)", a)
				continue
			}
			for l := 0; l < rem; l++ {
				b.l("VST1.P V%d.S[%d], 4(R3)", a, l)
			}
		}
		if i < mr-1 {
			b.l("ADD R23, R24")
		}
	}
	fmt.Fprintf(b, "next:\n")
	b.l("ADD $%d, R21", nv*16)
	b.l("ADD $%d, R22", nv*16)
	b.l("SUBS $1, R20")
	b.l("BNE tile")
	b.l("RET")
	b.WriteString("\n")
}

// genARM64 returns outer_arm64.s and outer_arm64.go.
func genARM64() (asm, goSrc []byte) {
	var s asmBuf
	s.WriteString(header)
	s.WriteString("//go:build !purego\n\n#include \"textflag.h\"\n\n")
	var g bytes.Buffer
	g.WriteString(header)
	g.WriteString("//go:build !purego\n\npackage kernel\n\n")
	var table []string
	for mr := 1; mr <= neonMaxRows; mr++ {
		for nv := 1; nv <= neonNVMax(mr); nv++ {
			var names [4]string
			for rem := 0; rem < neonW; rem++ {
				genNEON(&s, mr, nv, rem)
				n := neonName(mr, nv, rem)
				names[rem] = n
				if rem == 0 {
					fmt.Fprintf(&g, "// %s is outerGo with mr = %d, for nr = %d, in tiles tiles of nr columns:\n//\n", n, mr, nv*neonW)
				} else {
					fmt.Fprintf(&g, "// %s is outerGo with mr = %d, for nr = %d (tiles = 1):\n//\n", n, mr, (nv-1)*neonW+rem)
				}
				fmt.Fprintf(&g, "//\tfor i < %d, j < tiles·nr: s := Σ_{p<kc} a[i·rsa+p·csa]·b[p·ldb+j] (in increasing p)\n", mr)
				g.WriteString("//\t\tc[i·ldc+j] = alpha·s + beta·c[i·ldc+j] if load ≠ 0, else alpha·s\n")
				g.WriteString("//\n//go:noescape\n")
				fmt.Fprintf(&g, "func %s(kc int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, nr int, alpha, beta float32, load, tiles int)\n\n", n)
			}
			table = append(table, fmt.Sprintf("\t%d: {%d: {%s}},", mr, nv, strings.Join(names[:], ", ")))
		}
	}
	g.WriteString("// neonOuter[mr][nv][rem] is the NEON kernel for mr rows and nv vectors of 4\n")
	g.WriteString("// columns, the last with rem lanes (0: all 4); nil where no such kernel exists.\n")
	fmt.Fprintf(&g, "var neonOuter = [%d][%d][%d]outerFn{\n%s\n}\n\n", neonMaxRows+1, neonMaxNV+1, neonW, strings.Join(table, "\n"))
	var dots []string
	for mr := 1; mr <= neonDotRows; mr++ {
		var row []string
		for nr := 1; nr <= neonDotCols; nr++ {
			genNEONDot(&s, mr, nr)
			n := neonDotName(mr, nr)
			fmt.Fprintf(&g, "// %s is dotGo with mr = %d, nr = %d:\n//\n", n, mr, nr)
			fmt.Fprintf(&g, "//\tfor i < %d, j < %d: s := Σ_{p<k} a[i·lda+p]·b[j·ldb+p] (in 4 lanes, then (l0+l1)+(l2+l3))\n", mr, nr)
			g.WriteString("//\t\tc[i·ldc+j] = alpha·s + beta·c[i·ldc+j] if load ≠ 0, else alpha·s\n")
			g.WriteString("//\n//go:noescape\n")
			fmt.Fprintf(&g, "func %s(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, load int)\n\n", n)
			row = append(row, fmt.Sprintf("%d: %s", nr, n))
		}
		dots = append(dots, fmt.Sprintf("\t%d: {%s},", mr, strings.Join(row, ", ")))
	}
	g.WriteString("// neonDot[mr][nr] is the NEON dot kernel for mr rows of A and nr rows of B.\n")
	fmt.Fprintf(&g, "var neonDot = [%d][%d]dotFn{\n%s\n}\n\n", neonDotRows+1, neonDotCols+1, strings.Join(dots, "\n"))
	g.WriteString("// neonNVMax[mr] is the widest NEON kernel, in vectors, for mr rows.\n")
	fmt.Fprintf(&g, "var neonNVMax = [%d]int{0", neonMaxRows+1)
	for mr := 1; mr <= neonMaxRows; mr++ {
		fmt.Fprintf(&g, ", %d", neonNVMax(mr))
	}
	g.WriteString("}\n")
	return s.Bytes(), []byte(mergeTables(g.String()))
}

// NEON dot kernels: C = alpha·A·Bᵀ (+ beta·C) for mr ≤ 4 rows of A and
// nr ≤ 4 rows of B, both read along k in place (Sgemm(NoTrans, Trans) with
// few rows of A, where packing Bᵀ costs as much as the product). Each
// element is summed in 4 lanes (lane l takes the terms p ≡ l mod 4, in
// increasing p, by FMLA), then the lanes are added as (l0 + l1) + (l2 + l3)
// by two FADDP, which also gather a row's four columns into one register.
const (
	neonDotRows = 4
	neonDotCols = 4
)

func neonDotName(mr, nr int) string { return fmt.Sprintf("dot%dx%dNEON", mr, nr) }

// faddpWord is FADDP Vd.4S, Vn.4S, Vm.4S: [n0+n1, n2+n3, m0+m1, m2+m3].
func faddpWord(d, n, m int) string {
	return fmt.Sprintf("WORD $0x%08x // FADDP V%d.4S, V%d.4S, V%d.4S", 0x6E20D400|m<<16|n<<5|d, d, n, m)
}

// Registers: R0 k, R1 full steps, R2 tail, R3–R6 A rows, R7–R10 B rows,
// R11 C row, R12 ldc bytes, R13 scratch. V0–V15 accumulators (i·nr + j),
// V16–V19 A, V20–V23 B, V24–V27 reduction, V28 alpha, V29 beta, V30 temp.
func genNEONDot(b *asmBuf, mr, nr int) {
	acc := func(i, j int) int { return i*nr + j }
	va := func(i int) int { return 16 + i }
	vb := func(j int) int { return 20 + j }
	ra := func(i int) string { return fmt.Sprintf("R%d", 3+i) }
	rb := func(j int) string { return fmt.Sprintf("R%d", 7+j) }
	name := neonDotName(mr, nr)
	b.text(name, "(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, load int)", 72)
	b.l("MOVD k+0(FP), R0")
	b.l("LSR $2, R0, R1")
	b.l("AND $3, R0, R2")
	b.l("MOVD a+8(FP), %s", ra(0))
	b.l("MOVD lda+16(FP), R13")
	b.l("LSL $2, R13")
	for i := 1; i < mr; i++ {
		b.l("ADD R13, %s, %s", ra(i-1), ra(i))
	}
	b.l("MOVD b+24(FP), %s", rb(0))
	b.l("MOVD ldb+32(FP), R13")
	b.l("LSL $2, R13")
	for j := 1; j < nr; j++ {
		b.l("ADD R13, %s, %s", rb(j-1), rb(j))
	}
	for r := 0; r < mr*nr; r++ {
		b.l("VEOR V%d.B16, V%d.B16, V%d.B16", r, r, r)
	}
	fma := func() {
		for j := 0; j < nr; j++ {
			for i := 0; i < mr; i++ {
				b.l("VFMLA V%d.S4, V%d.S4, V%d.S4", vb(j), va(i), acc(i, j))
			}
		}
	}
	b.l("CBZ R1, tail")
	fmt.Fprintf(b, "loop:\n")
	for i := 0; i < mr; i++ {
		b.l("VLD1.P 16(%s), [V%d.S4]", ra(i), va(i))
	}
	for j := 0; j < nr; j++ {
		b.l("VLD1.P 16(%s), [V%d.S4]", rb(j), vb(j))
	}
	fma()
	b.l("SUBS $1, R1")
	b.l("BNE loop")
	fmt.Fprintf(b, "tail:\n")
	b.l("CBZ R2, reduce")
	regs := []struct {
		v int
		r string
	}{}
	for i := 0; i < mr; i++ {
		regs = append(regs, struct {
			v int
			r string
		}{va(i), ra(i)})
	}
	for j := 0; j < nr; j++ {
		regs = append(regs, struct {
			v int
			r string
		}{vb(j), rb(j)})
	}
	for _, x := range regs {
		b.l("VEOR V%d.B16, V%d.B16, V%d.B16", x.v, x.v, x.v)
	}
	for l := 0; l < 3; l++ {
		for _, x := range regs {
			b.l("VLD1.P 4(%s), V%d.S[%d]", x.r, x.v, l)
		}
		if l < 2 {
			b.l("CMP $%d, R2", l+1)
			b.l("BEQ tailfma")
		}
	}
	fmt.Fprintf(b, "tailfma:\n")
	fma()
	fmt.Fprintf(b, "reduce:\n")
	// Row i's sums, columns 0…3 in lanes 0…3, end in V24+i; missing
	// columns repeat column 0 and are not stored.
	col := func(i, j int) int {
		if j < nr {
			return acc(i, j)
		}
		return acc(i, 0)
	}
	for i := 0; i < mr; i++ {
		b.l(faddpWord(30, col(i, 0), col(i, 1)))
		b.l(faddpWord(24+i, col(i, 2), col(i, 3)))
		b.l(faddpWord(24+i, 30, 24+i))
	}
	b.l("FMOVS alpha+56(FP), F28")
	b.l("VDUP V28.S[0], V28.S4")
	b.l("FMOVS beta+60(FP), F29")
	b.l("VDUP V29.S[0], V29.S4")
	b.l("MOVD c+40(FP), R11")
	b.l("MOVD ldc+48(FP), R12")
	b.l("LSL $2, R12")
	for i := 0; i < mr; i++ {
		b.l(fmulWord(24+i, 24+i, 28))
	}
	b.l("MOVD load+64(FP), R0")
	b.l("CBZ R0, noload")
	for i := 0; i < mr; i++ {
		if nr == 4 {
			b.l("VLD1 (R11), [V30.S4]")
			b.l("VFMLA V29.S4, V30.S4, V%d.S4", 24+i)
			b.l("VST1 [V%d.S4], (R11)", 24+i)
		} else {
			b.l("VEOR V30.B16, V30.B16, V30.B16")
			b.l("MOVD R11, R13")
			for j := 0; j < nr; j++ {
				b.l("VLD1.P 4(R13), V30.S[%d]", j)
			}
			b.l("VFMLA V29.S4, V30.S4, V%d.S4", 24+i)
			b.l("MOVD R11, R13")
			for j := 0; j < nr; j++ {
				b.l("VST1.P V%d.S[%d], 4(R13)", 24+i, j)
			}
		}
		if i < mr-1 {
			b.l("ADD R12, R11")
		}
	}
	b.l("RET")
	fmt.Fprintf(b, "noload:\n")
	for i := 0; i < mr; i++ {
		if nr == 4 {
			b.l("VST1 [V%d.S4], (R11)", 24+i)
		} else {
			b.l("MOVD R11, R13")
			for j := 0; j < nr; j++ {
				b.l("VST1.P V%d.S[%d], 4(R13)", 24+i, j)
			}
		}
		if i < mr-1 {
			b.l("ADD R12, R11")
		}
	}
	b.l("RET")
	b.WriteString("\n")
}
