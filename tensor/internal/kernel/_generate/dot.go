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
	fmt.Fprintf(b, "// func %s(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, load int)\n", name)
	fmt.Fprintf(b, "TEXT ·%s(SB), NOSPLIT, $0-72\n", name)
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
	t := tmp
	for r := 0; r < nacc; r++ {
		if s.avx512 {
			b.l("VEXTRACTF64X4 $1, %s, %s", v(r), y(t))
			b.l("VADDPS %s, %s, %s", y(t), y(r), y(r))
			b.l("VEXTRACTF32X4 $1, %s, %s", y(r), x(t))
		} else {
			b.l("VEXTRACTF128 $1, %s, %s", y(r), x(t))
		}
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
