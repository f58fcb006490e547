// Package kernel provides flowgrad's float32 matrix product, Sgemm, behind
// gonum's blas.Float32 interface.
//
// Four paths compute it: AVX-512 (F/DQ/BW/VL) and AVX2+FMA3 on amd64, NEON
// (Advanced SIMD) on arm64, and pure Go ("generic") everywhere. One is
// chosen once, at start-up, from the CPU's features
// (github.com/klauspost/cpuid/v2): the best the CPU supports. Two switches
// force a path:
//
//   - the purego build tag leaves only the generic path in the binary;
//   - the environment variable FLOWGRAD_KERNEL=generic|avx2|avx512|neon,
//     read at start-up, asks for one path.
//
// If FLOWGRAD_KERNEL names an unknown path, or one this CPU or build lacks,
// the package does not crash and does not silently take the best path: it
// uses the generic path and records the reason, which InitError returns.
// Path always names the path in use.
//
// Sgemm uses Goto/BLIS blocking: K is cut into blocks of at most 256, and an
// mr×nr micro-kernel (mr ≤ 14 rows and 32 columns for AVX-512 on wide C,
// up to 27 rows for narrow C, 6×16 for AVX2 and for NEON) walks C. The
// micro-kernels read op(A) and op(B) in place through strides, so
// no-transpose and A-transposed products pack nothing; only a transposed B
// is copied into a reusable, 64-byte aligned panel. Edge tiles use masked
// loads and stores (NEON: lane by lane). Large products are split over a
// persistent worker pool sized by GOMAXPROCS, so that each element of C is
// computed by one worker in a fixed order: results are bitwise identical
// for every GOMAXPROCS on one path. The assembly outer kernels of every
// architecture do the same arithmetic per element (fused multiply-adds in
// increasing p), so they agree bit for bit with each other; the dot kernels
// (AVX-512 and AVX2 sum in 16 and 8 lanes) and the generic path (whose
// rounding depends on whether the Go compiler fuses x·y + z, as it does on
// arm64 and not on amd64) agree with them to rounding.
//
// Two things are specific to the small products of a training step. A
// product X·W with at most 16 rows whose W is cut in row halves
// (internal/parallel.RowHalves) sums each half of K separately and adds
// the two, on one core or two (see sgemm). And on the AVX-512 and AVX2
// paths a product A·B or Aᵀ·B whose A is mostly zeros (the input layer's
// images, and its weight gradient) is computed from A's nonzeros only
// (sparse_amd64.s), with the same FMA chains as the dense kernels, so
// with the same result.
package kernel

//go:generate go run ./_generate

import (
	"fmt"
	"os"
	"strings"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Implementation is gonum's BLAS with Sgemm replaced by flowgrad's kernel.
// Its zero value is ready to use.
type Implementation struct {
	gonum.Implementation
}

var _ blas.Float32 = Implementation{}

// kset is one path: its micro-kernels and their shapes.
type kset struct {
	name       string
	w          int                           // float32 lanes per vector
	rowsWide   int                           // panel height when C has more than w columns
	rowsNarrow int                           // panel height when C has at most w columns
	nvMax      func(mr int) int              // widest kernel for mr rows, in vectors
	outer      func(mr, nv, rem int) outerFn // rem = nr mod w: lanes of the last vector, 0 = all
	dotRows    int                           // panel height of the dot kernels; 0: none
	dotNRMax   func(mr int) int              // widest dot kernel for mr rows
	dot        func(mr, nr int) dotFn        // Sgemm(NoTrans, Trans) kernels for small m
	sparse     sparseFn                      // one row of A·B from A's nonzeros; nil: none
	sparseT    sparseTFn                     // w rows of Aᵀ·B from A's nonzeros; nil: none
	parShift   int                           // products of at least parMin>>parShift multiply-adds are shared
	supported  bool                          // this CPU can run it
	lacks      string                        // the CPU features it needs, for errors
}

// EnvVar is the environment variable that forces a path at start-up.
const EnvVar = "FLOWGRAD_KERNEL"

var (
	sets    []*kset // all paths of this build, best first; generic last
	cur     *kset   // the path in use
	initErr error   // why FLOWGRAD_KERNEL could not be honoured
)

func init() {
	sets = append(archSets(), genericSet)
	cur, initErr = choose(os.Getenv(EnvVar))
}

// choose returns the path for the FLOWGRAD_KERNEL value req: the best
// supported path when req is empty, else the named one; when that is not
// possible, the generic path and an error.
func choose(req string) (*kset, error) {
	req = strings.TrimSpace(req)
	if req == "" {
		for _, s := range sets {
			if s.supported {
				return s, nil
			}
		}
	}
	s, err := lookup(req)
	if err != nil {
		return genericSet, fmt.Errorf("kernel: %s=%s: %v; using the generic path", EnvVar, req, err)
	}
	return s, nil
}

// lookup finds the supported path called name.
func lookup(name string) (*kset, error) {
	for _, s := range sets {
		if s.name == name {
			if !s.supported {
				return nil, fmt.Errorf("path %q needs %s, which this CPU lacks", name, s.lacks)
			}
			return s, nil
		}
	}
	switch name {
	case "avx2", "avx512", "neon":
		return nil, fmt.Errorf("path %q is not in this build (purego tag or another architecture)", name)
	}
	return nil, fmt.Errorf("unknown path %q (want generic, avx2, avx512 or neon)", name)
}

// Path names the Sgemm path in use: "avx512", "avx2", "neon" or "generic".
func Path() string { return cur.name }

// InitError reports why the path asked for with FLOWGRAD_KERNEL could not
// be used (unknown name, or a path this CPU or build lacks); the generic
// path is then in use. It is nil when FLOWGRAD_KERNEL is unset or honoured.
func InitError() error { return initErr }

// Available names the paths this CPU and build can run, best first; the
// last is always "generic".
func Available() []string {
	var names []string
	for _, s := range sets {
		if s.supported {
			names = append(names, s.name)
		}
	}
	return names
}

// ForcePath makes Sgemm use the named path until restore is called, for
// tests and benchmarks. It returns an error, and changes nothing, if the
// path is unknown or unavailable. It must not run concurrently with Sgemm
// or another ForcePath.
func ForcePath(name string) (restore func(), err error) {
	s, err := lookup(name)
	if err != nil {
		return nil, fmt.Errorf("kernel: %v", err)
	}
	prev := cur
	cur = s
	return func() { cur = prev }, nil
}
