package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas"

	"github.com/flowgrad/flowgrad/internal/parallel"
)

func fmtCase(tA, tB blas.Transpose, m, n, k int, alpha, beta float32, lda, ldb, ldc int) string {
	return fmt.Sprintf("Sgemm(%c,%c, m=%d n=%d k=%d, alpha=%v beta=%v, lda=%d ldb=%d ldc=%d)",
		tA, tB, m, n, k, alpha, beta, lda, ldb, ldc)
}

var transes = []blas.Transpose{blas.NoTrans, blas.Trans}

var scalars = []float32{0, 1, -0.7}

// TestSgemmConformance runs the shared suite on every path: all four
// transpose cases, sizes 1…70 with primes, alpha and beta in {0, 1, -0.7},
// padded leading dimensions and guard cells around C.
func TestSgemmConformance(t *testing.T) {
	sizes := []int{1, 2, 3, 5, 7, 8, 13, 16, 17, 31, 32, 33, 47, 64, 70}
	if testing.Short() || raceEnabled || emulated {
		sizes = []int{1, 2, 7, 16, 17, 33, 70}
	}
	forEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		idx := 0
		for _, tA := range transes {
			for _, tB := range transes {
				for _, m := range sizes {
					for _, n := range sizes {
						for _, k := range sizes {
							idx++
							alpha := scalars[idx%3]
							beta := scalars[(idx/3)%3]
							g := newCase(rng, tA, tB, m, n, k, alpha, beta, idx%3*5)
							g.run()
							g.check(t)
							if t.Failed() {
								return
							}
						}
					}
				}
			}
		}
	})
}

// TestSgemmScalars covers every alpha, beta pair on shapes with edges.
func TestSgemmScalars(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		for _, sh := range [][3]int{{1, 1, 1}, {1, 10, 256}, {29, 10, 19}, {15, 35, 9}, {6, 16, 3}} {
			for _, tA := range transes {
				for _, tB := range transes {
					for _, alpha := range scalars {
						for _, beta := range scalars {
							g := newCase(rng, tA, tB, sh[0], sh[1], sh[2], alpha, beta, 3)
							g.run()
							g.check(t)
						}
					}
				}
			}
		}
	})
}

// TestSgemmLarge covers K-blocks, column blocks, the packed transposed B and
// the threaded split.
func TestSgemmLarge(t *testing.T) {
	shapes := [][3]int{{1, 784, 600}, {130, 530, 300}, {300, 40, 520}, {20, 256, 784}, {260, 10, 256}, {3, 1030, 70}, {3, 20, 5000}}
	if raceEnabled || emulated {
		shapes = [][3]int{{1, 784, 60}, {30, 530, 300}, {3, 20, 5000}}
	}
	forEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		for i, sh := range shapes {
			for _, tA := range transes {
				for _, tB := range transes {
					g := newCase(rng, tA, tB, sh[0], sh[1], sh[2], scalars[(i+1)%3], scalars[i%3], i%2*3)
					g.run()
					g.check(t)
				}
			}
		}
	})
}

// TestSgemmBetaZeroNaN checks that beta = 0 ignores C, NaNs included, and
// that alpha = 0 ignores A and B.
func TestSgemmBetaZeroNaN(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		nan := float32(math.NaN())
		for _, sh := range [][3]int{{1, 10, 5}, {33, 70, 300}, {100, 256, 784}} {
			m, n, k := sh[0], sh[1], sh[2]
			a := make([]float32, m*k)
			b := make([]float32, k*n)
			c := make([]float32, m*n)
			for i := range a {
				a[i] = 1
			}
			for i := range b {
				b[i] = 2
			}
			for i := range c {
				c[i] = nan
			}
			Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 0.5, a, k, b, n, 0, c, n)
			for i, v := range c {
				if v != float32(k) {
					t.Fatalf("%v: c[%d] = %v, want %v", sh, i, v, k)
				}
			}
			for i := range a {
				a[i] = nan
			}
			Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 0, a, k, b, n, 2, c, n)
			for i, v := range c {
				if v != float32(2*k) {
					t.Fatalf("alpha=0 %v: c[%d] = %v, want %v", sh, i, v, 2*k)
				}
			}
		}
	})
}

// TestSgemmDeterministic checks results are bitwise identical for every
// GOMAXPROCS, on every path, for shapes that are split over workers.
func TestSgemmDeterministic(t *testing.T) {
	shapes := [][3]int{{1000, 256, 784}, {20, 256, 784}, {784, 256, 20}, {100, 784, 256}, {1000, 10, 256}, {40, 1000, 300}}
	if testing.Short() || raceEnabled || emulated {
		// Still split over workers (≥ parMin multiply-adds), but cheap for
		// the generic path under the race detector.
		shapes = [][3]int{{20, 100, 600}, {300, 40, 100}}
	}
	defer func(p int) { parMin = p }(parMin)
	parMin = 1 << 20 // so that the short shapes are split too
	forEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
		for _, sh := range shapes {
			for _, tA := range transes {
				for _, tB := range transes {
					g := newCase(rng, tA, tB, sh[0], sh[1], sh[2], 1.5, 0.5, 1)
					var want []float32
					for _, procs := range []int{1, 2, 3, 4, 7} {
						runtime.GOMAXPROCS(procs)
						parallel.ResumeSharing() // share even if the machine is busy
						copy(g.c, g.c0)
						g.run()
						if want == nil {
							want = append([]float32(nil), g.c...)
							continue
						}
						for i := range want {
							if math.Float32bits(want[i]) != math.Float32bits(g.c[i]) {
								t.Fatalf("%s: GOMAXPROCS=%d: c[%d] = %v, GOMAXPROCS=1 gave %v", g, procs, i, g.c[i], want[i])
							}
						}
					}
				}
			}
		}
	})
}

// TestSgemmRowHalves covers the small-batch products that keep to a
// weight's row halves (internal/parallel.RowHalves): X·W summed as two
// halves of K, and Xᵀ·dY and dY·Wᵀ cut at the weight's row. On every path,
// with padded leading dimensions, alpha and beta: C matches the float64
// reference, and is the same bit for bit at every GOMAXPROCS (the halves
// of K are added in one order whether they ran on one core or two). The
// shapes straddle each threshold: B = 16 and 17, 63 and 64 rows, a weight
// just under and over 32K elements.
func TestSgemmRowHalves(t *testing.T) {
	type shape struct {
		tA, tB  blas.Transpose
		m, n, k int
	}
	var shapes []shape
	for _, w := range [][2]int{{784, 256}, {64, 512}, {63, 600}, {200, 163}, {128, 255}} { // weight rows × cols
		for _, b := range []int{1, 10, 16, 17} {
			shapes = append(shapes,
				shape{blas.NoTrans, blas.NoTrans, b, w[1], w[0]}, // X·W
				shape{blas.Trans, blas.NoTrans, w[0], w[1], b},   // Xᵀ·dY
				shape{blas.NoTrans, blas.Trans, b, w[0], w[1]})   // dY·Wᵀ
		}
	}
	if testing.Short() || raceEnabled || emulated {
		shapes = shapes[:12] // the 784×256 weight at every B
	}
	forEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(9, 10))
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
		for i, sh := range shapes {
			g := newCase(rng, sh.tA, sh.tB, sh.m, sh.n, sh.k, scalars[1+i%2], scalars[i%3], i%3*5)
			var want []float32
			for _, procs := range []int{1, 2, 3} {
				runtime.GOMAXPROCS(procs)
				parallel.ResumeSharing()
				copy(g.c, g.c0)
				g.run()
				if want == nil {
					g.check(t)
					want = append([]float32(nil), g.c...)
					continue
				}
				for j := range want {
					if math.Float32bits(want[j]) != math.Float32bits(g.c[j]) {
						t.Fatalf("%s: GOMAXPROCS=%d: c[%d] = %v, GOMAXPROCS=1 gave %v", g, procs, j, g.c[j], want[j])
					}
				}
			}
			if t.Failed() {
				return
			}
		}
	})
}

// TestSparseMatchesDense checks the sparse kernels, which paths that have
// them use for A·B and Aᵀ·B when A is mostly zeros (the input layer's
// images and, transposed, their weight gradient): on mostly-zero A (zeros
// in runs along its rows, as in images) and B without zeros, C equals the
// dense kernels' result bit for bit, for every alpha and beta, over
// several K-blocks, panels of a vector's width of rows with a remainder,
// padded leading dimensions, row halves (B ≤ 16) and products shared
// across cores; and it matches the float64 reference. On paths without sparse kernels both
// runs are dense.
func TestSparseMatchesDense(t *testing.T) {
	type shape struct {
		tA      blas.Transpose
		m, n, k int
	}
	shapes := []shape{
		{blas.NoTrans, 1, 256, 784}, {blas.Trans, 784, 256, 100}, {blas.NoTrans, 3, 48, 100}, {blas.Trans, 40, 16, 64},
		{blas.NoTrans, 16, 256, 784}, {blas.Trans, 37, 80, 300}, {blas.NoTrans, 17, 272, 300}, {blas.Trans, 784, 256, 1000},
		{blas.NoTrans, 100, 256, 784}, {blas.NoTrans, 40, 16, 64}, {blas.NoTrans, 250, 64, 520}, {blas.Trans, 300, 64, 33},
	}
	if testing.Short() || raceEnabled || emulated {
		shapes = shapes[:6]
	}
	forEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(11, 12))
		for i, sh := range shapes {
			alpha, beta := []float32{1, -0.7, 1.5}[i%3], []float32{0, 1, 0.5}[(i/3)%3]
			g := newCase(rng, sh.tA, blas.NoTrans, sh.m, sh.n, sh.k, alpha, beta, i%2*5)
			rowsA, colsA := g.m, g.k // A's storage: rows of images
			if sh.tA == blas.Trans {
				rowsA, colsA = g.k, g.m
			}
			for r := range rowsA { // runs of background and of ink
				row := g.a[r*g.lda : r*g.lda+colsA]
				for p := 0; p < len(row); {
					run := 1 + rng.IntN(12)
					zero := rng.Float64() < 0.8
					for ; run > 0 && p < len(row); run, p = run-1, p+1 {
						if zero {
							row[p] = 0
						}
					}
				}
			}
			if cur.sparse != nil && !sparseA(g.a, g.lda, rowsA, colsA) {
				t.Fatalf("%s: A is not seen as sparse: the test does not test the sparse kernels", g)
			}
			sparseOff = true
			copy(g.c, g.c0)
			g.run()
			dense := append([]float32(nil), g.c...)
			sparseOff = false
			copy(g.c, g.c0)
			g.run()
			g.check(t)
			for j := range dense {
				if math.Float32bits(dense[j]) != math.Float32bits(g.c[j]) {
					t.Fatalf("%s: sparse c[%d] = %v, dense %v", g, j, g.c[j], dense[j])
				}
			}
		}
	})
}

// TestSgemmPanics checks misuse panics with a "kernel:" message.
func TestSgemmPanics(t *testing.T) {
	s := make([]float32, 100)
	cases := map[string]func(){
		"trans": func() { Implementation{}.Sgemm('x', blas.NoTrans, 2, 2, 2, 1, s, 2, s, 2, 0, s, 2) },
		"m":     func() { Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, -1, 2, 2, 1, s, 2, s, 2, 0, s, 2) },
		"lda":   func() { Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, 2, 2, 3, 1, s, 2, s, 2, 0, s, 2) },
		"ldbT":  func() { Implementation{}.Sgemm(blas.NoTrans, blas.Trans, 2, 2, 3, 1, s, 3, s, 2, 0, s, 2) },
		"ldc":   func() { Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, 2, 3, 2, 1, s, 2, s, 3, 0, s, 2) },
		"shortA": func() {
			Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, 20, 2, 10, 1, s, 10, s, 2, 0, s, 2)
		},
		"shortC": func() {
			Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, 60, 2, 1, 1, s, 1, s, 2, 0, s, 2)
		},
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				r := recover()
				msg, ok := r.(string)
				if !ok || !strings.HasPrefix(msg, "kernel:") {
					t.Errorf("panic %v, want a kernel: message", r)
				}
			}()
			f()
		})
	}
}

// TestChoose checks FLOWGRAD_KERNEL handling: honoured when possible, else
// the generic path and an error, never a crash or a silent fallback.
func TestChoose(t *testing.T) {
	s, err := choose("")
	if err != nil || s.name != Available()[0] {
		t.Errorf(`choose("") = %v, %v; want %s`, s.name, err, Available()[0])
	}
	for _, name := range Available() {
		if s, err := choose(name); err != nil || s.name != name {
			t.Errorf("choose(%q) = %v, %v", name, s.name, err)
		}
	}
	for _, name := range []string{"avx1024", "AVX2x"} {
		s, err := choose(name)
		if err == nil || s.name != "generic" || !strings.HasPrefix(err.Error(), "kernel: "+EnvVar) {
			t.Errorf("choose(%q) = %v, %v; want generic and an error", name, s.name, err)
		}
	}
	for _, s := range sets {
		if !s.supported {
			got, err := choose(s.name)
			if err == nil || got.name != "generic" {
				t.Errorf("choose(%q) on a CPU without it = %v, %v", s.name, got.name, err)
			}
		}
	}
	if InitError() != nil {
		t.Logf("InitError: %v", InitError())
	}
	t.Logf("path %s, available %v", Path(), Available())
}

// TestSgemmConcurrent runs shared products from several goroutines at once
// (the pool serves them all) and checks each against its serial result.
func TestSgemmConcurrent(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
		runtime.GOMAXPROCS(4)
		rng := rand.New(rand.NewPCG(13, 14))
		shapes := [][3]int{{64, 300, 200}, {20, 256, 300}, {300, 40, 100}, {8, 500, 300}}
		var cases []*gemmCase
		var want [][]float32
		for i, sh := range shapes {
			g := newCase(rng, transes[i%2], transes[i/2%2], sh[0], sh[1], sh[2], 1, 0.5, 2)
			cases = append(cases, g)
			runtime.GOMAXPROCS(1)
			g.run()
			runtime.GOMAXPROCS(4)
			want = append(want, append([]float32(nil), g.c...))
		}
		done := make(chan int)
		for i, g := range cases {
			go func() {
				for r := 0; r < 5; r++ {
					parallel.ResumeSharing()
					copy(g.c, g.c0)
					g.run()
					for j := range g.c {
						if math.Float32bits(g.c[j]) != math.Float32bits(want[i][j]) {
							t.Errorf("%s: concurrent run %d: c[%d] = %v, serial %v", g, r, j, g.c[j], want[i][j])
							break
						}
					}
				}
				done <- i
			}()
		}
		for range cases {
			<-done
		}
	})
}

// TestSgemmNaNPropagates checks, on every path, every transpose case and
// shapes with edge tiles, that a NaN in A poisons exactly its row of C, a
// NaN in B exactly its column, and a NaN in C (beta ≠ 0) only itself.
func TestSgemmNaNPropagates(t *testing.T) {
	nan := float32(math.NaN())
	forEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(15, 16))
		for _, sh := range [][3]int{{1, 10, 5}, {7, 13, 9}, {29, 70, 300}} {
			m, n, k := sh[0], sh[1], sh[2]
			for _, tA := range transes {
				for _, tB := range transes {
					g := newCase(rng, tA, tB, m, n, k, 1, 0.5, 1)
					ri, rp := m/2, k/3 // A[ri, rp] = NaN
					cj, cp := n-1, k-1 // B[cp, cj] = NaN
					if tA != blas.NoTrans {
						g.a[rp*g.lda+ri] = nan
					} else {
						g.a[ri*g.lda+rp] = nan
					}
					if tB != blas.NoTrans {
						g.b[cj*g.ldb+cp] = nan
					} else {
						g.b[cp*g.ldb+cj] = nan
					}
					ci, cj2 := m-1, 0 // C[ci, cj2] = NaN
					g.c[g.cOff+ci*g.ldc+cj2] = nan
					g.run()
					for i := 0; i < m; i++ {
						for j := 0; j < n; j++ {
							v := g.c[g.cOff+i*g.ldc+j]
							want := i == ri || j == cj || (i == ci && j == cj2)
							if isNaN := v != v; isNaN != want {
								t.Fatalf("%s: C[%d,%d] = %v; NaN expected: %v", g, i, j, v, want)
							}
						}
					}
				}
			}
		}
	})
}
