package kernel

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// crossArchWant is the FNV-64a hash of the products below, as the AVX-512
// and AVX2 paths compute them on amd64. The NEON path on arm64 must give
// the same bits (CI runs this test under qemu-aarch64). A change to the
// kernels' arithmetic or to the K-blocking (kcMax) changes it: take the new
// value from amd64 and check that arm64 agrees.
const crossArchWant = 0xd5bfabdc7a081f9a

// TestAsmPathsAgreeBitwise checks what the package documents: the outer
// micro-kernels of every assembly path (AVX-512, AVX2, NEON) do the same
// arithmetic per element of C — fused multiply-adds in increasing p, then
// alpha·acc and one fused beta·C — so they give the same bits, whatever the
// architecture. The products have m > dotMaxM (no dot kernels, whose lane
// count differs by path), K-blocks and edge tiles, and inputs made
// without math functions (whose last bit may differ between architectures):
// 24-bit integers / 2²³, so every product and sum rounds. The generic path agrees only to rounding: Go
// fuses x·y + z on arm64 but not on amd64.
func TestAsmPathsAgreeBitwise(t *testing.T) {
	for _, name := range Available() {
		if name == "generic" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			restore, err := ForcePath(name)
			if err != nil {
				t.Fatal(err)
			}
			defer restore()
			if got := crossArchHash(); got != crossArchWant {
				t.Errorf("hash %#x, want %#x", got, uint64(crossArchWant))
			}
		})
	}
}

func crossArchHash() uint64 {
	rng := rand.New(rand.NewPCG(21, 22))
	exact := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(int32(rng.Uint32()>>8)-1<<23) / (1 << 23)
		}
		return s
	}
	h := fnv.New64a()
	const m, n, k = 150, 70, 300
	for _, tA := range transes {
		for _, tB := range transes {
			a, b, c := exact(m*k), exact(k*n), exact(m*n)
			lda, ldb := k, n
			if tA != blas.NoTrans {
				lda = m
			}
			if tB != blas.NoTrans {
				ldb = k
			}
			Implementation{}.Sgemm(tA, tB, m, n, k, 1.5, a, lda, b, ldb, 0.25, c, n)
			var buf [4]byte
			for _, v := range c {
				u := math.Float32bits(v)
				buf[0], buf[1], buf[2], buf[3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
				h.Write(buf[:])
			}
		}
	}
	return h.Sum64()
}
