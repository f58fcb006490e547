package main

import (
	"bytes"
	"fmt"
	"strings"
)

// The generic path's kernels, in Go (generic_kernels.go): the same
// contracts as outerGo and dotGo, written so that Go's compiler keeps the
// accumulators in registers. Go's scheduler places a loop's
// accumulator updates (the values its phis take) last in the loop body,
// after every product, so each accumulator costs two registers at the end
// of the body: six accumulators, six products and the broadcast A value
// fit amd64's fifteen usable X registers (X15 is reserved); seven or more
// spill. Unrolling p by four lets the first three updates of every
// accumulator interleave with their products. Each element is still summed
// in increasing p from zero, then c = alpha·s (+ beta·c), as in the twins.
const (
	genericW       = 6 // columns of a row kernel
	genericUnroll  = 4
	genericDotRows = 2 // rows of A of a dot kernel
	genericDotCols = 3 // rows of B of a dot kernel
)

func genGeneric() []byte {
	var g bytes.Buffer
	g.WriteString(header)
	g.WriteString("package kernel\n\nimport \"unsafe\"\n\n")
	for nr := 1; nr <= genericW; nr++ {
		genRowKernel(&g, nr)
	}
	for mr := 1; mr <= genericDotRows; mr++ {
		for nr := 1; nr <= genericDotCols; nr++ {
			genDotKernel(&g, mr, nr)
		}
	}
	fmt.Fprintf(&g, "// genericRow[nr] computes one row of an outer tile nr columns wide.\n")
	fmt.Fprintf(&g, "var genericRow = [%d]rowFn{", genericW+1)
	for nr := 1; nr <= genericW; nr++ {
		fmt.Fprintf(&g, "%d: row%d, ", nr, nr)
	}
	g.WriteString("}\n\n")
	fmt.Fprintf(&g, "// genericDot[mr][nr] is the dot kernel for mr rows of A and nr rows of B.\n")
	fmt.Fprintf(&g, "var genericDot = [%d][%d]dotFn{\n", genericDotRows+1, genericDotCols+1)
	for mr := 1; mr <= genericDotRows; mr++ {
		fmt.Fprintf(&g, "\t%d: {", mr)
		for nr := 1; nr <= genericDotCols; nr++ {
			fmt.Fprintf(&g, "%d: dot%dx%dGo, ", nr, mr, nr)
		}
		g.WriteString("},\n")
	}
	g.WriteString("}\n")
	return g.Bytes()
}

func vars(prefix string, n int) string {
	var s []string
	for i := 0; i < n; i++ {
		s = append(s, fmt.Sprintf("%s%d", prefix, i))
	}
	return strings.Join(s, ", ")
}

// genRowKernel writes rowN: C[0, j] for j < N of one row of A.
func genRowKernel(g *bytes.Buffer, nr int) {
	fmt.Fprintf(g, "// row%d is outerGo for one row and %d columns: c[j] = alpha·Σ_{p<kc} a[p·csa]·b[p·ldb+j] (+ beta·c[j] when load ≠ 0), csa and ldb in bytes.\n", nr, nr)
	fmt.Fprintf(g, "func row%d(kc int, a unsafe.Pointer, csa uintptr, b unsafe.Pointer, ldb uintptr, c unsafe.Pointer, alpha, beta float32, load int) {\n", nr)
	fmt.Fprintf(g, "\tvar %s float32\n", vars("s", nr))
	// Offsets, not advancing pointers: a pointer may not leave its
	// allocation, even just past the end (checkptr, on under -race).
	fmt.Fprintf(g, "\tvar oa, ob uintptr\n")
	fmt.Fprintf(g, "\tp := kc\n")
	fmt.Fprintf(g, "\tfor ; p >= %d; p -= %d {\n", genericUnroll, genericUnroll)
	for u := 0; u < genericUnroll; u++ {
		fmt.Fprintf(g, "\t\tav%d := *(*float32)(unsafe.Add(a, oa+%d*csa))\n", u, u)
		fmt.Fprintf(g, "\t\tb%d := (*[%d]float32)(unsafe.Add(b, ob+%d*ldb))\n", u, nr, u)
		for j := 0; j < nr; j++ {
			fmt.Fprintf(g, "\t\ts%d += av%d * b%d[%d]\n", j, u, u, j)
		}
	}
	fmt.Fprintf(g, "\t\toa += %d * csa\n\t\tob += %d * ldb\n\t}\n", genericUnroll, genericUnroll)
	fmt.Fprintf(g, "\tfor ; p > 0; p-- {\n")
	fmt.Fprintf(g, "\t\tav := *(*float32)(unsafe.Add(a, oa))\n\t\tbr := (*[%d]float32)(unsafe.Add(b, ob))\n", nr)
	for j := 0; j < nr; j++ {
		fmt.Fprintf(g, "\t\ts%d += av * br[%d]\n", j, j)
	}
	fmt.Fprintf(g, "\t\toa += csa\n\t\tob += ldb\n\t}\n")
	fmt.Fprintf(g, "\tcr := (*[%d]float32)(c)\n", nr)
	fmt.Fprintf(g, "\tif load != 0 {\n")
	for j := 0; j < nr; j++ {
		fmt.Fprintf(g, "\t\tcr[%d] = alpha*s%d + beta*cr[%d]\n", j, j, j)
	}
	fmt.Fprintf(g, "\t\treturn\n\t}\n")
	for j := 0; j < nr; j++ {
		fmt.Fprintf(g, "\tcr[%d] = alpha * s%d\n", j, j)
	}
	g.WriteString("}\n\n")
}

// genDotKernel writes dotMxNGo, the dotFn for mr rows of A and nr of B.
func genDotKernel(g *bytes.Buffer, mr, nr int) {
	fmt.Fprintf(g, "// dot%dx%dGo is dotGo with mr = %d, nr = %d.\n", mr, nr, mr, nr)
	fmt.Fprintf(g, "func dot%dx%dGo(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, load int) {\n", mr, nr)
	acc := func(i, j int) string { return fmt.Sprintf("s%d%d", i, j) }
	var accs []string
	for i := 0; i < mr; i++ {
		for j := 0; j < nr; j++ {
			accs = append(accs, acc(i, j))
		}
	}
	fmt.Fprintf(g, "\tvar %s float32\n", strings.Join(accs, ", "))
	for i := 0; i < mr; i++ {
		fmt.Fprintf(g, "\tpa%d := unsafe.Add(unsafe.Pointer(a), %d*lda*4)\n", i, i)
	}
	for j := 0; j < nr; j++ {
		fmt.Fprintf(g, "\tpb%d := unsafe.Add(unsafe.Pointer(b), %d*ldb*4)\n", j, j)
	}
	fmt.Fprintf(g, "\tvar o uintptr\n")
	body := func(off int, indent string) {
		for i := 0; i < mr; i++ {
			fmt.Fprintf(g, "%sa%d := *(*float32)(unsafe.Add(pa%d, o+%d))\n", indent, i, i, 4*off)
		}
		for j := 0; j < nr; j++ {
			fmt.Fprintf(g, "%sb%d := *(*float32)(unsafe.Add(pb%d, o+%d))\n", indent, j, j, 4*off)
		}
		for i := 0; i < mr; i++ {
			for j := 0; j < nr; j++ {
				fmt.Fprintf(g, "%s%s += a%d * b%d\n", indent, acc(i, j), i, j)
			}
		}
	}
	fmt.Fprintf(g, "\tp := k\n\tfor ; p >= %d; p -= %d {\n", genericUnroll, genericUnroll)
	for u := 0; u < genericUnroll; u++ {
		fmt.Fprintf(g, "\t\t{\n")
		body(u, "\t\t\t")
		fmt.Fprintf(g, "\t\t}\n")
	}
	fmt.Fprintf(g, "\t\to += %d\n", 4*genericUnroll)
	fmt.Fprintf(g, "\t}\n\tfor ; p > 0; p-- {\n")
	body(0, "\t\t")
	fmt.Fprintf(g, "\t\to += 4\n")
	fmt.Fprintf(g, "\t}\n")
	for i := 0; i < mr; i++ {
		fmt.Fprintf(g, "\tc%d := (*[%d]float32)(unsafe.Add(unsafe.Pointer(c), %d*ldc*4))\n", i, nr, i)
	}
	fmt.Fprintf(g, "\tif load != 0 {\n")
	for i := 0; i < mr; i++ {
		for j := 0; j < nr; j++ {
			fmt.Fprintf(g, "\t\tc%d[%d] = alpha*%s + beta*c%d[%d]\n", i, j, acc(i, j), i, j)
		}
	}
	fmt.Fprintf(g, "\t\treturn\n\t}\n")
	for i := 0; i < mr; i++ {
		for j := 0; j < nr; j++ {
			fmt.Fprintf(g, "\tc%d[%d] = alpha * %s\n", i, j, acc(i, j))
		}
	}
	g.WriteString("}\n\n")
}
