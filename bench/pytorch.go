package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowgrad/flowgrad/data"
)

// Section 5: flowgrad and PyTorch side by side on the standard workload,
// in one run and by one protocol. Each side runs in fresh processes — the
// bench binary re-executed with -step-worker, and Python with the script
// bench/pytorch/step.py (embedded in the binary) — once per thread count,
// alternating flowgrad, PyTorch, flowgrad, … so that drifts of a shared
// machine hit both alike; c.ptReps rounds of that, and each side keeps its
// best process. In every process each B gets warm-up steps and
// c.ptPasses timed passes (the median is kept), timing the step only:
// forward, loss, backward, update, with the minibatch gathered and
// converted to float32 beforehand. The real MNIST training set reaches
// Python as raw uint8 files in a temporary folder; the script converts the
// pixels to float32 /255 once, before timing (the same correctly rounded
// values as flowgrad's batches).
//
// Debian's python3-torch takes its float32 matrix products from the system
// BLAS, the slow reference BLAS unless OpenBLAS is selected through
// LD_LIBRARY_PATH (c.ptLibs); OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are
// removed from Python's environment so OpenBLAS tunes itself to the CPU.
// With two threads both sides meet the VM's slow phases, while the host
// places its two vCPUs far apart (docs/benchmarks.md, "The slow phase"):
// hence fresh processes, alternating, and the best of them.

//go:embed pytorch/step.py
var stepScript []byte

// ptMaxPass ends a PyTorch pass early: with two threads on a crowded
// machine PyTorch was seen at 27–39 examples/s at B = 1 (OpenMP threads
// spinning against other jobs), which would make a pass run for minutes.
// The rate of the shortened pass still counts, and the report says so.
const ptMaxPass = 6 * time.Second

// sideResult is one (implementation, B, threads) measurement of one
// process, written as a JSON line by either side's worker.
type sideResult struct {
	Impl          string   `json:"impl"` // "flowgrad" or "pytorch"
	Batch         int      `json:"batch"`
	Threads       int      `json:"threads"`
	Examples      int      `json:"examples"` // per pass
	Steps         int      `json:"steps"`    // per pass
	Passes        int      `json:"passes"`
	Seconds       float64  `json:"seconds"`             // the median pass, in steps only
	Truncated     bool     `json:"truncated,omitempty"` // PyTorch: a pass ended early (see step.py)
	ExamplesPerS  float64  `json:"examples_per_s"`
	MedianStepSec float64  `json:"median_step_s"`
	FinalLoss     *float64 `json:"final_loss"`
	Version       string   `json:"version"`
	BLAS          string   `json:"blas,omitempty"` // PyTorch: the BLAS library its process loaded
	Process       int      `json:"-"`              // 1, 2, …: the round that measured it
}

// ptReport is section 5's outcome: results, or why there are none.
type ptReport struct {
	Python  string
	Skipped string // non-empty: PyTorch is not available here, and why
	Failure string // non-empty: a PyTorch process failed, and how
	Results []sideResult
}

// pythonEnv returns env for the Python processes: OPENBLAS_CORETYPE and
// OPENBLAS_L2_SIZE removed, libs (if not "") put first in LD_LIBRARY_PATH,
// and OMP_NUM_THREADS set to threads (if positive).
func pythonEnv(env []string, libs string, threads int) []string {
	var out []string
	ld := ""
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS":
			continue
		case "LD_LIBRARY_PATH":
			ld = v
			continue
		}
		out = append(out, kv)
	}
	if libs != "" {
		if ld == "" {
			ld = libs
		} else {
			ld = libs + ":" + ld
		}
	}
	if ld != "" {
		out = append(out, "LD_LIBRARY_PATH="+ld)
	}
	if threads > 0 {
		out = append(out, "OMP_NUM_THREADS="+strconv.Itoa(threads))
	}
	return out
}

// libsFolder returns c.ptLibs if that folder exists, else "".
func libsFolder(c *config) string {
	if c.ptLibs == "" {
		return ""
	}
	if st, err := os.Stat(c.ptLibs); err != nil || !st.IsDir() {
		return ""
	}
	return c.ptLibs
}

// checkTorch reports why c.ptPython cannot import torch ("" if it can).
func checkTorch(ctx context.Context, c *config) string {
	cmd := exec.CommandContext(ctx, c.ptPython, "-c", "import torch")
	cmd.Env = pythonEnv(os.Environ(), libsFolder(c), 1)
	out, err := cmd.CombinedOutput()
	if err == nil {
		return ""
	}
	msg := fmt.Sprintf("`%s -c 'import torch'` failed (%v)", c.ptPython, err)
	if t := strings.TrimSpace(tail(string(out), 3)); t != "" {
		msg += ": " + t
	}
	return msg
}

// runPyTorch measures section 5. A PyTorch that is missing or fails is
// reported in the result, not returned: only cancellation and failures of
// flowgrad's own worker are errors.
func runPyTorch(ctx context.Context, c *config, trainSet *data.Dataset, mnistDir string, stderr io.Writer) (*ptReport, error) {
	rep := &ptReport{Python: c.ptPython}
	ctx, cancel := context.WithTimeout(ctx, c.ptTimeLimit)
	defer cancel()
	if why := checkTorch(ctx, c); why != "" {
		if errors.Is(ctx.Err(), context.Canceled) {
			return nil, ctx.Err()
		}
		rep.Skipped = why
		fmt.Fprintf(stderr, "bench: pytorch: skipped: %s\n", why)
		return rep, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("pytorch: cannot find the bench binary to re-execute: %w", err)
	}
	tmp, err := os.MkdirTemp("", "flowgrad-bench-pytorch")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	script, images, labels := filepath.Join(tmp, "step.py"), filepath.Join(tmp, "images.u8"), filepath.Join(tmp, "labels.u8")
	if err := writeMNISTRaw(trainSet, images, labels); err != nil {
		return nil, fmt.Errorf("pytorch: %w", err)
	}
	if err := os.WriteFile(script, stepScript, 0o644); err != nil {
		return nil, fmt.Errorf("pytorch: %w", err)
	}
	online := int(math.Ceil(c.ptFraction * 10000))
	maxEx := int(math.Ceil(c.ptFraction * float64(trainSet.Len())))
	for round := 1; round <= c.ptReps; round++ {
		for _, th := range c.ptThreads {
			fmt.Fprintf(stderr, "bench: pytorch: round %d, %s: flowgrad …\n", round, threads(th))
			args := []string{"-step-worker", strconv.Itoa(th), "-data", mnistDir, "-seed", strconv.FormatUint(c.seed, 10)}
			if c.mode == modeQuick {
				args = append(args, "-quick")
			} else if c.mode == modeFull {
				args = append(args, "-full")
			}
			rs, err := runWorker(ctx, exe, args, os.Environ(), stderr)
			if err != nil {
				if ctx.Err() != nil {
					return nil, fmt.Errorf("pytorch: flowgrad's worker: %w", ctx.Err())
				}
				return nil, fmt.Errorf("pytorch: flowgrad's worker (%s): %w", threads(th), err)
			}
			rep.add(rs, round)

			fmt.Fprintf(stderr, "bench: pytorch: round %d, %s: PyTorch …\n", round, threads(th))
			args = []string{script, "--images", images, "--labels", labels, "--n", strconv.Itoa(trainSet.Len()),
				"--batches", joinInts(c.ptBatches), "--threads", strconv.Itoa(th),
				"--online-examples", strconv.Itoa(online), "--max-examples", strconv.Itoa(maxEx),
				"--warmup", strconv.Itoa(c.ptWarmup), "--passes", strconv.Itoa(c.ptPasses), "--seed", strconv.FormatUint(c.seed, 10),
				"--max-pass-seconds", strconv.FormatFloat(ptMaxPass.Seconds(), 'g', -1, 64)}
			rs, err = runWorker(ctx, c.ptPython, args, pythonEnv(os.Environ(), libsFolder(c), th), io.Discard)
			rep.add(rs, round)
			if err != nil {
				if errors.Is(ctx.Err(), context.Canceled) {
					return nil, ctx.Err()
				}
				rep.Failure = fmt.Sprintf("the PyTorch process (%s, round %d) failed: %v", threads(th), round, err)
				return rep, nil
			}
		}
	}
	return rep, nil
}

func (rep *ptReport) add(rs []sideResult, round int) {
	for _, r := range rs {
		r.Process = round
		rep.Results = append(rep.Results, r)
	}
}

// runWorker runs name with args and env and decodes its JSON lines; the
// error carries the tail of its standard error.
func runWorker(ctx context.Context, name string, args, env []string, stderr io.Writer) ([]sideResult, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	var out, errOut bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = io.MultiWriter(&errOut, stderr)
	runErr := cmd.Run()
	rs, perr := decodeJSONLines[sideResult](&out)
	if runErr != nil {
		return rs, fmt.Errorf("%v: %s", runErr, tail(errOut.String(), 10))
	}
	return rs, perr
}

// writeMNISTRaw writes ds's pixels (N×784 bytes) and labels (N bytes) as
// raw files.
func writeMNISTRaw(ds *data.Dataset, images, labels string) error {
	if !ds.IsImages() || ds.Labels() == nil {
		return errors.New("the training set is not labelled images")
	}
	if err := os.WriteFile(images, ds.Pixels(), 0o644); err != nil {
		return err
	}
	ls := make([]byte, ds.Len())
	for i, l := range ds.Labels() {
		ls[i] = byte(l)
	}
	return os.WriteFile(labels, ls, 0o644)
}

// stepWorker is flowgrad's side of section 5 in a child process: the
// standard workload at c.stepWorker threads for every B of c.ptBatches,
// by the protocol of bench/pytorch/step.py, one JSON line per B on w.
func stepWorker(c *config, trainSet *data.Dataset, w io.Writer) error {
	runtime.GOMAXPROCS(c.stepWorker)
	saved := *c
	saved.tpWarmup = c.ptWarmup
	saved.tpAllocsRuns = 0
	enc := json.NewEncoder(w)
	for _, b := range c.ptBatches {
		r, err := measureThroughput(&saved, trainSet, b, c.ptFraction, c.ptPasses)
		if err != nil {
			return fmt.Errorf("at B = %d: %w", b, err)
		}
		if err := enc.Encode(sideResult{
			Impl: "flowgrad", Batch: b, Threads: runtime.GOMAXPROCS(0),
			Examples: r.Examples, Steps: r.Steps, Passes: r.Passes,
			Seconds: r.Seconds, ExamplesPerS: r.ExamplesPerSecond(), MedianStepSec: r.MedianStepSec,
			Version: "flowgrad " + runtime.Version(),
		}); err != nil {
			return err
		}
	}
	return nil
}

// bestSide returns, for impl at B on th threads, the result of the fastest
// process (ok false if none measured it).
func bestSide(rs []sideResult, impl string, b, th int) (best sideResult, ok bool) {
	for _, r := range rs {
		if r.Impl == impl && r.Batch == b && r.Threads == th && (!ok || r.ExamplesPerS > best.ExamplesPerS) {
			best, ok = r, true
		}
	}
	return best, ok
}

// bestOverThreads returns impl's best examples/s at B over every thread
// count, and that count (0 if none measured it).
func bestOverThreads(rs []sideResult, impl string, b int) (eps float64, th int) {
	for _, r := range rs {
		if r.Impl == impl && r.Batch == b && r.ExamplesPerS > eps {
			eps, th = r.ExamplesPerS, r.Threads
		}
	}
	return eps, th
}

// bestMedianStep returns impl's best B ÷ median step time at B over every
// process and thread count (0 if none measured it): a rate that bursts of
// other jobs move less than whole passes.
func bestMedianStep(rs []sideResult, impl string, b int) float64 {
	var best float64
	for _, r := range rs {
		if r.Impl == impl && r.Batch == b && r.MedianStepSec > 0 {
			best = math.Max(best, float64(b)/r.MedianStepSec)
		}
	}
	return best
}

// sideTable is section 5's comparison: per B, each side's best process per
// thread count, flowgrad's best over PyTorch's best (each at its best
// thread count), and Gorgonia's best from section 4 where it measured
// that B.
func sideTable(rs []sideResult, ths, batches []int, gorg *gorgReport) *table {
	head := []string{"B"}
	for _, impl := range []string{"flowgrad", "PyTorch"} {
		for _, th := range ths {
			head = append(head, fmt.Sprintf("%s, %s", impl, threads(th)))
		}
	}
	head = append(head, "flowgrad ÷ PyTorch", "same, from median steps", "Gorgonia (best)", "flowgrad ÷ Gorgonia")
	t := newTable(head...)
	for _, b := range batches {
		row := []any{b}
		for _, impl := range []string{"flowgrad", "pytorch"} {
			for _, th := range ths {
				if r, ok := bestSide(rs, impl, b, th); ok {
					row = append(row, r.ExamplesPerS)
				} else {
					row = append(row, "—")
				}
			}
		}
		fg, _ := bestOverThreads(rs, "flowgrad", b)
		pt, _ := bestOverThreads(rs, "pytorch", b)
		row = append(row, ratioCell(fg, pt), ratioCell(bestMedianStep(rs, "flowgrad", b), bestMedianStep(rs, "pytorch", b)))
		g := 0.0
		if gorg != nil {
			for _, r := range gorg.Results {
				if r.Batch == b {
					g = math.Max(g, r.ExamplesPerS)
				}
			}
		}
		if g > 0 {
			row = append(row, g, ratioCell(fg, g))
		} else {
			row = append(row, "—", "—")
		}
		t.add(row...)
	}
	return t
}

// ratioCell formats a/b as "1.23×", or "—" when either is missing.
func ratioCell(a, b float64) string {
	if !(a > 0 && b > 0) {
		return "—"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// sideCSV lists every process's results.
func sideCSV(rs []sideResult) *table {
	t := newTable("impl", "round", "B", "threads", "examples_per_pass", "steps_per_pass", "passes", "median_pass_s", "examples_per_s", "median_step_s", "B_per_median_step", "truncated", "final_loss", "version", "blas")
	for _, r := range rs {
		loss := math.NaN()
		if r.FinalLoss != nil {
			loss = *r.FinalLoss
		}
		perStep := math.NaN()
		if r.MedianStepSec > 0 {
			perStep = float64(r.Batch) / r.MedianStepSec
		}
		t.add(r.Impl, r.Process, r.Batch, r.Threads, r.Examples, r.Steps, r.Passes, r.Seconds, r.ExamplesPerS, r.MedianStepSec, perStep, r.Truncated, loss, r.Version, r.BLAS)
	}
	return t
}

// ptBatchesOf returns the batch sizes of rs in the order they first occur.
func ptBatchesOf(rs []sideResult) []int {
	return distinct(rs, func(r sideResult) int { return r.Batch })
}

// distinct returns key(x) for the xs, each value once, in the order they
// first occur.
func distinct[T any, K comparable](xs []T, key func(T) K) []K {
	var out []K
	for _, x := range xs {
		if k := key(x); !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// sideHeadline is the summary of section 5: flowgrad ÷ PyTorch per B, each
// at its best thread count ("" if no B has both).
func sideHeadline(rs []sideResult, batches []int) string {
	var parts []string
	for _, b := range batches {
		fg, _ := bestOverThreads(rs, "flowgrad", b)
		pt, _ := bestOverThreads(rs, "pytorch", b)
		if fg > 0 && pt > 0 {
			parts = append(parts, fmt.Sprintf("B = %d %s", b, ratioCell(fg, pt)))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, ", ")
}

func reportPyTorch(b *strings.Builder, c *config, res *results) error {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	rep := res.pt
	p("## 5. flowgrad and PyTorch side by side\n\n")
	p("The standard workload in both, by one protocol, in this run: each side in fresh processes, one per thread count, alternating flowgrad, PyTorch, flowgrad, … ")
	p("in %d round(s); each side keeps its fastest process per thread count (with two threads both sides meet the VM's slow phases, while the host places its two vCPUs far apart: see docs/benchmarks.md, \"The slow phase\"). ", c.ptReps)
	p("In every process each B gets up to %d warm-up steps, then %d timed pass(es) over ", c.ptWarmup, c.ptPasses)
	if c.ptFraction < 1 {
		p("**%.0f %% of** ", c.ptFraction*100)
	}
	p("the 60 000 training examples (B = 1: the first 10 000) in a new random order; the median pass gives examples/s. ")
	p("Only the step is timed — forward, loss, backward, update — with each minibatch gathered and converted to float32 before its step starts (flowgrad: `train.Trainer.Step` after the Batcher; PyTorch: `model(x)`, `F.cross_entropy`, `zero_grad(set_to_none=True)`, `backward()`, `SGD(lr=0.05, momentum=0.9, foreach=True).step()` after `index_select`; `foreach` and `set_to_none` are PyTorch's faster settings). ")
	p("PyTorch runs `bench/pytorch/step.py` under `%s` with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, OMP_NUM_THREADS and `torch.set_num_threads` at the thread count", rep.Python)
	if c.ptLibs != "" {
		p(", and `%s` first in LD_LIBRARY_PATH when it exists (Debian's torch takes its float32 BLAS from the system; without OpenBLAS it gets the reference BLAS, about 3 000 examples/s at every B)", c.ptLibs)
	}
	p(". flowgrad's processes are this bench re-executed with `-step-worker`.\n\n")
	if rep.Skipped != "" {
		p("**PyTorch was not measured:** %s. Install Debian's `python3-torch` and `libopenblas0-openmp` (or pass `-python` an interpreter with torch) to get this section.\n\n", rep.Skipped)
		return nil
	}
	if rep.Failure != "" {
		p("**PyTorch could not be measured in full:** %s\n\n", rep.Failure)
	}
	if len(rep.Results) == 0 {
		return nil
	}
	for _, r := range rep.Results {
		if r.Impl == "pytorch" {
			p("PyTorch: %s; BLAS loaded: %s.\n\n", r.Version, orDash(r.BLAS))
			break
		}
	}
	p("Examples/s (each cell the best process); flowgrad ÷ PyTorch compares each side at its best thread count, and the next column the same from B ÷ the median step time (which bursts of other jobs move less); Gorgonia is section 4's best at that B:\n\n")
	p("%s\n", sideTable(rep.Results, c.ptThreads, c.ptBatches, res.gorg).markdown())
	if err := sideCSV(rep.Results).saveCSV(c.out, "pytorch.csv"); err != nil {
		return err
	}
	var cut []string
	for _, r := range rep.Results {
		if r.Truncated {
			cut = append(cut, fmt.Sprintf("B = %d on %s (round %d)", r.Batch, threads(r.Threads), r.Process))
		}
	}
	if len(cut) > 0 {
		p("PyTorch passes cut short after %s of stepping (a crowded machine; their rate still counts): %s.\n\n", ptMaxPass, strings.Join(cut, ", "))
	}
	p("Every process: [pytorch.csv](pytorch.csv) (`B_per_median_step` is B ÷ the median step time, a check against bursts of other jobs).\n\n")
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
