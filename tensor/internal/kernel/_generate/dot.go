package main

import "fmt"

// Dot kernels compute C = alpha·A·Bᵀ (+ beta·C) for a tile of mr rows of A
// and nr rows of B, both read along k in place: the Sgemm(NoTrans, Trans)
// case with few rows of A, where packing Bᵀ would cost as much as the
// product. Each element is summed in w lanes over k (lane l takes the terms
// p ≡ l mod w, in increasing p, by fused multiply-add), then the lanes are
// added pairwise, halving each time (l + l+w/2, …), the same in every
// variant.

const (
	avx512DotRows = 4
	avx2DotRows   = 3
)

// dotNRMax is the widest dot kernel for mr rows.
func dotNRMax(s isa, mr int) int {
	if s.avx512 {
		return []int{0, 12, 12, 8, 6}[mr]
	}
	return []int{0, 8, 5, 3}[mr]
}

func dotName(s isa, mr, nr int) string { return fmt.Sprintf("dot%dx%d%s", mr, nr, s.name) }

// dotRowAddr addresses row j of B: bases DX and DI = DX + 9·ldb, indexes
// ldb (R8), 3ldb (R9), 5ldb (R10), 7ldb (R11).
func dotRowAddr(j int) string {
	return rowAddrWith(j, []string{"DX", "DI"})
}

func rowAddrWith(i int, bases []string) string {
	base := bases[i/9]
	idx := []string{"", "(R8*1)", "(R8*2)", "(R9*1)", "(R8*4)", "(R10*1)", "(R9*2)", "(R11*1)", "(R8*8)"}[i%9]
	return "(" + base + ")" + idx
}

// dotARowAddr addresses row i < 4 of A: SI plus lda (R12) or 3lda (R13).
func dotARowAddr(i int) string {
	return []string{"(SI)", "(SI)(R12*1)", "(SI)(R12*2)", "(SI)(R13*1)"}[i]
}

func genDot(b *asmBuf, s isa, mr, nr int) {
	v := func(i int) string { return fmt.Sprintf("%s%d", s.vreg, i) }
	y := func(i int) string { return fmt.Sprintf("Y%d", i) }
	x := func(i int) string { return fmt.Sprintf("X%d", i) }
	vb := s.w * 4
	nacc := mr * nr
	acc := func(i, j int) int { return i*nr + j }
	areg := func(i int) string { return v(nacc + i) }
	tmp := nacc + mr
	mask := "Y15"
	name := dotName(s, mr, nr)
	b.text(name, "(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, load int)", 72)
	b.l("MOVQ k+0(FP), AX")
	b.l("MOVQ AX, BX")
	if s.avx512 {
		b.l("ANDQ $15, BX")
		b.l("MOVQ BX, CX")
		b.l("MOVL $1, R8")
		b.l("SHLL CX, R8")
		b.l("DECL R8")
		b.l("KMOVW R8, K1")
		b.l("SHRQ $4, AX")
	} else {
		b.l("ANDQ $7, BX")
		b.l("MOVQ BX, CX")
		b.l("NEGQ CX")
		b.l("LEAQ avx2mask<>(SB), R8")
		b.l("VMOVDQU 32(R8)(CX*4), %s", mask)
		b.l("SHRQ $3, AX")
	}
	b.l("MOVQ AX, CX")
	b.l("MOVQ a+8(FP), SI")
	b.l("MOVQ lda+16(FP), R12")
	b.l("SHLQ $2, R12")
	b.l("LEAQ (R12)(R12*2), R13")
	b.l("MOVQ b+24(FP), DX")
	b.l("MOVQ ldb+32(FP), R8")
	b.l("SHLQ $2, R8")
	b.l("LEAQ (R8)(R8*2), R9")
	b.l("LEAQ (R8)(R8*4), R10")
	b.l("LEAQ (R9)(R8*4), R11")
	if nr > 9 {
		b.l("LEAQ (DX)(R8*8), DI")
		b.l("ADDQ R8, DI")
	}
	for i := 0; i < nacc; i++ {
		b.l("VXORPS %s, %s, %s", v(i), v(i), v(i))
	}
	body := func(tail bool) {
		for i := 0; i < mr; i++ {
			switch {
			case tail && s.avx512:
				b.l("VMOVUPS.Z %s, K1, %s", dotARowAddr(i), areg(i))
			case tail:
				b.l("VMASKMOVPS %s, %s, %s", dotARowAddr(i), mask, areg(i))
			default:
				b.l("VMOVUPS %s, %s", dotARowAddr(i), areg(i))
			}
		}
		for j := 0; j < nr; j++ {
			src := dotRowAddr(j)
			if mr == 1 && !tail {
				b.l("VFMADD231PS %s, %s, %s", src, areg(0), v(acc(0, j)))
				continue
			}
			if mr == 1 && s.avx512 {
				b.l("VFMADD231PS %s, %s, K1, %s", src, areg(0), v(acc(0, j)))
				continue
			}
			switch {
			case tail && s.avx512:
				b.l("VMOVUPS.Z %s, K1, %s", src, v(tmp))
			case tail:
				b.l("VMASKMOVPS %s, %s, %s", src, mask, v(tmp))
			default:
				b.l("VMOVUPS %s, %s", src, v(tmp))
			}
			for i := 0; i < mr; i++ {
				b.l("VFMADD231PS %s, %s, %s", v(tmp), areg(i), v(acc(i, j)))
			}
		}
	}
	b.l("TESTQ CX, CX")
	b.l("JZ tail")
	fmt.Fprintf(b, "loop:\n")
	body(false)
	b.l("ADDQ $%d, SI", vb)
	b.l("ADDQ $%d, DX", vb)
	if nr > 9 {
		b.l("ADDQ $%d, DI", vb)
	}
	b.l("DECQ CX")
	b.l("JNZ loop")
	fmt.Fprintf(b, "tail:\n")
	b.l("TESTQ BX, BX")
	b.l("JZ reduce")
	body(true)
	fmt.Fprintf(b, "reduce:\n")
	if s.avx512 {
		dotReduceAVX512(b, mr, nr, nacc)
		return
	}
	t := tmp
	for r := 0; r < nacc; r++ {
		b.l("VEXTRACTF128 $1, %s, %s", y(r), x(t))
		b.l("VADDPS %s, %s, %s", x(t), x(r), x(r))
		b.l("VPERMILPS $0x4e, %s, %s", x(r), x(t))
		b.l("VADDPS %s, %s, %s", x(t), x(r), x(r))
		b.l("VMOVSHDUP %s, %s", x(r), x(t))
		b.l("VADDSS %s, %s, %s", x(t), x(r), x(r))
	}
	alpha, beta := x(nacc), x(nacc+1)
	b.l("MOVQ c+40(FP), AX")
	b.l("MOVQ ldc+48(FP), BX")
	b.l("SHLQ $2, BX")
	b.l("VMOVSS alpha+56(FP), %s", alpha)
	b.l("VMOVSS beta+60(FP), %s", beta)
	b.l("MOVQ load+64(FP), CX")
	b.l("TESTQ CX, CX")
	b.l("JZ noload")
	for i := 0; i < mr; i++ {
		for j := 0; j < nr; j++ {
			r := x(acc(i, j))
			b.l("VMULSS %s, %s, %s", alpha, r, r)
			b.l("VFMADD231SS %d(AX), %s, %s", 4*j, beta, r)
			b.l("VMOVSS %s, %d(AX)", r, 4*j)
		}
		if i < mr-1 {
			b.l("ADDQ BX, AX")
		}
	}
	b.l("VZEROUPPER")
	b.l("RET")
	fmt.Fprintf(b, "noload:\n")
	for i := 0; i < mr; i++ {
		for j := 0; j < nr; j++ {
			r := x(acc(i, j))
			b.l("VMULSS %s, %s, %s", alpha, r, r)
			b.l("VMOVSS %s, %d(AX)", r, 4*j)
		}
		if i < mr-1 {
			b.l("ADDQ BX, AX")
		}
	}
	b.l("VZEROUPPER")
	b.l("RET")
	b.WriteString("\n")
}

// dotReduceAVX512 adds the 16 lanes of every accumulator with the same
// pairwise tree as the scalar reduction (l + l+8, then + l+4, + l+2, + l+1),
// but four accumulators at a time per shuffle: for each group of up to four
// columns j, the rows' accumulators are merged so that 128-bit lane r of the
// final register holds row r, columns j…j+3, ready for one 4-wide store.
// Missing rows or columns are paired with themselves and not stored.
// Registers Z29–Z31 are free in every dot kernel (at most 29 are used).
func dotReduceAVX512(b *asmBuf, mr, nr, nacc int) {
	z := func(i int) string { return fmt.Sprintf("Z%d", i) }
	acc := func(i, j int) int { return i*nr + j }
	t1, t2 := "Z29", "Z30"
	l1 := func(p, q int) { // halves: [p, q]
		b.l("VINSERTF64X4 $1, Y%d, %s, %s", q, z(p), t1)
		b.l("VSHUFF64X2 $0xee, %s, %s, %s", z(q), z(p), t2)
		b.l("VADDPS %s, %s, %s", t1, t2, z(p))
	}
	l2 := func(p, q int) { // 128-bit lanes: [p.h0, p.h1, q.h0, q.h1]
		b.l("VSHUFF32X4 $0x88, %s, %s, %s", z(q), z(p), t1)
		b.l("VSHUFF32X4 $0xdd, %s, %s, %s", z(q), z(p), t2)
		b.l("VADDPS %s, %s, %s", t1, t2, z(p))
	}
	l3 := func(p, q int) {
		b.l("VSHUFPS $0x44, %s, %s, %s", z(q), z(p), t1)
		b.l("VSHUFPS $0xee, %s, %s, %s", z(q), z(p), t2)
		b.l("VADDPS %s, %s, %s", t1, t2, z(p))
	}
	l4 := func(p, q int) {
		b.l("VSHUFPS $0x88, %s, %s, %s", z(q), z(p), t1)
		b.l("VSHUFPS $0xdd, %s, %s, %s", z(q), z(p), t2)
		b.l("VADDPS %s, %s, %s", t1, t2, z(p))
	}
	row := func(i int) int { return min(i, mr-1) } // missing rows repeat the last
	// col reduces column j's rows into acc(0, j): 128-bit lane r = row r.
	col := func(j int) int {
		r0, r1, r2, r3 := acc(row(0), j), acc(row(1), j), acc(row(2), j), acc(row(3), j)
		if r1 != r0 {
			l1(r0, r1)
		} else {
			l1(r0, r0)
		}
		if r2 != r0 {
			if r3 != r2 {
				l1(r2, r3)
			} else {
				l1(r2, r2)
			}
			l2(r0, r2)
		} else {
			l2(r0, r0)
		}
		return r0
	}
	var finals []int // register of each group of four columns
	for j0 := 0; j0 < nr; j0 += 4 {
		g := min(4, nr-j0)
		c := make([]int, 4)
		for k := 0; k < 4; k++ {
			if k < g {
				c[k] = col(j0 + k)
			} else {
				c[k] = c[(k-g)%g] // repeat columns; not stored
			}
		}
		if g >= 2 {
			l3(c[0], c[1])
		} else {
			l3(c[0], c[0])
		}
		if g >= 3 {
			if g == 4 {
				l3(c[2], c[3])
			} else {
				l3(c[2], c[2])
			}
			l4(c[0], c[2])
		} else {
			l4(c[0], c[0])
		}
		finals = append(finals, c[0])
	}
	b.l("MOVQ c+40(FP), AX")
	b.l("MOVQ ldc+48(FP), BX")
	b.l("SHLQ $2, BX")
	b.l("VBROADCASTSS alpha+56(FP), X30")
	b.l("VBROADCASTSS beta+60(FP), X31")
	b.l("MOVQ load+64(FP), CX")
	emit := func(load bool) {
		for i := 0; i < mr; i++ {
			for gi, f := range finals {
				j0 := 4 * gi
				g := min(4, nr-j0)
				mask := ""
				if g < 4 {
					b.l("MOVL $%d, DX", 1<<g-1)
					b.l("KMOVW DX, K2")
					mask = "K2, "
				}
				b.l("VEXTRACTF32X4 $%d, %s, X29", i, z(f))
				b.l("VMULPS X30, X29, X29")
				if load {
					b.l("VFMADD231PS %d(AX), X31, %sX29", 4*j0, mask)
				}
				b.l("VMOVUPS X29, %s%d(AX)", mask, 4*j0)
			}
			if i < mr-1 {
				b.l("ADDQ BX, AX")
			}
		}
		b.l("VZEROUPPER")
		b.l("RET")
	}
	b.l("TESTQ CX, CX")
	b.l("JZ noload")
	emit(true)
	fmt.Fprintf(b, "noload:\n")
	emit(false)
	b.WriteString("\n")
}
