package tensor

import (
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

// naiveGemm is the plain triple loop in float64 that Gemm is checked against.
func naiveGemm(transA, transB bool, alpha float64, a, b *Dense[float64], beta float64, c *Dense[float64]) []float64 {
	m, n := c.Rows(), c.Cols()
	k := a.Cols()
	if transA {
		k = a.Rows()
	}
	out := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				var x, y float64
				if transA {
					x = a.At(p, i)
				} else {
					x = a.At(i, p)
				}
				if transB {
					y = b.At(j, p)
				} else {
					y = b.At(p, j)
				}
				s += x * y
			}
			out[i*n+j] = alpha*s + beta*c.At(i, j)
		}
	}
	return out
}

func randDense(rng *rand.Rand, r, c int) *Dense[float64] {
	m := New[float64](r, c)
	for i := range m.Data() {
		m.Data()[i] = rng.NormFloat64()
	}
	return m
}

func TestGemmTransposeCases(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range [][3]int{{1, 1, 1}, {3, 5, 7}, {7, 1, 4}, {10, 10, 13}} {
		m, n, k := tc[0], tc[1], tc[2]
		for _, transA := range []bool{false, true} {
			for _, transB := range []bool{false, true} {
				a := randDense(rng, m, k)
				if transA {
					a = randDense(rng, k, m)
				}
				b := randDense(rng, k, n)
				if transB {
					b = randDense(rng, n, k)
				}
				c := randDense(rng, m, n)
				want := naiveGemm(transA, transB, 0.5, a, b, 2, c)
				Gemm(transA, transB, 0.5, a, b, 2, c)
				for i, w := range want {
					if math.Abs(c.Data()[i]-w) > 1e-12*(1+math.Abs(w)) {
						t.Fatalf("m,n,k=%d,%d,%d tA=%v tB=%v: C[%d]=%g want %g", m, n, k, transA, transB, i, c.Data()[i], w)
					}
				}
				// float32 through the kernel seam, against the same reference.
				a32, b32, c32 := to32(a), to32(b), New[float32](m, n)
				Gemm(transA, transB, 1, a32, b32, 0, c32)
				want = naiveGemm(transA, transB, 1, a, b, 0, c)
				for i, w := range want {
					if math.Abs(float64(c32.Data()[i])-w) > 1e-5*math.Sqrt(float64(k))*(1+math.Abs(w)) {
						t.Fatalf("float32 m,n,k=%d,%d,%d tA=%v tB=%v: C[%d]=%g want %g", m, n, k, transA, transB, i, c32.Data()[i], w)
					}
				}
			}
		}
	}
}

func to32(m *Dense[float64]) *Dense[float32] {
	out := New[float32](m.Rows(), m.Cols())
	for i, v := range m.Data() {
		out.Data()[i] = float32(v)
	}
	return out
}

func TestGemmShapeMismatchPanics(t *testing.T) {
	defer func() {
		r := recover()
		if r == nil {
			t.Fatal("no panic for mismatched shapes")
		}
		if s, _ := r.(string); s != "tensor: Gemm: op(A) 2×3 · op(B) 4×2 does not fit C 2×2" {
			t.Fatalf("panic message %q", r)
		}
	}()
	Gemm(false, false, 1, New[float32](2, 3), New[float32](4, 2), 0, New[float32](2, 2))
}

func TestDenseSharesGorgoniaStorage(t *testing.T) {
	m := FromSlice(2, 3, []float32{1, 2, 3, 4, 5, 6})
	m.Set(1, 2, 60)
	v, err := m.Gorgonia().At(1, 2)
	if err != nil || v.(float32) != 60 {
		t.Fatalf("gorgonia view At(1,2) = %v, %v; want 60", v, err)
	}
	if got := m.Row(1); got[0] != 4 || len(got) != 3 {
		t.Fatalf("Row(1) = %v", got)
	}
	if s := m.Shape().String(); s != "2×3" {
		t.Fatalf("Shape = %s", s)
	}
}

func TestFromSliceLengthPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for wrong length")
		}
	}()
	FromSlice(2, 2, []float64{1, 2, 3})
}

func TestKernelPathReported(t *testing.T) {
	p := KernelPath()
	if p != "avx512" && p != "avx2" && p != "neon" && p != "generic" {
		t.Fatalf("KernelPath() = %q", p)
	}
	if os.Getenv("FLOWGRAD_KERNEL") == "" && KernelError() != nil {
		t.Fatalf("KernelError() = %v with FLOWGRAD_KERNEL unset", KernelError())
	}
}
