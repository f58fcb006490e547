package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Section 4: the standard workload written with Gorgonia v0.9.18, measured
// in the same run. It lives in the nested module bench/gorgonia (its own
// go.mod), so the flowgrad library never depends on Gorgonia; the bench
// builds it with the go command and parses its JSON lines.

// gorgResult is one line of the Gorgonia program's output.
type gorgResult struct {
	Batch         int      `json:"batch"`
	Threads       int      `json:"threads"`
	Examples      int      `json:"examples"`
	Steps         int      `json:"steps"`
	Seconds       float64  `json:"seconds"`
	ExamplesPerS  float64  `json:"examples_per_s"`
	AllocsPerStep float64  `json:"allocs_per_step"`
	BytesPerStep  float64  `json:"bytes_per_step"`
	FinalLoss     *float64 `json:"final_loss"`
	NaNStep       int      `json:"nan_step"`
	Gorgonia      string   `json:"gorgonia"`
	GoVersion     string   `json:"go"`
}

// gorgReport is section 4's outcome: results, or why there are none.
type gorgReport struct {
	Dir       string
	BuildTime time.Duration
	Failure   string // non-empty: Gorgonia could not be built or run, and why
	Results   []gorgResult
}

// findGorgoniaDir returns the nested module's folder: dir if set, else
// bench/gorgonia under the flowgrad module that holds the working
// directory.
func findGorgoniaDir(dir string) (string, error) {
	if dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
			return "", fmt.Errorf("-gorgonia-dir %s: no go.mod there: %w", dir, err)
		}
		return dir, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		mod, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && strings.Contains(string(mod), "module github.com/flowgrad/flowgrad\n") {
			g := filepath.Join(d, "bench", "gorgonia")
			if _, err := os.Stat(filepath.Join(g, "go.mod")); err != nil {
				return "", fmt.Errorf("the flowgrad module at %s has no bench/gorgonia/go.mod", d)
			}
			return g, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("not inside the flowgrad module (run from its folder, or pass -gorgonia-dir)")
		}
	}
}

// runGorgonia builds the nested module into a temporary folder and runs it
// once per thread count. Build or run failures are reported in the result
// (the report says why), not returned: only cancellation is an error.
func runGorgonia(ctx context.Context, c *config, mnistDir string, stderr io.Writer) (*gorgReport, error) {
	rep := &gorgReport{}
	dir, err := findGorgoniaDir(c.gorgDir)
	if err != nil {
		rep.Failure = "the Gorgonia module was not found: " + err.Error()
		return rep, nil
	}
	rep.Dir = dir
	tmp, err := os.MkdirTemp("", "flowgrad-bench-gorgonia")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	exe := filepath.Join(tmp, "gorgonia-bench")
	ctx, cancel := context.WithTimeout(ctx, c.gorgTimeLimit)
	defer cancel()
	fmt.Fprintf(stderr, "bench: gorgonia: building %s …\n", dir)
	t0 := time.Now()
	build := exec.CommandContext(ctx, "go", "build", "-o", exe, ".")
	build.Dir = dir
	var buildOut bytes.Buffer
	build.Stdout, build.Stderr = &buildOut, &buildOut
	if err := build.Run(); err != nil {
		if ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled) {
			return nil, ctx.Err()
		}
		rep.Failure = fmt.Sprintf("`go build` in %s failed (%v):\n\n%s", dir, err, tail(buildOut.String(), 30))
		return rep, nil
	}
	rep.BuildTime = time.Since(t0)
	for _, th := range c.gorgThreads {
		args := []string{"-data", mnistDir, "-batches", joinInts(c.gorgBatches), "-threads", strconv.Itoa(th),
			"-online-examples", strconv.Itoa(c.gorgOnlineEx), "-max-examples", strconv.Itoa(c.gorgMaxEx)}
		fmt.Fprintf(stderr, "bench: gorgonia: %d threads, B = %s …\n", th, joinInts(c.gorgBatches))
		cmd := exec.CommandContext(ctx, exe, args...)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		runErr := cmd.Run()
		rs, perr := decodeJSONLines[gorgResult](&out)
		rep.Results = append(rep.Results, rs...)
		if runErr != nil || perr != nil {
			if errors.Is(ctx.Err(), context.Canceled) {
				return nil, ctx.Err()
			}
			rep.Failure = fmt.Sprintf("the Gorgonia program failed (%v; %v):\n\n%s", runErr, perr, tail(errOut.String(), 30))
			return rep, nil
		}
	}
	return rep, nil
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// gorgoniaTable compares Gorgonia with flowgrad's section-2 figures at the
// same B and thread count, where section 2 measured them.
func gorgoniaTable(rep *gorgReport, tp []tpResult) *table {
	t := newTable("B", "threads", "gorgonia_examples", "gorgonia_examples_per_s", "gorgonia_allocs_per_step", "flowgrad_examples_per_s", "flowgrad_allocs_per_step", "flowgrad_over_gorgonia")
	for _, g := range rep.Results {
		fg, fa, ratio := "—", "—", "—"
		for _, r := range tp {
			if r.Batch == g.Batch && r.Threads == g.Threads {
				fg, fa = cell(r.ExamplesPerSecond()), cell(r.PassAllocs)
				ratio = cell(r.ExamplesPerSecond() / g.ExamplesPerS)
			}
		}
		t.add(g.Batch, g.Threads, g.Examples, g.ExamplesPerS, g.AllocsPerStep, fg, fa, ratio)
	}
	return t
}
