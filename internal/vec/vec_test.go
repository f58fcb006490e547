package vec

import (
	"math"
	"math/rand/v2"
	"testing"
)

// paths runs f once per implementation this CPU has: the generic loops and,
// when available, the assembly.
func paths(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	restore := SetGeneric(true)
	t.Run("generic", f)
	restore()
	if hasAsm {
		restore := SetGeneric(false)
		t.Run(asmImpl.name, f)
		restore()
	}
}

const guard = 7 // guard cells after every output; must stay untouched

var guardValue = float32(math.Float32frombits(0x7fc0dead))

// randSlice returns n random values in [-1, 1) followed by guard cells,
// sliced to length n; some entries are exact zeros.
func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n+guard)
	for i := range s {
		if i >= n {
			s[i] = guardValue
			continue
		}
		if rng.IntN(8) > 0 {
			s[i] = 2*rng.Float32() - 1
		}
	}
	return s[:n]
}

func checkGuards(t *testing.T, name string, s []float32) {
	t.Helper()
	for _, v := range s[len(s) : len(s)+guard] {
		if math.Float32bits(v) != math.Float32bits(guardValue) {
			t.Fatalf("%s: guard cell after element %d overwritten", name, len(s))
		}
	}
}

// clone copies s and its guard cells.
func clone(s []float32) []float32 { return append([]float32(nil), s[:len(s)+guard]...)[:len(s)] }

func near(a, b float32, tol float64) bool {
	return math.Abs(float64(a)-float64(b)) <= tol*(1+math.Abs(float64(b)))
}

var lengths = []int{0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 257, 1000}

func TestBiasReLUAndBackward(t *testing.T) {
	paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		for _, n := range lengths[1:] {
			for _, rows := range []int{1, 3} {
				x, b := randSlice(rng, rows*n), randSlice(rng, n)
				x[0] = float32(math.NaN())
				if n > 1 { // −0 + −0 = −0, which ReLU keeps (it is not < 0)
					x[1], b[1] = float32(math.Copysign(0, -1)), float32(math.Copysign(0, -1))
				}
				add, relu := clone(x), clone(x)
				BiasAdd(add, b)
				BiasReLU(relu, b)
				for i := range x {
					s := x[i] + b[i%n]
					r := s
					if r < 0 {
						r = 0
					}
					if !sameBits(add[i], s) || !sameBits(relu[i], r) {
						t.Fatalf("n=%d i=%d: BiasAdd %g BiasReLU %g, want %g %g", n, i, add[i], relu[i], s, r)
					}
				}
				checkGuards(t, "BiasReLU", relu)

				dy, db := randSlice(rng, rows*n), randSlice(rng, n)
				dy[len(dy)-1] = float32(math.NaN()) // reaches db[n-1] when y > 0
				relu[len(relu)-1] = 1
				dz, wantDB := make([]float32, rows*n, rows*n+guard), clone(db)
				for i := range dz[:cap(dz)] {
					if i >= len(dz) {
						dz[:cap(dz)][i] = guardValue
					}
				}
				for i := range relu {
					if relu[i] > 0 {
						wantDB[i%n] += dy[i]
					}
				}
				ReLUBackward(dz, dy, relu, db)
				for i := range dz {
					want := float32(0)
					if relu[i] > 0 {
						want = dy[i]
					}
					if !sameBits(dz[i], want) {
						t.Fatalf("n=%d i=%d: dz %g, want %g", n, i, dz[i], want)
					}
				}
				for j := range db { // the same additions in the same order: the same bits
					if !sameBits(db[j], wantDB[j]) {
						t.Fatalf("n=%d j=%d: db %g, want %g", n, j, db[j], wantDB[j])
					}
				}
				checkGuards(t, "ReLUBackward dz", dz)
				checkGuards(t, "ReLUBackward db", db)
			}
		}
	})
}

func same(a, b float32) bool { return a == b || a != a && b != b }

// sameBits reports whether a and b are the same bits or both NaN.
func sameBits(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b
}

func TestBytesToFloatsIsCorrectlyRoundedDivision(t *testing.T) {
	paths(t, func(t *testing.T) {
		for _, n := range append(lengths, 256, 1000) {
			src := make([]uint8, n)
			for i := range src {
				src[i] = uint8(i * 7)
			}
			dst := make([]float32, n, n+guard)
			for i := n; i < n+guard; i++ {
				dst[:cap(dst)][i] = guardValue
			}
			BytesToFloats(dst, src)
			for i, v := range src {
				if dst[i] != float32(v)/255 {
					t.Fatalf("n=%d: %d ↦ %g, want %g", n, v, dst[i], float32(v)/255)
				}
			}
			checkGuards(t, "BytesToFloats", dst)
		}
	})
}

func BenchmarkBytesToFloats(b *testing.B) {
	src, dst := make([]uint8, 100*784), make([]float32, 100*784)
	for _, p := range benchPaths() {
		b.Run(p, func(b *testing.B) {
			defer SetGeneric(p == "generic")()
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				BytesToFloats(dst, src)
			}
		})
	}
}

// benchPaths names the paths a benchmark runs: generic and, when this CPU
// has it, the assembly path (SetGeneric(p == "generic") selects each).
func benchPaths() []string {
	if hasAsm {
		return []string{"generic", asmImpl.name}
	}
	return []string{"generic"}
}

// TestChoose checks FLOWGRAD_KERNEL's meaning: empty or the assembly path's
// name selects it (when this CPU and build have one), anything else the Go
// twins.
func TestChoose(t *testing.T) {
	best := genericImpl
	if hasAsm {
		best = asmImpl
	}
	for env, want := range map[string]*impl{"": best, best.name: best, "generic": genericImpl, "no-such-path": genericImpl} {
		if got := choose(env); got != want {
			t.Errorf("choose(%q) = %s, want %s", env, got.name, want.name)
		}
	}
}
