// Command gen writes the micro-kernels of package kernel: for amd64
// (AVX-512, AVX2+FMA) outer_amd64.s (the assembly) and outer_amd64.go
// (declarations and the dispatch tables) and sparse_amd64.s (the kernels
// for A mostly zeros, declared in sparse_amd64.go), and for arm64 (NEON, neon.go)
// outer_arm64.s and outer_arm64.go. Run it from the kernel directory with
//
//	go run ./_generate [-o dir]
//
// Every kernel computes one mr×nr tile of C with the same arithmetic as the
// Go twin outerGo (outer.go): one accumulator per element of C, summed with
// fused multiply-adds in increasing p, then C = alpha·acc (+ beta·C with one
// more fused multiply-add when load ≠ 0). Because every variant does exactly
// this, an element of C gets the same bits whichever tile computed it.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"path/filepath"
	"strings"
)

// isa describes one instruction-set flavour.
type isa struct {
	name   string // suffix of kernel names: AVX512, AVX2
	w      int    // float32 lanes per vector register
	vreg   string // register prefix: Z or Y
	avx512 bool
}

var (
	avx512 = isa{name: "AVX512", w: 16, vreg: "Z", avx512: true}
	avx2   = isa{name: "AVX2", w: 8, vreg: "Y"}
)

// Row limits. They are mirrored by the generated tables, which the Go driver
// reads; nothing else depends on them.
const (
	avx512MaxRows = 27
	avx2MaxRows   = 12
	avx512MaxNV1  = 16 // widest single-row (GEMV) kernel, in vectors
	avx2MaxNV1    = 12
)

// nvMax is the widest kernel, in vectors, that exists for mr rows.
func nvMax(s isa, mr int) int {
	if s.avx512 {
		if mr == 1 {
			return avx512MaxNV1
		}
		if mr > avx512MaxRows {
			return 0
		}
		// mr·nv accumulators + nv B registers + 1 broadcast ≤ 32.
		return 31 / (mr + 1)
	}
	if mr == 1 {
		return avx2MaxNV1
	}
	if mr > avx2MaxRows {
		return 0
	}
	// mr·nv accumulators + nv B registers + broadcast + mask ≤ 16.
	n := 14 / (mr + 1)
	if mr*n > 12 { // epilogue needs alpha, beta, temp and mask besides acc
		n = 12 / mr
	}
	return n
}

func kname(s isa, mr, nv int, masked bool) string {
	m := ""
	if masked && !s.avx512 {
		m = "M"
	}
	return fmt.Sprintf("outer%dx%d%s%s", mr, nv, s.name, m)
}

// rowAddr is the address of row i of the A micro-panel: three bases (SI,
// DI, R13 = SI + 9·rs, SI + 18·rs) and scaled indexes of rs (R8), 3rs (R9),
// 5rs (R10), 7rs (R11).
func rowAddr(i int) string {
	base := []string{"SI", "DI", "R13"}[i/9]
	switch i % 9 {
	case 0:
		return "(" + base + ")"
	case 1:
		return "(" + base + ")(R8*1)"
	case 2:
		return "(" + base + ")(R8*2)"
	case 3:
		return "(" + base + ")(R9*1)"
	case 4:
		return "(" + base + ")(R8*4)"
	case 5:
		return "(" + base + ")(R10*1)"
	case 6:
		return "(" + base + ")(R9*2)"
	case 7:
		return "(" + base + ")(R11*1)"
	}
	return "(" + base + ")(R8*8)"
}

type asmBuf struct{ bytes.Buffer }

func (b *asmBuf) l(format string, args ...any) {
	fmt.Fprintf(b, "\t"+format+"\n", args...)
}

// text starts the assembly function name with its Go signature (params,
// and the results if any) as a comment and its argument frame size.
func (b *asmBuf) text(name, params string, frame int) {
	fmt.Fprintf(b, "// func %s%s\nTEXT ·%s(SB), NOSPLIT, $0-%d\n", name, params, name, frame)
}

func genKernel(b *asmBuf, s isa, mr, nv int, masked bool) {
	v := func(i int) string { return fmt.Sprintf("%s%d", s.vreg, i) }
	vb := s.w * 4 // bytes per vector
	acc := func(i, j int) string { return v(i*nv + j) }
	nacc := mr * nv
	// Register plan.
	bReg := func(j int) string { return v(nacc + j) } // mr ≥ 2 only
	bcast := v(nacc + nv)
	if mr == 1 {
		bcast = v(nacc)
	}
	alpha, beta := v(30), v(31)
	mask, tmp := "", ""
	if !s.avx512 {
		alpha, beta, tmp, mask = v(12), v(13), v(14), v(15)
	}
	lastMasked := s.avx512 || masked

	name := kname(s, mr, nv, masked)
	b.text(name, "(kc int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, nr int, alpha, beta float32, load, tiles int)", 96)
	// Column mask for the last vector.
	if s.avx512 {
		b.l("MOVQ nr+64(FP), CX")
		b.l("SUBQ $%d, CX", (nv-1)*s.w)
		b.l("MOVL $1, AX")
		b.l("SHLL CX, AX")
		b.l("DECL AX")
		b.l("KMOVW AX, K1")
	} else if masked {
		b.l("MOVQ nr+64(FP), AX")
		b.l("SUBQ $%d, AX", (nv-1)*s.w)
		b.l("NEGQ AX")
		b.l("LEAQ avx2mask<>(SB), BX")
		b.l("VMOVDQU 32(BX)(AX*4), %s", mask)
	}
	b.l("MOVQ rsa+16(FP), R8")
	b.l("SHLQ $2, R8")
	b.l("MOVQ csa+24(FP), R12")
	b.l("SHLQ $2, R12")
	if mr > 1 {
		b.l("LEAQ (R8)(R8*2), R9")
		b.l("LEAQ (R8)(R8*4), R10")
		b.l("LEAQ (R9)(R8*4), R11")
	}
	// One pass per tile; b and c (argument slots) advance by a tile.
	fmt.Fprintf(b, "tile:\n")
	b.l("MOVQ kc+0(FP), CX")
	b.l("MOVQ a+8(FP), SI")
	b.l("MOVQ b+32(FP), DX")
	b.l("MOVQ ldb+40(FP), BX")
	b.l("SHLQ $2, BX")
	if mr > 9 {
		b.l("LEAQ (SI)(R8*8), DI")
		b.l("ADDQ R8, DI")
	}
	if mr > 18 {
		b.l("LEAQ (DI)(R8*8), R13")
		b.l("ADDQ R8, R13")
	}
	for i := 0; i < nacc; i++ {
		b.l("VXORPS %s, %s, %s", v(i), v(i), v(i))
	}
	fmt.Fprintf(b, "loop:\n")
	if mr == 1 {
		b.l("VBROADCASTSS (SI), %s", bcast)
		for j := 0; j < nv; j++ {
			off := j * vb
			switch {
			case j == nv-1 && s.avx512:
				b.l("VFMADD231PS %d(DX), %s, K1, %s", off, bcast, acc(0, j))
			case j == nv-1 && masked:
				b.l("VMASKMOVPS %d(DX), %s, %s", off, mask, tmp)
				b.l("VFMADD231PS %s, %s, %s", tmp, bcast, acc(0, j))
			default:
				b.l("VFMADD231PS %d(DX), %s, %s", off, bcast, acc(0, j))
			}
		}
	} else {
		for j := 0; j < nv; j++ {
			off := j * vb
			switch {
			case j == nv-1 && s.avx512:
				b.l("VMOVUPS.Z %d(DX), K1, %s", off, bReg(j))
			case j == nv-1 && masked:
				b.l("VMASKMOVPS %d(DX), %s, %s", off, mask, bReg(j))
			default:
				b.l("VMOVUPS %d(DX), %s", off, bReg(j))
			}
		}
		for i := 0; i < mr; i++ {
			b.l("VBROADCASTSS %s, %s", rowAddr(i), bcast)
			for j := 0; j < nv; j++ {
				b.l("VFMADD231PS %s, %s, %s", bReg(j), bcast, acc(i, j))
			}
		}
	}
	b.l("ADDQ R12, SI")
	if mr > 9 {
		b.l("ADDQ R12, DI")
	}
	if mr > 18 {
		b.l("ADDQ R12, R13")
	}
	b.l("ADDQ BX, DX")
	b.l("DECQ CX")
	b.l("JNZ loop")

	// Epilogue: C = alpha·acc (+ beta·C).
	b.l("MOVQ c+48(FP), AX")
	b.l("MOVQ ldc+56(FP), BX")
	b.l("SHLQ $2, BX")
	b.l("VBROADCASTSS alpha+72(FP), %s", alpha)
	b.l("VBROADCASTSS beta+76(FP), %s", beta)
	b.l("MOVQ load+80(FP), CX")
	b.l("TESTQ CX, CX")
	b.l("JZ noload")
	for i := 0; i < mr; i++ {
		for j := 0; j < nv; j++ {
			off := j * vb
			a := acc(i, j)
			b.l("VMULPS %s, %s, %s", alpha, a, a)
			switch {
			case j == nv-1 && s.avx512:
				b.l("VFMADD231PS %d(AX), %s, K1, %s", off, beta, a)
				b.l("VMOVUPS %s, K1, %d(AX)", a, off)
			case j == nv-1 && lastMasked:
				b.l("VMASKMOVPS %d(AX), %s, %s", off, mask, tmp)
				b.l("VFMADD231PS %s, %s, %s", tmp, beta, a)
				b.l("VMASKMOVPS %s, %s, %d(AX)", a, mask, off)
			default:
				b.l("VFMADD231PS %d(AX), %s, %s", off, beta, a)
				b.l("VMOVUPS %s, %d(AX)", a, off)
			}
		}
		if i < mr-1 {
			b.l("ADDQ BX, AX")
		}
	}
	b.l("JMP next")
	fmt.Fprintf(b, "noload:\n")
	for i := 0; i < mr; i++ {
		for j := 0; j < nv; j++ {
			off := j * vb
			a := acc(i, j)
			b.l("VMULPS %s, %s, %s", alpha, a, a)
			switch {
			case j == nv-1 && s.avx512:
				b.l("VMOVUPS %s, K1, %d(AX)", a, off)
			case j == nv-1 && lastMasked:
				b.l("VMASKMOVPS %s, %s, %d(AX)", a, mask, off)
			default:
				b.l("VMOVUPS %s, %d(AX)", a, off)
			}
		}
		if i < mr-1 {
			b.l("ADDQ BX, AX")
		}
	}
	fmt.Fprintf(b, "next:\n")
	b.l("ADDQ $%d, b+32(FP)", nv*vb)
	b.l("ADDQ $%d, c+48(FP)", nv*vb)
	b.l("DECQ tiles+88(FP)")
	b.l("JNZ tile")
	b.l("VZEROUPPER")
	b.l("RET")
	b.WriteString("\n")
}

const header = "// Code generated by go run ./_generate; DO NOT EDIT.\n\n"

func main() {
	dir := flag.String("o", ".", "output directory")
	flag.Parse()
	var s asmBuf
	s.WriteString(header)
	s.WriteString("//go:build !purego\n\n#include \"textflag.h\"\n\n")
	// avx2mask: 8 all-ones lanes then 8 zero lanes; loading 8 lanes at
	// byte offset 32-4·n gives a mask of the first n lanes.
	for i := 0; i < 8; i++ {
		fmt.Fprintf(&s, "DATA avx2mask<>+%d(SB)/4, $0xffffffff\n", 4*i)
	}
	for i := 8; i < 16; i++ {
		fmt.Fprintf(&s, "DATA avx2mask<>+%d(SB)/4, $0\n", 4*i)
	}
	s.WriteString("GLOBL avx2mask<>(SB), RODATA|NOPTR, $64\n\n")

	var g bytes.Buffer
	g.WriteString(header)
	g.WriteString("//go:build !purego\n\npackage kernel\n\n")

	type entry struct {
		mr, nv int
		names  [2]string // unmasked, masked
	}
	for _, is := range []isa{avx512, avx2} {
		maxRows := avx512MaxRows
		if !is.avx512 {
			maxRows = avx2MaxRows
		}
		var entries []entry
		for mr := 1; mr <= maxRows; mr++ {
			for nv := 1; nv <= nvMax(is, mr); nv++ {
				e := entry{mr: mr, nv: nv}
				genKernel(&s, is, mr, nv, false)
				e.names[0] = kname(is, mr, nv, false)
				e.names[1] = e.names[0]
				if !is.avx512 {
					genKernel(&s, is, mr, nv, true)
					e.names[1] = kname(is, mr, nv, true)
				}
				entries = append(entries, e)
			}
		}
		// Declarations.
		for _, e := range entries {
			names := []string{e.names[0]}
			if !is.avx512 {
				names = append(names, e.names[1])
			}
			for _, n := range names {
				fmt.Fprintf(&g, "// %s is outerGo with mr = %d, for %d < nr ≤ %d", n, e.mr, (e.nv-1)*is.w, e.nv*is.w)
				if !is.avx512 {
					if strings.HasSuffix(n, "M") {
						g.WriteString(", nr not a multiple of 8")
					} else {
						g.WriteString(", nr a multiple of 8")
					}
				}
				fmt.Fprintf(&g, ", in tiles tiles of nr columns (tiles > 1 needs nr = %d):\n//\n", e.nv*is.w)
				fmt.Fprintf(&g, "//\tfor i < %d, j < tiles·nr: s := Σ_{p<kc} a[i·rsa+p·csa]·b[p·ldb+j] (in increasing p)\n", e.mr)
				g.WriteString("//\t\tc[i·ldc+j] = alpha·s + beta·c[i·ldc+j] if load ≠ 0, else alpha·s\n")
				g.WriteString("//\n//go:noescape\n")
				fmt.Fprintf(&g, "func %s(kc int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, nr int, alpha, beta float32, load, tiles int)\n\n", n)
			}
		}
		// Tables.
		lower := strings.ToLower(is.name)
		fmt.Fprintf(&g, "// %sOuter[mr][nv] is the %s kernel for mr rows and nv vectors of %d columns\n", lower, is.name, is.w)
		g.WriteString("// ([1] masks the last vector's columns); nil where no such kernel exists.\n")
		fmt.Fprintf(&g, "var %sOuter = [%d][%d][2]outerFn{\n", lower, maxRows+1, nvMax(is, 1)+1)
		for _, e := range entries {
			fmt.Fprintf(&g, "\t%d: {%d: {%s, %s}},\n", e.mr, e.nv, e.names[0], e.names[1])
		}
		g.WriteString("}\n\n")
		// Dot kernels.
		dotRows := avx512DotRows
		if !is.avx512 {
			dotRows = avx2DotRows
		}
		var dots []string
		for mr := 1; mr <= dotRows; mr++ {
			for nr := 1; nr <= dotNRMax(is, mr); nr++ {
				genDot(&s, is, mr, nr)
				n := dotName(is, mr, nr)
				fmt.Fprintf(&g, "// %s is dotGo with mr = %d, nr = %d:\n//\n", n, mr, nr)
				fmt.Fprintf(&g, "//\tfor i < %d, j < %d: s := Σ_{p<k} a[i·lda+p]·b[j·ldb+p] (in %d lanes, then pairwise)\n", mr, nr, is.w)
				g.WriteString("//\t\tc[i·ldc+j] = alpha·s + beta·c[i·ldc+j] if load ≠ 0, else alpha·s\n")
				g.WriteString("//\n//go:noescape\n")
				fmt.Fprintf(&g, "func %s(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, load int)\n\n", n)
				dots = append(dots, fmt.Sprintf("\t%d: {%d: %s},", mr, nr, n))
			}
		}
		fmt.Fprintf(&g, "// %sDot[mr][nr] is the %s dot kernel for mr rows of A and nr rows of B.\n", lower, is.name)
		fmt.Fprintf(&g, "var %sDot = [%d][%d]dotFn{\n%s\n}\n\n", lower, dotRows+1, dotNRMax(is, 1)+1, strings.Join(dots, "\n"))
		fmt.Fprintf(&g, "// %sDotNRMax[mr] is the widest %s dot kernel for mr rows.\n", lower, is.name)
		fmt.Fprintf(&g, "var %sDotNRMax = [%d]int{0", lower, dotRows+1)
		for mr := 1; mr <= dotRows; mr++ {
			fmt.Fprintf(&g, ", %d", dotNRMax(is, mr))
		}
		g.WriteString("}\n\n")
		fmt.Fprintf(&g, "// %sNVMax[mr] is the widest %s kernel, in vectors, for mr rows.\n", lower, is.name)
		fmt.Fprintf(&g, "var %sNVMax = [%d]int{", lower, maxRows+1)
		for mr := 0; mr <= maxRows; mr++ {
			if mr > 0 {
				fmt.Fprintf(&g, "%d, ", nvMax(is, mr))
			} else {
				g.WriteString("0, ")
			}
		}
		g.WriteString("}\n\n")
	}
	// The composite literal {mr: {nv: …}} repeats keys; merge them.
	src := mergeTables(g.String())
	out, err := format.Source([]byte(src))
	if err != nil {
		log.Fatalf("gofmt: %v\n%s", err, src)
	}
	if err := os.WriteFile(filepath.Join(*dir, "outer_amd64.go"), out, 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*dir, "outer_amd64.s"), s.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	if out, err = format.Source(genGeneric()); err != nil {
		log.Fatalf("gofmt generic: %v", err)
	}
	if err := os.WriteFile(filepath.Join(*dir, "generic_kernels.go"), out, 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*dir, "sparse_amd64.s"), genSparse(), 0o644); err != nil {
		log.Fatal(err)
	}
	asm, goSrc := genARM64()
	if out, err = format.Source(goSrc); err != nil {
		log.Fatalf("gofmt: %v\n%s", err, goSrc)
	}
	if err := os.WriteFile(filepath.Join(*dir, "outer_arm64.go"), out, 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*dir, "outer_arm64.s"), asm, 0o644); err != nil {
		log.Fatal(err)
	}
}

// mergeTables rewrites lines "\tmr: {nv: {x, y}}," that share mr into one
// element "\tmr: {nv1: {…}, nv2: {…}},".
func mergeTables(src string) string {
	lines := strings.Split(src, "\n")
	var out []string
	prevKey := ""
	for _, ln := range lines {
		k, rest, ok := strings.Cut(strings.TrimPrefix(ln, "\t"), ": {")
		if ok && strings.HasPrefix(ln, "\t") && strings.HasSuffix(ln, "},") && strings.Trim(k, "0123456789") == "" {
			inner := strings.TrimSuffix(rest, "},")
			if k == prevKey {
				last := out[len(out)-1]
				out[len(out)-1] = strings.TrimSuffix(last, "},") + ", " + inner + "},"
				continue
			}
			prevKey = k
			out = append(out, ln)
			continue
		}
		prevKey = ""
		out = append(out, ln)
	}
	return strings.Join(out, "\n")
}
