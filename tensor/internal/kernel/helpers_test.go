package kernel

import (
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// emulated is set by FLOWGRAD_EMULATED=1: the tests run under an emulator
// (CI runs the arm64 build under qemu-user, 10–50× slower than native), so
// the heaviest tests use their short case lists, as under -short or -race.
// They still run, on every path.
var emulated = os.Getenv("FLOWGRAD_EMULATED") != ""

// forEachPath runs f once per path this CPU supports, as a subtest named
// after the path, with that path forced.
func forEachPath(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	for _, name := range Available() {
		t.Run(name, func(t *testing.T) {
			restore, err := ForcePath(name)
			if err != nil {
				t.Fatal(err)
			}
			defer restore()
			f(t)
		})
	}
}

// gemmCase is one Sgemm call with guard cells: every matrix lives in a
// larger slice, and C's slice is wider than C, with a margin before and
// after, all filled with the guard value.
type gemmCase struct {
	tA, tB        blas.Transpose
	m, n, k       int
	alpha, beta   float32
	lda, ldb, ldc int
	a, b          []float32
	c, c0         []float32 // whole guarded slice, before and after
	cOff          int       // C[0,0] is c[cOff]
}

const guardLen = 37

var guard = math.Float32frombits(0x7fc0dead) // a NaN with a recognisable payload

// newCase builds random operands; pad adds to every leading dimension.
func newCase(rng *rand.Rand, tA, tB blas.Transpose, m, n, k int, alpha, beta float32, pad int) *gemmCase {
	g := &gemmCase{tA: tA, tB: tB, m: m, n: n, k: k, alpha: alpha, beta: beta}
	rowsA, colsA := m, k
	if tA != blas.NoTrans {
		rowsA, colsA = k, m
	}
	rowsB, colsB := k, n
	if tB != blas.NoTrans {
		rowsB, colsB = n, k
	}
	g.lda, g.ldb, g.ldc = colsA+pad, colsB+pad, n+pad
	g.a = randSlice(rng, g.lda*(rowsA-1)+colsA)
	g.b = randSlice(rng, g.ldb*(rowsB-1)+colsB)
	g.cOff = guardLen
	g.c = make([]float32, guardLen+g.ldc*(m-1)+n+guardLen)
	for i := range g.c {
		g.c[i] = guard
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			g.c[g.cOff+i*g.ldc+j] = float32(rng.NormFloat64())
		}
	}
	g.c0 = append([]float32(nil), g.c...)
	return g
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

func (g *gemmCase) run() {
	Implementation{}.Sgemm(g.tA, g.tB, g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, g.c[g.cOff:len(g.c)-guardLen], g.ldc)
}

func (g *gemmCase) opA(i, p int) float64 {
	if g.tA != blas.NoTrans {
		return float64(g.a[p*g.lda+i])
	}
	return float64(g.a[i*g.lda+p])
}

func (g *gemmCase) opB(p, j int) float64 {
	if g.tB != blas.NoTrans {
		return float64(g.b[j*g.ldb+p])
	}
	return float64(g.b[p*g.ldb+j])
}

// check compares C with a float64 reference at relative tolerance
// 1e-5·√k (relative to Σ|alpha·a·b| + |beta·c|), and checks the guard
// cells and C's padding are unchanged.
func (g *gemmCase) check(t testing.TB) {
	t.Helper()
	tol := 1e-5 * math.Sqrt(float64(max(g.k, 1)))
	bad := 0
	for i := 0; i < g.m; i++ {
		for j := 0; j < g.n; j++ {
			var s, mag float64
			for p := 0; p < g.k; p++ {
				x := g.opA(i, p) * g.opB(p, j)
				s += x
				mag += math.Abs(x)
			}
			c0 := float64(g.c0[g.cOff+i*g.ldc+j])
			want := float64(g.alpha) * s
			mag = math.Abs(float64(g.alpha)) * mag
			if g.beta != 0 {
				want += float64(g.beta) * c0
				mag += math.Abs(float64(g.beta) * c0)
			}
			got := float64(g.c[g.cOff+i*g.ldc+j])
			if !(math.Abs(got-want) <= tol*mag+1e-30) {
				if bad < 5 {
					t.Errorf("%s: C[%d,%d] = %v, want %v", g, i, j, got, want)
				}
				bad++
			}
		}
	}
	for idx := range g.c {
		off := idx - g.cOff
		inC := off >= 0 && off/g.ldc < g.m && off%g.ldc < g.n
		if !inC && math.Float32bits(g.c[idx]) != math.Float32bits(g.c0[idx]) {
			t.Errorf("%s: guard cell %d (C offset %d) changed to %v", g, idx, off, g.c[idx])
			return
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d wrong elements", g, bad)
	}
}

func (g *gemmCase) String() string {
	return fmtCase(g.tA, g.tB, g.m, g.n, g.k, g.alpha, g.beta, g.lda, g.ldb, g.ldc)
}
