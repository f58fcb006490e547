package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowgrad/flowgrad/optim"
)

// Section names, in the order the report presents them.
const (
	secGemm        = "gemm"
	secThroughput  = "throughput"
	secConvergence = "convergence"
	secGorgonia    = "gorgonia"
	secPyTorch     = "pytorch"
)

var allSections = []string{secGemm, secThroughput, secConvergence, secGorgonia, secPyTorch}

// runOrder is the order the sections run in: Gorgonia and PyTorch right
// after flowgrad's throughput, so that they are compared at nearly the same
// time on a shared machine.
var runOrder = []string{secGemm, secThroughput, secGorgonia, secPyTorch, secConvergence}

// Mode names.
const (
	modeQuick   = "quick"
	modeDefault = "default"
	modeFull    = "full"
)

// config is the command's flags, parsed and checked, with the grids of the
// chosen mode filled in.
type config struct {
	out      string
	mode     string
	sections []string
	dataDir  string
	seed     uint64
	gorgDir  string // the nested Gorgonia module; "" = find it

	// Section 1: matrix×matrix against B vector×matrix products.
	gemmBatches []int
	gemmPaths   []string // kernel paths to try; unavailable ones are reported
	gemmThreads []int
	gemmMinTime time.Duration // per timed repetition
	gemmReps    int

	// Section 2: training throughput.
	tpBatches     []int
	tpThreads     []int
	tpFraction    float64 // of the standard pass timed (1 in default and full)
	tpWarmup      int     // untimed steps
	tpAllocsRuns  int
	tpLargePasses int // passes timed when a pass has fewer than 10 steps

	// Section 3: convergence against B.
	convBatches   []int
	convForms     []optim.MomentumForm
	convSchedules []string // "constant", "invtime"
	convRateMults []float64
	convTuneEx    int           // examples per tuning run
	convMaxEpochs float64       // per run
	convMaxTime   time.Duration // training wall time per run
	convEvalEvery int           // examples between test evaluations
	convStop      float64       // a run stops once test accuracy reaches it
	convTauEpochs float64       // τ of InverseTime, in epochs' worth of steps

	// Section 4: Gorgonia.
	gorgBatches   []int
	gorgThreads   []int
	gorgOnlineEx  int // examples timed at B = 1
	gorgMaxEx     int // examples timed at B > 1
	gorgTimeLimit time.Duration

	// Section 5: flowgrad and PyTorch side by side (see pytorch.go).
	ptBatches   []int
	ptThreads   []int
	ptReps      int     // fresh processes per side and thread count; the best is kept
	ptPasses    int     // timed passes per process; the median is kept
	ptWarmup    int     // untimed steps (at most 20000/B)
	ptFraction  float64 // of the standard pass timed (1 in default and full)
	ptPython    string  // the Python interpreter with torch
	ptLibs      string  // prepended to LD_LIBRARY_PATH for Python, if it exists
	ptTimeLimit time.Duration

	// worker runs one GEMM measurement child (internal; see gemm.go).
	worker string
	// stepWorker, if positive, runs flowgrad's side of section 5 in this
	// process at that many threads (internal; see pytorch.go).
	stepWorker int
}

// usageError is a bad flag: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// parseFlags parses args into a config. Errors are usageErrors (exit 2),
// flag.ErrHelp for -h.
func parseFlags(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `bench writes flowgrad's batch-size report: markdown, CSV and PNG plots.

	go run ./bench [-out DIR] [-quick | -full] [-only SECTIONS] [flags]

Sections: gemm (one B×784·784×256 product against B 1×784 products, per
kernel path), throughput (examples/s and allocations per step against B on 1
and 2 threads), convergence (test accuracy against examples and wall time per
B, momentum form and schedule; which B reaches 97 %% / 98 %% first), gorgonia
(the same MLP in Gorgonia v0.9.18, from the nested module bench/gorgonia),
pytorch (flowgrad and PyTorch side by side in fresh processes, when Python
can import torch).

Flags:
`)
		fs.PrintDefaults()
	}
	c := &config{}
	fs.StringVar(&c.out, "out", "bench-report", "report directory (created; existing files in it are replaced)")
	quick := fs.Bool("quick", false, "small grids and short runs (about a minute)")
	full := fs.Bool("full", false, "larger grids and longer runs (about 35 minutes)")
	only := fs.String("only", "", "comma-separated sections to run: "+strings.Join(allSections, ", ")+" (default all)")
	fs.StringVar(&c.dataDir, "data", "", "folder with the MNIST IDX files (default: find them, see data.LoadMNIST)")
	fs.Uint64Var(&c.seed, "seed", 1, "random seed for weights and shuffling")
	fs.StringVar(&c.gorgDir, "gorgonia-dir", "", "folder of the Gorgonia module (default: bench/gorgonia of this module)")
	convBatches := fs.String("conv-batches", "", "override the convergence section's batch sizes, e.g. 10,50,100,500")
	convForms := fs.String("conv-forms", "", "override its momentum forms: none, ema, heavyball, nesterov")
	convScheds := fs.String("conv-schedules", "", "override its schedules: constant, invtime")
	convTime := fs.Duration("conv-time", 0, "override its training wall-time limit per run (e.g. 10s)")
	fs.StringVar(&c.ptPython, "python", "/usr/bin/python3", "Python interpreter with torch for the pytorch section (skipped with a note if it cannot import torch)")
	fs.StringVar(&c.ptLibs, "pytorch-libs", "/usr/lib/x86_64-linux-gnu/openblas-openmp", "folder prepended to LD_LIBRARY_PATH for Python when it exists (Debian's torch takes its float32 BLAS from there; \"\" for none)")
	fs.StringVar(&c.worker, "gemm-worker", "", "internal: run the GEMM measurement in this process for the named kernel path")
	fs.IntVar(&c.stepWorker, "step-worker", 0, "internal: time flowgrad's side of the pytorch section in this process at this many threads")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil, err
		}
		return nil, usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return nil, usagef("unexpected arguments %q", fs.Args())
	}
	switch {
	case *quick && *full:
		return nil, usagef("-quick and -full exclude each other")
	case *quick:
		c.mode = modeQuick
	case *full:
		c.mode = modeFull
	default:
		c.mode = modeDefault
	}
	c.setMode()
	var err error
	if c.sections, err = parseSections(*only); err != nil {
		return nil, err
	}
	if c.stepWorker < 0 {
		return nil, usagef("-step-worker %d: want a positive thread count", c.stepWorker)
	}
	if c.out == "" && c.worker == "" {
		return nil, usagef("-out must name a directory")
	}
	if *convBatches != "" {
		if c.convBatches, err = parseInts(*convBatches); err != nil {
			return nil, usagef("-conv-batches: %v", err)
		}
		for _, b := range c.convBatches {
			if b > 60000 {
				return nil, usagef("-conv-batches: %d exceeds MNIST's 60000 training examples", b)
			}
		}
	}
	if *convForms != "" {
		c.convForms = nil
		for _, f := range splitList(*convForms) {
			form, err := optim.ParseMomentumForm(f)
			if err != nil {
				return nil, usagef("-conv-forms: %v", err)
			}
			c.convForms = append(c.convForms, form)
		}
	}
	if *convScheds != "" {
		c.convSchedules = splitList(*convScheds)
		for _, s := range c.convSchedules {
			if s != "constant" && s != "invtime" {
				return nil, usagef("-conv-schedules: unknown schedule %q (want constant or invtime)", s)
			}
		}
	}
	if *convTime < 0 {
		return nil, usagef("-conv-time: %v is negative", *convTime)
	}
	if *convTime > 0 {
		c.convMaxTime = *convTime
	}
	return c, nil
}

// setMode fills the grids of c.mode.
func (c *config) setMode() {
	c.gemmBatches = []int{1, 10, 20, 100, 1000}
	c.gemmPaths = []string{"avx512", "avx2", "generic", "gonum"}
	c.gemmThreads = []int{1, 2}
	c.gemmMinTime = 10 * time.Millisecond
	c.gemmReps = 11

	c.tpBatches = []int{1, 10, 20, 50, 100, 256, 500, 1000, 60000}
	c.tpThreads = []int{1, 2}
	c.tpFraction = 1
	c.tpWarmup = 10
	c.tpAllocsRuns = 5
	c.tpLargePasses = 3

	c.convBatches = []int{10, 50, 100, 500}
	c.convForms = []optim.MomentumForm{optim.None, optim.EMA, optim.HeavyBall, optim.Nesterov}
	c.convSchedules = []string{"constant", "invtime"}
	c.convRateMults = []float64{0.25, 0.5, 1, 2}
	c.convTuneEx = 15000
	c.convMaxEpochs = 10
	c.convMaxTime = 8 * time.Second
	c.convEvalEvery = 12000
	c.convStop = 0.98
	c.convTauEpochs = 1

	c.gorgBatches = []int{1, 10, 100, 1000}
	c.gorgThreads = []int{1, 2}
	c.gorgOnlineEx = 2000
	c.gorgMaxEx = 10000
	c.gorgTimeLimit = 4 * time.Minute

	c.ptBatches = []int{1, 10, 100, 256, 1000}
	c.ptThreads = []int{1, 2}
	c.ptReps = 2
	c.ptPasses = 2
	c.ptWarmup = 10
	c.ptFraction = 1
	c.ptTimeLimit = 12 * time.Minute

	switch c.mode {
	case modeQuick:
		c.gemmBatches = []int{1, 10, 100, 1000}
		c.gemmThreads = []int{2}
		c.gemmMinTime = 5 * time.Millisecond
		c.gemmReps = 5
		c.tpBatches = []int{1, 10, 100, 1000}
		c.tpThreads = []int{1, 2}
		c.tpFraction = 0.25
		c.tpAllocsRuns = 2
		c.convBatches = []int{20, 100, 500}
		c.convForms = []optim.MomentumForm{optim.None, optim.HeavyBall}
		c.convRateMults = []float64{1, 2}
		c.convTuneEx = 6000
		c.convMaxEpochs = 2
		c.convMaxTime = 2 * time.Second
		c.convEvalEvery = 6000
		c.gorgBatches = []int{10, 100}
		c.gorgThreads = []int{2}
		c.gorgOnlineEx = 500
		c.gorgMaxEx = 5000
		c.ptBatches = []int{1, 100, 1000}
		c.ptReps = 1
		c.ptPasses = 1
		c.ptFraction = 0.1
	case modeFull:
		c.gemmReps = 21
		c.gemmMinTime = 20 * time.Millisecond
		c.convBatches = []int{10, 20, 50, 100, 200, 500, 1000}
		c.convRateMults = []float64{0.125, 0.25, 0.5, 1, 2, 4}
		c.convTuneEx = 30000
		c.convMaxEpochs = 20
		c.convMaxTime = 25 * time.Second
		c.convEvalEvery = 6000
		c.gorgOnlineEx = 10000
		c.gorgMaxEx = 60000
		c.gorgTimeLimit = 15 * time.Minute
	}
}

func (c *config) has(section string) bool { return slices.Contains(c.sections, section) }

// parseSections parses the -only list; "" means every section.
func parseSections(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return slices.Clone(allSections), nil
	}
	var out []string
	for _, f := range splitList(s) {
		if !slices.Contains(allSections, f) {
			return nil, usagef("-only: unknown section %q (want %s)", f, strings.Join(allSections, ", "))
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return nil, usagef("-only: no sections in %q", s)
	}
	return out, nil
}

// splitList splits a comma-separated list, trimming spaces and dropping
// empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// parseInts parses a comma-separated list of positive integers.
func parseInts(s string) ([]int, error) {
	items := splitList(s)
	if len(items) == 0 {
		return nil, fmt.Errorf("empty list %q", s)
	}
	var out []int
	for _, f := range items {
		v, err := strconv.Atoi(f)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, v)
	}
	return out, nil
}

// joinInts formats xs as a comma-separated list.
func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}
