package kernel

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// bestOf returns the fastest time per call of f over many short batches:
// on a shared machine the minimum estimates the uncontended speed.
func bestOf(f func(), budget time.Duration) time.Duration {
	f()
	reps := 1
	for {
		t0 := time.Now()
		for i := 0; i < reps; i++ {
			f()
		}
		if time.Since(t0) > 200*time.Microsecond {
			break
		}
		reps *= 2
	}
	best := time.Duration(1 << 62)
	deadline := time.Now().Add(budget)
	for time.Now().Before(deadline) {
		t0 := time.Now()
		for i := 0; i < reps; i++ {
			f()
		}
		best = min(best, time.Since(t0)/time.Duration(reps))
	}
	return best
}

// TestMeasure prints best-of GFLOP/s for the MLP shapes (set
// FLOWGRAD_MEASURE=1; FLOWGRAD_MEASURE_FILTER selects shapes). A tuning
// aid for noisy machines, not a benchmark.
func TestMeasure(t *testing.T) {
	if os.Getenv("FLOWGRAD_MEASURE") == "" {
		t.Skip("set FLOWGRAD_MEASURE=1")
	}
	filter := os.Getenv("FLOWGRAD_MEASURE_FILTER")
	impls := append(Available(), "gonum")
	if s := os.Getenv("FLOWGRAD_MEASURE_IMPLS"); s != "" {
		impls = strings.Split(s, ",")
	}
	for _, l := range mlpLayers {
		in, out := l[0], l[1]
		for _, op := range []string{"XW", "XtdY", "dYWt"} {
			for _, bs := range benchBatches {
				name := fmt.Sprintf("%s_%dx%d/B=%d", op, in, out, bs)
				if filter != "" && !strings.Contains(name, filter) {
					continue
				}
				line := fmt.Sprintf("%-22s P=%d", name, runtime.GOMAXPROCS(0))
				for _, impl := range impls {
					f := mlpOp(impl, op, bs, in, out)
					var restore func()
					if impl != "gonum" {
						restore, _ = ForcePath(impl)
					}
					d := bestOf(f, 300*time.Millisecond)
					if restore != nil {
						restore()
					}
					line += fmt.Sprintf("  %s %6.1f", impl, 2*float64(bs*in*out)/d.Seconds()/1e9)
				}
				fmt.Println(line)
			}
		}
	}
}

func mlpOp(impl, op string, bs, in, out int) func() {
	rng := rand.New(rand.NewPCG(1, 1))
	x := randSlice(rng, bs*in)
	w := randSlice(rng, in*out)
	dy := randSlice(rng, bs*out)
	sgemm := Implementation{}.Sgemm
	if impl == "gonum" {
		sgemm = gonum.Implementation{}.Sgemm
	}
	switch op {
	case "XW":
		c := make([]float32, bs*out)
		return func() { sgemm(blas.NoTrans, blas.NoTrans, bs, out, in, 1, x, in, w, out, 0, c, out) }
	case "XtdY":
		c := make([]float32, in*out)
		return func() { sgemm(blas.Trans, blas.NoTrans, in, out, bs, 1, x, in, dy, out, 0, c, out) }
	}
	c := make([]float32, bs*in)
	return func() { sgemm(blas.NoTrans, blas.Trans, bs, in, out, 1, dy, out, w, out, 0, c, in) }
}

// TestMeasureThreshold prints best-of times of products near the parallel
// threshold, serial and split (set FLOWGRAD_MEASURE=1).
func TestMeasureThreshold(t *testing.T) {
	if os.Getenv("FLOWGRAD_MEASURE") == "" {
		t.Skip("set FLOWGRAD_MEASURE=1")
	}
	defer func(a, b int) { parMin, chunkMin = a, b }(parMin, chunkMin)
	for _, op := range []string{"XW", "XtdY", "dYWt"} {
		for _, bs := range []int{2, 4, 8, 16, 32, 64} {
			f := mlpOp("", op, bs, 256, 256)
			parMin = 1 << 40
			serial := bestOf(f, 200*time.Millisecond)
			parMin, chunkMin = 1, 1<<16
			split := bestOf(f, 200*time.Millisecond)
			fmt.Printf("%-5s 256x256 B=%-3d MACs=%8d serial %7.2fµs split %7.2fµs ratio %.2f\n", op, bs, bs*256*256,
				serial.Seconds()*1e6, split.Seconds()*1e6, serial.Seconds()/split.Seconds())
		}
	}
}

// TestMeasureSharing prints average and best-of GFLOP/s of products run
// serially and shared with the pool, alternately (set FLOWGRAD_MEASURE=1).
func TestMeasureSharing(t *testing.T) {
	if os.Getenv("FLOWGRAD_MEASURE") == "" {
		t.Skip("set FLOWGRAD_MEASURE=1")
	}
	defer func(a int) { parMin = a }(parMin)
	for _, c := range []struct {
		op          string
		bs, in, out int
	}{{"XW", 20, 784, 256}, {"XW", 100, 784, 256}, {"dYWt", 20, 784, 256}, {"dYWt", 100, 784, 256}, {"XW", 1000, 784, 256}} {
		f := mlpOp("", c.op, c.bs, c.in, c.out)
		fl := 2 * float64(c.bs*c.in*c.out)
		line := fmt.Sprintf("%s B=%d", c.op, c.bs)
		for i := 0; i < 4; i++ {
			par := i%2 == 1
			if par {
				parMin = 1 << 20
			} else {
				parMin = 1 << 40
			}
			n := 0
			t0 := time.Now()
			for time.Since(t0) < 300*time.Millisecond {
				f()
				n++
			}
			avg := time.Since(t0) / time.Duration(n)
			best := bestOf(f, 200*time.Millisecond)
			line += fmt.Sprintf(" | par=%v avg %.0f best %.0f", par, fl/avg.Seconds()/1e9, fl/best.Seconds()/1e9)
		}
		fmt.Println(line)
	}
}
