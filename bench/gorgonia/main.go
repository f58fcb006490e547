// Command gorgonia measures the training throughput of flowgrad's standard
// workload written with Gorgonia v0.9.18 (gorgonia.org/gorgonia), so that
// flowgrad's bench command can compare the two in one run.
//
// It lives in its own Go module so that the flowgrad library never depends
// on Gorgonia. The workload is the one of flowgrad's DESIGN.md: MLP
// 784-256-256-10 with ReLU, float32, inputs pixel/255, softmax cross-entropy
// averaged over the batch, SGD at rate 0.05 with momentum 0.9 (Gorgonia's
// Momentum solver, c ← 0.9c − 0.05g, w ← w + c: heavy ball at a constant
// rate), real MNIST. Throughput is training examples per second over one pass
// (B = 1: the first 10 000 examples), timing only the forward, backward and
// update (TapeMachine.RunAll, Solver.Step, TapeMachine.Reset), after a short
// warm-up. Allocations per step come from runtime.MemStats deltas over the
// timed steps.
//
//	go run . -data DIR [-batches 1,10,100,1000] [-threads 2]
//
// DIR holds MNIST's train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz
// (flowgrad's bench passes the folder data.FindMNIST found). Every result
// is one JSON object per line on standard output. Exit status: 0 on
// success, 1 when the data or Gorgonia fails, 2 for bad flags.
package main

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Result is one measurement, written as a JSON line.
type Result struct {
	Batch         int      `json:"batch"`
	Threads       int      `json:"threads"`
	Examples      int      `json:"examples"`
	Steps         int      `json:"steps"`
	Seconds       float64  `json:"seconds"`
	ExamplesPerS  float64  `json:"examples_per_s"`
	AllocsPerStep float64  `json:"allocs_per_step"`
	BytesPerStep  float64  `json:"bytes_per_step"`
	FinalLoss     *float64 `json:"final_loss,omitempty"` // nil if not finite
	NaNStep       int      `json:"nan_step,omitempty"`   // first timed step whose loss was not finite
	Gorgonia      string   `json:"gorgonia"`
	GoVersion     string   `json:"go"`
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gorgonia", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("data", "", "folder holding train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz (required)")
	batches := fs.String("batches", "1,10,100,1000", "comma-separated batch sizes B")
	threads := fs.Int("threads", runtime.GOMAXPROCS(0), "GOMAXPROCS for the measurement")
	online := fs.Int("online-examples", 10000, "examples timed at B = 1 (the standard workload: the first 10 000)")
	maxEx := fs.Int("max-examples", 60000, "examples timed at B > 1 (one pass of MNIST: 60000)")
	warm := fs.Int("warmup", 5, "untimed warm-up steps")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	bs, err := parseInts(*batches)
	if err != nil || *threads < 1 || *online < 1 || *maxEx < 1 || *warm < 0 || fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gorgonia: bad flags (batches %q: %v; threads %d)\n", *batches, err, *threads)
		return 2
	}
	if *dir == "" {
		fmt.Fprintln(stderr, "gorgonia: -data DIR is required (the folder with MNIST's .gz IDX files)")
		return 2
	}
	runtime.GOMAXPROCS(*threads)
	x, y, err := loadMNIST(*dir)
	if err != nil {
		fmt.Fprintln(stderr, "gorgonia:", err)
		return 1
	}
	enc := json.NewEncoder(stdout)
	for _, b := range bs {
		n := *maxEx
		if b == 1 {
			n = *online
		}
		n = min(n, len(y))
		if b > n {
			fmt.Fprintf(stderr, "gorgonia: batch size %d exceeds the %d examples timed\n", b, n)
			return 2
		}
		r, err := measure(x, y, b, n, *warm)
		if err != nil {
			fmt.Fprintf(stderr, "gorgonia: B=%d: %v\n", b, err)
			return 1
		}
		r.Threads = runtime.GOMAXPROCS(0)
		if err := enc.Encode(r); err != nil {
			fmt.Fprintln(stderr, "gorgonia:", err)
			return 1
		}
	}
	return 0
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 1 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, v)
	}
	return out, nil
}

// mlp is the standard workload's network as a Gorgonia graph for batches
// of b examples.
type mlp struct {
	g      *G.ExprGraph
	x, y   *G.Node
	loss   *G.Node
	params G.Nodes
	vm     G.VM
	solver G.Solver
	xT, yT *tensor.Dense
	lossV  G.Value
}

func newMLP(b int, rng *rand.Rand) (*mlp, error) {
	m := &mlp{g: G.NewGraph()}
	m.x = G.NewMatrix(m.g, tensor.Float32, G.WithShape(b, 784), G.WithName("x"))
	m.y = G.NewMatrix(m.g, tensor.Float32, G.WithShape(b, 10), G.WithName("y"))
	sizes := []int{784, 256, 256, 10}
	h := m.x
	for i := 0; i+1 < len(sizes); i++ {
		w := G.NewMatrix(m.g, tensor.Float32, G.WithShape(sizes[i], sizes[i+1]),
			G.WithName(fmt.Sprintf("w%d", i+1)), G.WithValue(heNormal(rng, sizes[i], sizes[i+1])))
		bias := G.NewMatrix(m.g, tensor.Float32, G.WithShape(1, sizes[i+1]),
			G.WithName(fmt.Sprintf("b%d", i+1)), G.WithInit(G.Zeroes()))
		m.params = append(m.params, w, bias)
		xw, err := G.Mul(h, w)
		if err != nil {
			return nil, err
		}
		if h, err = G.BroadcastAdd(xw, bias, nil, []byte{0}); err != nil {
			return nil, err
		}
		if i+2 < len(sizes) {
			if h, err = G.Rectify(h); err != nil {
				return nil, err
			}
		}
	}
	// Softmax cross-entropy averaged over the batch: −Σ y∘log softmax(h) / b.
	logp, err := G.LogSoftMax(h)
	if err != nil {
		return nil, err
	}
	prod, err := G.HadamardProd(m.y, logp)
	if err != nil {
		return nil, err
	}
	sum, err := G.Sum(prod)
	if err != nil {
		return nil, err
	}
	if m.loss, err = G.Div(sum, G.NewConstant(float32(-b))); err != nil {
		return nil, err
	}
	G.Read(m.loss, &m.lossV)
	if _, err = G.Grad(m.loss, m.params...); err != nil {
		return nil, err
	}
	m.vm = G.NewTapeMachine(m.g, G.BindDualValues(m.params...))
	m.solver = G.NewMomentum(G.WithLearnRate(0.05), G.WithMomentum(0.9))
	m.xT = tensor.New(tensor.WithShape(b, 784), tensor.Of(tensor.Float32))
	m.yT = tensor.New(tensor.WithShape(b, 10), tensor.Of(tensor.Float32))
	if err := G.Let(m.x, m.xT); err != nil {
		return nil, err
	}
	if err := G.Let(m.y, m.yT); err != nil {
		return nil, err
	}
	return m, nil
}

// heNormal returns an in×out matrix of He-normal weights, N(0, 2/in), as
// flowgrad's layers.MLP draws them (Gorgonia's HeN is not implemented for
// float32 in v0.9.18).
func heNormal(rng *rand.Rand, in, out int) *tensor.Dense {
	w := make([]float32, in*out)
	sd := math.Sqrt(2 / float64(in))
	for i := range w {
		w[i] = float32(rng.NormFloat64() * sd)
	}
	return tensor.New(tensor.WithShape(in, out), tensor.WithBacking(w))
}

// fill copies examples idx[lo:lo+b] into the input tensors (pixel/255 and
// one-hot labels).
func (m *mlp) fill(x []uint8, y []uint8, idx []int) {
	xs := m.xT.Data().([]float32)
	ys := m.yT.Data().([]float32)
	clear(ys)
	for r, i := range idx {
		row := xs[r*784 : (r+1)*784]
		for j, p := range x[i*784 : (i+1)*784] {
			row[j] = float32(p) / 255
		}
		ys[r*10+int(y[i])] = 1
	}
}

// step runs forward, backward and the momentum update.
func (m *mlp) step() error {
	if err := m.vm.RunAll(); err != nil {
		return err
	}
	if err := m.solver.Step(G.NodesToValueGrads(m.params)); err != nil {
		return err
	}
	m.vm.Reset()
	return nil
}

func (m *mlp) close() { m.vm.Close() }

// measure trains one pass over the first n examples (shuffled from a
// fixed seed) in batches of b, after warm untimed steps.
func measure(x, y []uint8, b, n, warm int) (Result, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	m, err := newMLP(b, rng)
	if err != nil {
		return Result{}, fmt.Errorf("building the graph: %w", err)
	}
	defer m.close()
	perm := rng.Perm(n)
	for i := 0; i < warm; i++ {
		m.fill(x, y, perm[(i*b)%(n-b+1):][:b])
		if err := m.step(); err != nil {
			return Result{}, fmt.Errorf("warm-up: %w", err)
		}
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var elapsed time.Duration
	steps, examples, nanStep := 0, 0, 0
	for lo := 0; lo+b <= n; lo += b {
		m.fill(x, y, perm[lo:lo+b])
		t0 := time.Now()
		if err := m.step(); err != nil {
			return Result{}, fmt.Errorf("step %d: %w", steps+1, err)
		}
		elapsed += time.Since(t0)
		steps++
		examples += b
		if l, ok := m.lossV.Data().(float32); nanStep == 0 && (!ok || math.IsNaN(float64(l)) || math.IsInf(float64(l), 0)) {
			nanStep = steps
		}
	}
	runtime.ReadMemStats(&after)
	var final *float64
	if l, ok := m.lossV.Data().(float32); ok && nanStep == 0 {
		f := float64(l)
		final = &f
	}
	return Result{
		Batch:         b,
		Examples:      examples,
		Steps:         steps,
		Seconds:       elapsed.Seconds(),
		ExamplesPerS:  float64(examples) / elapsed.Seconds(),
		AllocsPerStep: float64(after.Mallocs-before.Mallocs) / float64(steps),
		BytesPerStep:  float64(after.TotalAlloc-before.TotalAlloc) / float64(steps),
		FinalLoss:     final,
		NaNStep:       nanStep,
		Gorgonia:      moduleVersion("gorgonia.org/gorgonia"),
		GoVersion:     runtime.Version(),
	}, nil
}

func moduleVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == path {
				return d.Version
			}
		}
	}
	return "unknown"
}

// loadMNIST reads MNIST's training images and labels from dir.
func loadMNIST(dir string) (x, y []uint8, err error) {
	x, dims, err := readIDX(filepath.Join(dir, "train-images-idx3-ubyte.gz"), 0x803)
	if err != nil {
		return nil, nil, err
	}
	if len(dims) != 3 || dims[1]*dims[2] != 784 {
		return nil, nil, fmt.Errorf("train images: dimensions %v, want N×28×28", dims)
	}
	y, _, err = readIDX(filepath.Join(dir, "train-labels-idx1-ubyte.gz"), 0x801)
	if err != nil {
		return nil, nil, err
	}
	if len(y) != dims[0] {
		return nil, nil, fmt.Errorf("%d images but %d labels", dims[0], len(y))
	}
	for i, l := range y {
		if l > 9 {
			return nil, nil, fmt.Errorf("label %d of example %d is not in 0..9", l, i)
		}
	}
	return x, y, nil
}

// readIDX reads a gzipped IDX file of unsigned bytes with the given magic.
func readIDX(path string, magic uint32) ([]uint8, []int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	var m uint32
	if err := binary.Read(zr, binary.BigEndian, &m); err != nil {
		return nil, nil, fmt.Errorf("%s: header: %w", path, err)
	}
	if m != magic {
		return nil, nil, fmt.Errorf("%s: magic %#x, want %#x", path, m, magic)
	}
	dims := make([]int, magic&0xff)
	size := 1
	for i := range dims {
		var d uint32
		if err := binary.Read(zr, binary.BigEndian, &d); err != nil {
			return nil, nil, fmt.Errorf("%s: header: %w", path, err)
		}
		dims[i] = int(d)
		size *= int(d)
	}
	if size < 1 || size > 1<<30 {
		return nil, nil, fmt.Errorf("%s: bad dimensions %v", path, dims)
	}
	buf := make([]uint8, size)
	if _, err := io.ReadFull(zr, buf); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, nil, fmt.Errorf("%s: truncated", path)
		}
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return buf, dims, nil
}
