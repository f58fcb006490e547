package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/flowgrad/flowgrad/tensor"
)

// Section 1: one (B×784)·(784×256) product against B separate
// (1×784)·(784×256) products — the tutorial's claim that the former is 2 to
// 10 times faster.
//
// The kernel package picks its path once, at start-up, from the environment
// variable FLOWGRAD_KERNEL; flowgrad's public API exposes only the path in
// use (tensor.KernelPath, tensor.KernelError), not a way to switch. So the
// bench re-executes its own binary once per path with FLOWGRAD_KERNEL set
// and -gemm-worker PATH; the child checks that tensor.KernelPath() is the
// path asked for (else tensor.KernelError says why not), measures, and
// prints one JSON line per result.
// The path "gonum" is gonum v0.17's native Sgemm called directly, the
// baseline flowgrad's kernels replace.

const (
	gemmK = 784 // inputs: MNIST pixels
	gemmN = 256 // the first hidden layer
)

// kernelEnv is the kernel package's start-up override (tensor/internal/kernel).
const kernelEnv = "FLOWGRAD_KERNEL"

// gemmResult is one (path, threads, B) measurement; a child writes them as
// JSON lines.
type gemmResult struct {
	Path        string  `json:"path"`
	Unavailable string  `json:"unavailable,omitempty"`
	Threads     int     `json:"threads"`
	Batch       int     `json:"batch"`
	MatrixSec   float64 `json:"matrix_s"`  // one B×784·784×256 product, fastest repetition
	VectorsSec  float64 `json:"vectors_s"` // B 1×784·784×256 products, fastest repetition
	MatrixMed   float64 `json:"matrix_median_s"`
	VectorsMed  float64 `json:"vectors_median_s"`
	MaxRelDiff  float64 `json:"max_rel_diff"`
}

func (r gemmResult) flops() float64 { return 2 * float64(r.Batch) * gemmK * gemmN }

// Speedup is the time of B vector×matrix products over the time of one
// matrix×matrix product.
func (r gemmResult) Speedup() float64 { return r.VectorsSec / r.MatrixSec }

// runGemm runs one child per kernel path and collects the results.
func runGemm(ctx context.Context, c *config, stderr io.Writer) ([]gemmResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("gemm: cannot find the bench binary to re-execute per kernel path: %w", err)
	}
	var all []gemmResult
	for _, path := range c.gemmPaths {
		args := []string{"-gemm-worker", path}
		switch c.mode {
		case modeQuick:
			args = append(args, "-quick")
		case modeFull:
			args = append(args, "-full")
		}
		cmd := exec.CommandContext(ctx, exe, args...)
		cmd.Env = append(os.Environ(), kernelEnv+"="+path)
		if path == "gonum" {
			cmd.Env = append(os.Environ(), kernelEnv+"=")
		}
		var out bytes.Buffer
		cmd.Stdout = &out
		cmd.Stderr = stderr
		fmt.Fprintf(stderr, "bench: gemm: path %s …\n", path)
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("gemm: the child process for path %s failed: %w", path, err)
		}
		rs, err := decodeJSONLines[gemmResult](&out)
		if err != nil {
			return nil, fmt.Errorf("gemm: path %s: %w", path, err)
		}
		all = append(all, rs...)
	}
	return all, nil
}

// decodeJSONLines decodes one T per non-empty line of r.
func decodeJSONLines[T any](r io.Reader) ([]T, error) {
	var out []T
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var v T
		if err := json.Unmarshal(line, &v); err != nil {
			return nil, fmt.Errorf("cannot parse %q: %w", line, err)
		}
		out = append(out, v)
	}
	return out, sc.Err()
}

// gemmWorker is the child: it measures path in this process and writes
// JSON lines to w.
func gemmWorker(c *config, path string, w io.Writer) error {
	enc := json.NewEncoder(w)
	if path != "gonum" && tensor.KernelPath() != path {
		why := fmt.Sprintf("%s=%s gave path %q: this CPU or build lacks it", kernelEnv, path, tensor.KernelPath())
		if err := tensor.KernelError(); err != nil {
			why = err.Error()
		}
		return enc.Encode(gemmResult{Path: path, Unavailable: why})
	}
	mul := flowgradMul
	if path == "gonum" {
		mul = gonumMul
	}
	rng := rand.New(rand.NewPCG(c.seed, 7))
	wm := randMatrix(rng, gemmK, gemmN)
	for _, threads := range c.gemmThreads {
		prev := runtime.GOMAXPROCS(threads)
		for _, b := range c.gemmBatches {
			r := measureGemm(rng, mul, wm, b, c.gemmMinTime, c.gemmReps)
			r.Path, r.Threads = path, threads
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		runtime.GOMAXPROCS(prev)
	}
	return nil
}

// mulFn computes C = A·B.
type mulFn func(a, b, c *tensor.Dense[float32])

func flowgradMul(a, b, c *tensor.Dense[float32]) { tensor.Gemm(false, false, 1, a, b, 0, c) }

var gonumImpl gonum.Implementation

func gonumMul(a, b, c *tensor.Dense[float32]) {
	gonumImpl.Sgemm(blas.NoTrans, blas.NoTrans, a.Rows(), b.Cols(), a.Cols(), 1,
		a.Data(), a.Cols(), b.Data(), b.Cols(), 0, c.Data(), c.Cols())
}

func randMatrix(rng *rand.Rand, r, c int) *tensor.Dense[float32] {
	m := tensor.New[float32](r, c)
	for i := range m.Data() {
		m.Data()[i] = float32(rng.NormFloat64())
	}
	return m
}

// measureGemm times one b×K·K×N product against b 1×K·K×N products (each
// row of X and C as its own matrix, made before timing), interleaved
// reps times, and returns the fastest and the median repetition, per call.
// On a shared machine the fastest repetition is the least disturbed one.
func measureGemm(rng *rand.Rand, mul mulFn, w *tensor.Dense[float32], b int, minTime time.Duration, reps int) gemmResult {
	x := randMatrix(rng, b, gemmK)
	cm := tensor.New[float32](b, gemmN)
	cv := tensor.New[float32](b, gemmN)
	xr := make([]*tensor.Dense[float32], b)
	cr := make([]*tensor.Dense[float32], b)
	for i := range b {
		xr[i] = tensor.FromSlice(1, gemmK, x.Row(i))
		cr[i] = tensor.FromSlice(1, gemmN, cv.Row(i))
	}
	matrix := func() { mul(x, w, cm) }
	vectors := func() {
		for i := range xr {
			mul(xr[i], w, cr[i])
		}
	}
	nm, nv := calibrate(matrix, minTime), calibrate(vectors, minTime)
	tm, tv := make([]float64, reps), make([]float64, reps)
	for r := range reps {
		tm[r] = timeCalls(matrix, nm)
		tv[r] = timeCalls(vectors, nv)
	}
	var maxDiff float64
	for i, v := range cm.Data() {
		d := math.Abs(float64(v-cv.Data()[i])) / (1 + math.Abs(float64(v)))
		maxDiff = max(maxDiff, d)
	}
	return gemmResult{Batch: b, MatrixSec: slices.Min(tm), VectorsSec: slices.Min(tv),
		MatrixMed: median(tm), VectorsMed: median(tv), MaxRelDiff: maxDiff}
}

// calibrate runs f once to warm up and returns how many calls take at
// least minTime.
func calibrate(f func(), minTime time.Duration) int {
	f()
	t := timeCalls(f, 1)
	return max(1, int(math.Ceil(minTime.Seconds()/max(t, 1e-9))))
}

// timeCalls returns the mean seconds per call over n calls of f.
func timeCalls(f func(), n int) float64 {
	t0 := time.Now()
	for range n {
		f()
	}
	return time.Since(t0).Seconds() / float64(n)
}

// median returns the median of xs (NaN for none); xs is not modified.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// gemmTable is the CSV/markdown form of section 1.
func gemmTable(rs []gemmResult) *table {
	t := newTable("path", "threads", "B", "matrix_us", "vectors_us", "matrix_gflops", "vectors_gflops", "speedup",
		"matrix_median_us", "vectors_median_us", "speedup_of_medians", "max_rel_diff")
	for _, r := range rs {
		if r.Unavailable != "" {
			continue
		}
		t.add(r.Path, r.Threads, r.Batch, r.MatrixSec*1e6, r.VectorsSec*1e6,
			r.flops()/r.MatrixSec/1e9, r.flops()/r.VectorsSec/1e9, r.Speedup(),
			r.MatrixMed*1e6, r.VectorsMed*1e6, r.VectorsMed/r.MatrixMed, r.MaxRelDiff)
	}
	return t
}
