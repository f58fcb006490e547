package main

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/flowgrad/flowgrad/optim"
)

// writeReport writes the CSV files, the plots and report.md into c.out.
func writeReport(c *config, m machine, res *results) error {
	m.Commit = buildCommit()
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	p("# flowgrad batch-size benchmark report\n\n")
	p("How the minibatch size B trades hardware efficiency against convergence on flowgrad's standard workload ")
	p("(MLP 784-256-256-10, ReLU, float32, softmax cross-entropy, real MNIST; see DESIGN.md), against the claims of the tutorial ")
	p("*Introduction to Gradient-Based Learning*: one matrix×matrix product beats B vector×matrix products by 2–10×, and there is an optimal B.\n\n")
	p("| | |\n|---|---|\n")
	p("| command | `%s` (mode %s) |\n", m.Command, c.mode)
	p("| generated | %s, %s in all |\n", m.Start.Format("2006-01-02 15:04 UTC"), res.total.Round(time.Second))
	p("| CPU | %s; %s |\n", m.CPU, m.Features)
	p("| cores | %s |\n", m.Cores)
	if m.MemGiB > 0 {
		p("| memory | %.0f GiB |\n", m.MemGiB)
	}
	p("| Go | %s %s |\n", m.GoVersion, m.OSArch)
	p("| kernel path | %s (the default Sgemm path of this CPU; section 1 forces each path) |\n", m.Kernel)
	if m.Commit != "" {
		p("| flowgrad commit | %s |\n", m.Commit)
	}
	var secs []string
	for _, s := range allSections {
		if d, ok := res.sectionDur[s]; ok {
			secs = append(secs, fmt.Sprintf("%s %s (load %s)", s, d.Round(time.Second), res.sectionLoad[s]))
		}
	}
	p("| section times (1-minute load average at the start) | %s |\n\n", strings.Join(secs, ", "))
	p("The machine is shared with other jobs (the load averages above; %d cores): speeds are compared as ratios within this one run; section 1 keeps the fastest of interleaved repetitions; sections 2 and 3 give, beside the measured times, times from the median step, which bursts of other jobs do not move. ", runtime.NumCPU())
	p("Sustained load on the second core still lowers the two-thread figures.\n\n")

	if sum := summary(res); sum != "" {
		p("## Summary\n\n%s\n", sum)
	}

	if c.has(secGemm) {
		if err := reportGemm(&b, c, m, res); err != nil {
			return err
		}
	}
	if c.has(secThroughput) {
		if err := reportThroughput(&b, c, m, res); err != nil {
			return err
		}
	}
	if c.has(secConvergence) && res.conv != nil {
		if err := reportConvergence(&b, c, m, res); err != nil {
			return err
		}
	}
	if c.has(secGorgonia) && res.gorg != nil {
		if err := reportGorgonia(&b, c, m, res); err != nil {
			return err
		}
	}
	if c.has(secPyTorch) && res.pt != nil {
		if err := reportPyTorch(&b, c, res); err != nil {
			return err
		}
	}
	p("## Files\n\n")
	entries, _ := os.ReadDir(c.out)
	for _, e := range entries {
		if n := e.Name(); strings.HasSuffix(n, ".csv") || strings.HasSuffix(n, ".png") {
			p("- [%s](%s)\n", n, n)
		}
	}
	return os.WriteFile(filepath.Join(c.out, "report.md"), []byte(b.String()), 0o644)
}

// buildCommit returns the VCS revision the binary was built from, if the go
// command recorded it (go build does; go run does not), else what git says
// about the working directory, else "".
func buildCommit() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return gitCommit()
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return gitCommit()
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" && modified == "true" {
		rev += " (with uncommitted changes in the tree)"
	}
	return rev
}

// summary gives the headline numbers of every section that ran.
func summary(res *results) string {
	var b strings.Builder
	if g := gemmHeadline(res.gemm); g != "" {
		fmt.Fprintf(&b, "- **Matrix×matrix vs B vector×matrix:** %s\n", g)
	}
	if len(res.tp) > 0 {
		for _, th := range uniqueThreads(res.tp) {
			best := tpResult{}
			for _, r := range res.tp {
				if r.Threads == th && (best.Examples == 0 || r.ExamplesPerSecond() > best.ExamplesPerSecond()) {
					best = r
				}
			}
			fmt.Fprintf(&b, "- **Throughput, %s:** highest at B = %d, %s examples/s", threads(th), best.Batch, cell(best.ExamplesPerSecond()))
			for _, r := range res.tp {
				if r.Threads == th && r.Batch == 1 {
					fmt.Fprintf(&b, " (%.0f× B = 1's %s)", best.ExamplesPerSecond()/r.ExamplesPerSecond(), cell(r.ExamplesPerSecond()))
				}
			}
			b.WriteString(".\n")
		}
	}
	if res.conv != nil {
		curves := res.conv.winners()
		for _, tg := range []float64{0.97, 0.98} {
			if r, ok := soonest(curves, tg); ok {
				fmt.Fprintf(&b, "- **Soonest to %g %% test accuracy (training time):** B = %d (%s, rate %.3g) after %.1f s of training (%.1f s measured), %.2f epochs.\n",
					tg*100, r.Spec.Batch, r.Spec.group(), r.Spec.Rate, r.Seconds, r.Measured, float64(r.Examples)/float64(res.trainN))
			} else {
				fmt.Fprintf(&b, "- **%g %% test accuracy:** not reached by any run within its budget.\n", tg*100)
			}
		}
	}
	if res.gorg != nil {
		if res.gorg.Failure != "" {
			b.WriteString("- **Gorgonia:** not measured — see section 4.\n")
		} else {
			for _, g := range res.gorg.Results {
				for _, r := range res.tp {
					if r.Batch == g.Batch && r.Threads == g.Threads && g.Batch == 100 {
						fmt.Fprintf(&b, "- **Gorgonia v0.9.18 at B = 100, %s:** %s examples/s; flowgrad is %.1f× faster.\n",
							threads(g.Threads), cell(g.ExamplesPerS), r.ExamplesPerSecond()/g.ExamplesPerS)
					}
				}
			}
		}
	}
	if res.pt != nil {
		if res.pt.Skipped != "" {
			b.WriteString("- **PyTorch:** not measured — see section 5.\n")
		} else if h := sideHeadline(res.pt.Results, ptBatchesOf(res.pt.Results)); h != "" {
			fmt.Fprintf(&b, "- **flowgrad ÷ PyTorch** (examples/s, each at its best thread count, same run): %s.\n", h)
		}
	}
	return b.String()
}

// uniqueThreads returns the thread counts of tp in the order they first
// occur.
func uniqueThreads(tp []tpResult) []int {
	return distinct(tp, func(r tpResult) int { return r.Threads })
}

// gemmHeadline summarises section 1: the speedup range for B ≥ 10 per
// path on the fewest threads measured.
func gemmHeadline(rs []gemmResult) string {
	var parts []string
	var paths []string
	for _, r := range rs {
		if r.Unavailable == "" && !slices.Contains(paths, r.Path) {
			paths = append(paths, r.Path)
		}
	}
	th := 0
	for _, r := range rs {
		if r.Unavailable == "" && (th == 0 || r.Threads < th) {
			th = r.Threads
		}
	}
	for _, path := range paths {
		lo, hi := math.Inf(1), math.Inf(-1)
		var at100 float64
		for _, r := range rs {
			if r.Path != path || r.Unavailable != "" {
				continue
			}
			if r.Threads != th || r.Batch < 10 {
				continue
			}
			lo, hi = math.Min(lo, r.Speedup()), math.Max(hi, r.Speedup())
			if r.Batch == 100 {
				at100 = r.Speedup()
			}
		}
		if math.IsInf(lo, 0) {
			continue
		}
		s := fmt.Sprintf("%s %.1f–%.1f×", path, lo, hi)
		if at100 > 0 {
			s += fmt.Sprintf(" (%.1f× at B = 100)", at100)
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("for B ≥ 10 on %s, one product is ", threads(th)) + strings.Join(parts, "; ") + " faster than B separate ones (the tutorial: 2–10×)."
}

func reportGemm(b *strings.Builder, c *config, m machine, res *results) error {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("## 1. One matrix×matrix product against B vector×matrix products\n\n")
	p("One (B×784)·(784×256) product (`tensor.Gemm`) against B separate (1×784)·(784×256) products — the first layer of the MLP, ")
	p("B = %s — for every kernel path this CPU and build can run. ", joinInts(c.gemmBatches))
	p("flowgrad chooses its Sgemm path once at start-up and exposes no switch in its public API, so the bench re-executes itself once per path with `FLOWGRAD_KERNEL=<path>` and checks `tensor.KernelPath()`; ")
	p("`gonum` is gonum v0.17's native Sgemm called directly (the baseline the kernels replace). ")
	p("Each side is timed in %d interleaved repetitions (matrix, vectors, matrix, …) of at least %s each; the tables use the fastest repetition of each side — on this shared machine the least disturbed one — and gemm.csv also gives the medians. Speedup = time of the B vector products ÷ time of the one matrix product; GFLOP/s counts 2·B·784·256 flop. ", c.gemmReps, c.gemmMinTime)
	p("`max_rel_diff` checks the two give the same C. At B = 1 both sides are the same single product, so its ratio only shows the timing noise.\n\n")
	var unavailable []string
	for _, r := range res.gemm {
		if r.Unavailable != "" {
			unavailable = append(unavailable, fmt.Sprintf("`%s` (%s)", r.Path, r.Unavailable))
		}
	}
	if len(unavailable) > 0 {
		p("Paths not available here: %s.\n\n", strings.Join(unavailable, "; "))
	}
	t := gemmTable(res.gemm)
	if err := t.saveCSV(c.out, "gemm.csv"); err != nil {
		return err
	}
	// A compact pivot: one row per path and thread count, one column per B.
	head := []string{"path", "threads"}
	for _, bb := range c.gemmBatches {
		head = append(head, fmt.Sprintf("B=%d", bb))
	}
	pv := newTable(head...)
	type key struct {
		path string
		th   int
	}
	var keys []key
	for _, r := range res.gemm {
		if r.Unavailable == "" && !slices.Contains(keys, key{r.Path, r.Threads}) {
			keys = append(keys, key{r.Path, r.Threads})
		}
	}
	for _, k := range keys {
		row := []any{k.path, k.th}
		for _, bb := range c.gemmBatches {
			v := "—"
			for _, r := range res.gemm {
				if r.Path == k.path && r.Threads == k.th && r.Batch == bb {
					v = fmt.Sprintf("%.2f× (%.0f / %.0f µs)", r.Speedup(), r.VectorsSec*1e6, r.MatrixSec*1e6)
				}
			}
			row = append(row, v)
		}
		pv.add(row...)
	}
	p("Speedup (B vector products µs / one matrix product µs):\n\n%s\n", pv.markdown())
	if r := gemmReading(res.gemm); r != "" {
		p("%s\n\n", r)
	}
	if err := plotGemm(c.out, res.gemm, m.caption("as in the legend")); err != nil {
		return err
	}
	if fileExists(filepath.Join(c.out, "gemm_speedup.png")) {
		p("![speedup and GFLOP/s against B](gemm_speedup.png)\n\n")
	}
	p("Full table: [gemm.csv](gemm.csv).\n\n")
	return nil
}

func reportThroughput(b *strings.Builder, c *config, m machine, res *results) error {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("## 2. Training throughput against B\n\n")
	p("The standard workload: heavy-ball momentum 0.9, rate 0.05; examples/s over one full pass of the 60 000 training examples ")
	p("(B = 1: the first 10 000), timing `train.Trainer.Step` (forward, backward, update) only — batch conversion is not timed — ")
	p("after %d warm-up steps (fewer for large B) from a separate Batcher; a pass of fewer than 10 steps (B = 60 000 is one step) is timed %d times and the median pass kept. ", c.tpWarmup, c.tpLargePasses)
	if c.tpFraction < 1 {
		p("**Quick mode: only the first %.0f %% of each pass is timed.** ", c.tpFraction*100)
	}
	p("Threads = GOMAXPROCS (the kernel's worker pool follows it); the two thread counts alternate per B. ")
	p("`allocs/step` is runtime.MemStats' Mallocs over the timed pass ÷ steps (it includes the Batcher and the one-off buffers of a last, smaller batch); ")
	p("`B/median step` is B ÷ the median step time of the pass, a check against bursts of other jobs on this shared machine (where it is far above examples/s, the pass was disturbed). ")
	p("`Step allocs` is testing.AllocsPerRun of one warm Trainer.Step (B ≤ 1000; the larger of the thread counts). Kernel path: %s.\n\n", m.Kernel)
	t := throughputTable(res.tp)
	if err := t.saveCSV(c.out, "throughput.csv"); err != nil {
		return err
	}
	ths := uniqueThreads(res.tp)
	head := []string{"B"}
	for _, th := range ths {
		head = append(head, fmt.Sprintf("examples/s, %d thr", th))
	}
	for _, th := range ths {
		head = append(head, fmt.Sprintf("B/median step, %d thr", th))
	}
	for _, th := range ths {
		head = append(head, fmt.Sprintf("allocs/step, %d thr", th))
	}
	head = append(head, "Step allocs")
	pv := newTable(head...)
	for _, bb := range c.tpBatches {
		row := []any{bb}
		var allocs, medians []any
		step, stepFound := 0.0, false
		found := false
		for _, th := range ths {
			v, a, md := "—", "—", "—"
			for _, r := range res.tp {
				if r.Batch == bb && r.Threads == th {
					v, a, md, found = cell(r.ExamplesPerSecond()), cell(r.PassAllocs), cell(r.MedianExamplesPerSecond()), true
					if !math.IsNaN(r.StepAllocs) {
						step, stepFound = math.Max(step, r.StepAllocs), true
					}
				}
			}
			row = append(row, v)
			allocs = append(allocs, a)
			medians = append(medians, md)
		}
		if !found {
			continue
		}
		row = append(row, medians...)
		row = append(row, allocs...)
		if stepFound {
			row = append(row, step)
		} else {
			row = append(row, "—")
		}
		pv.add(row...)
	}
	p("%s\n", pv.markdown())
	if r := tpReading(res.tp); r != "" {
		p("%s\n\n", r)
	}
	if err := plotThroughput(c.out, res.tp, res.gorg, m.caption(m.Kernel)); err != nil {
		return err
	}
	if fileExists(filepath.Join(c.out, "throughput.png")) {
		p("![examples/s against B](throughput.png)\n\n")
	}
	p("Full table: [throughput.csv](throughput.csv).\n\n")
	return nil
}

func reportConvergence(b *strings.Builder, c *config, m machine, res *results) error {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	conv := res.conv
	n := res.trainN
	curves := conv.winners()
	p("## 3. Convergence against B: the optimal trade-off\n\n")
	p("For B = %s, momentum forms %s (momentum 0.9) and schedules %s ", joinInts(c.convBatches), formsList(c.convForms), strings.Join(c.convSchedules, ", "))
	p("(`invtime` is the tutorial's 1/k schedule, `optim.InverseTime(ε0, τ)` with τ = %g epoch(s) of steps, i.e. 60 000·%g/B: the rate halves after %g epoch(s)), ", c.convTauEpochs, c.convTauEpochs, c.convTauEpochs)
	p("each run starts from the same weights (seed %d) and trains on the 60 000 training examples with the Batcher's shuffling; test accuracy on the 10 000 test examples is measured every %d examples (%.2f epoch). Training uses GOMAXPROCS %d and kernel %s.\n\n",
		c.seed, c.convEvalEvery, float64(c.convEvalEvery)/float64(n), defaultProcs(), m.Kernel)
	p("**Rate grid and tuning.** Rates are set as plain-SGD-equivalent rates η (EMA momentum α at rate ε equals heavy ball μ = α at rate ε(1−α), whose steady-state step is ε/(1−μ)): ")
	p("the grid for B is η(B)·{%s} with η(B) = 0.5·√(B/100) (η = 0.5 at B = 100 is the standard workload's heavy-ball rate 0.05); ", floatList(c.convRateMults))
	p("optim gets ε = η for `none` and `ema`, ε = η·(1−0.9) for `heavyball` and `nesterov`. ")
	p("Each grid rate trains %d examples; the rate with the lowest mean training loss over the second half of them wins (the test set plays no part in the choice; a diverged run loses). ", c.convTuneEx)
	p("The winner's run continues (its curve starts at example 0) until test accuracy ≥ %g %%, %g epochs, or %s of training wall time. ", c.convStop*100, c.convMaxEpochs, c.convMaxTime)
	p("**Time.** Every step (fetching the batch + `Trainer.Step`) is timed; evaluations are never counted. Other jobs on this shared machine inflate some steps by several times, so the time the report uses (`train_s`, the plots' time axes, the tables) is steps × the run's median step time — the run's wall time without the interference; the raw measured sum is `measured_s` in the tables and CSVs (on a quiet machine the two agree within a few per cent). ")
	p("A target's time is that of the first evaluation at or above it, so it is quantised to the evaluation interval.\n\n")

	// Soonest per group and overall.
	keys, byKey := groupCurves(curves)
	st := newTable("form/schedule", "soonest to 97 %", "seconds", "measured s", "epochs", "soonest to 98 %", "seconds", "measured s", "epochs")
	for _, k := range keys {
		row := []any{k}
		for _, tg := range []float64{0.97, 0.98} {
			if r, ok := soonest(byKey[k], tg); ok {
				row = append(row, fmt.Sprintf("B = %d", r.Spec.Batch), r.Seconds, r.Measured, float64(r.Examples)/float64(n))
			} else {
				row = append(row, "not reached", "—", "—", "—")
			}
		}
		st.add(row...)
	}
	row := []any{"**any**"}
	for _, tg := range []float64{0.97, 0.98} {
		if r, ok := soonest(curves, tg); ok {
			row = append(row, fmt.Sprintf("**B = %d** (%s)", r.Spec.Batch, r.Spec.group()), r.Seconds, r.Measured, float64(r.Examples)/float64(n))
		} else {
			row = append(row, "not reached", "—", "—", "—")
		}
	}
	st.add(row...)
	p("Which B reaches the target first in training time:\n\n%s\n", st.markdown())
	p("The trade-off per B — the best over all forms and schedules (fewest epochs and fewest seconds may come from different runs), beside the standard workload's throughput at that B from section 2:\n\n%s\n",
		tradeoffTable(curves, res.tp, c.convBatches, n).markdown())

	targets := []float64{0.97, 0.98}
	tt := targetsTable(curves, targets, n)
	if err := tt.saveCSV(c.out, "targets.csv"); err != nil {
		return err
	}
	p("Every tuned curve (`train_s` and `measured_s` at the end of the run; `s_to_97` = training seconds to 97 %%, `epochs_to_97` = epochs to 97 %%, …):\n\n%s\n", tt.markdown())
	if err := convergenceTable(conv, n).saveCSV(c.out, "convergence.csv"); err != nil {
		return err
	}
	if err := tuningTable(conv).saveCSV(c.out, "tuning.csv"); err != nil {
		return err
	}
	caption := m.caption(m.Kernel)
	if err := plotTargets(c.out, curves, caption); err != nil {
		return err
	}
	if fileExists(filepath.Join(c.out, "time_to_target.png")) {
		p("![training seconds to 97 %% and 98 %% against B](time_to_target.png)\n\n")
	}
	for _, k := range keys {
		if err := plotConvergence(c.out, k, byKey[k], conv.Initial, n, caption); err != nil {
			return err
		}
		p("![%s](%s)\n\n", k, convPlotName(k))
	}
	p("All evaluations: [convergence.csv](convergence.csv); the grid and its scores: [tuning.csv](tuning.csv); targets: [targets.csv](targets.csv).\n\n")
	return nil
}

func reportGorgonia(b *strings.Builder, c *config, m machine, res *results) error {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	g := res.gorg
	p("## 4. The same MLP in Gorgonia v0.9.18\n\n")
	p("The standard workload written with gorgonia.org/gorgonia v0.9.18 (TapeMachine, `Momentum` solver c ← 0.9c − 0.05g, w ← w + c, i.e. heavy ball at a constant rate; He-normal weights; LogSoftMax cross-entropy averaged over the batch), ")
	p("in the separate module `bench/gorgonia` (its own go.mod, with go4.org/unsafe/assume-no-moving-gc pinned to v0.0.0-20231121144256-b99613f794b6 so it starts on Go 1.26), built and run by this command. ")
	p("It times TapeMachine.RunAll + Solver.Step + Reset over shuffled batches, after 5 warm-up steps; allocations from runtime.MemStats. ")
	p("Gorgonia's matrix products go through its default BLAS, gonum's native implementation (v0.11.0, the version its module selects). ")
	p("Examples timed: %d at B = 1, %d at larger B", c.gorgOnlineEx, c.gorgMaxEx)
	if c.gorgOnlineEx < 10000 || c.gorgMaxEx < 60000 {
		p(" (fewer than the standard pass, to keep the run short; `-full` times the standard 10 000 / 60 000)")
	}
	p(". flowgrad's figures are section 2's at the same B and thread count.\n\n")
	if g.Failure != "" {
		p("**Gorgonia could not be measured:** %s\n\n", g.Failure)
	}
	if len(g.Results) > 0 {
		t := gorgoniaTable(g, res.tp)
		if err := t.saveCSV(c.out, "gorgonia.csv"); err != nil {
			return err
		}
		p("%s\n", t.markdown())
		for _, r := range g.Results {
			if r.NaNStep > 0 {
				p("At B = %d on %s, Gorgonia's loss first became NaN or infinite at step %d of the timed pass (after %d examples); the timing is kept.",
					r.Batch, threads(r.Threads), r.NaNStep, (r.NaNStep-1)*r.Batch)
				for _, f := range res.tp {
					if f.Batch == r.Batch && f.Threads == r.Threads {
						p(" flowgrad's loss stayed finite over its pass at the same B and rate (train.Trainer.Step stops on a NaN or infinite loss).")
						break
					}
				}
				p("\n\n")
			}
		}
		if g.BuildTime > 0 {
			p("Building the Gorgonia program took %s of this run.\n\n", g.BuildTime.Round(time.Second))
		}
	}
	return nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func formsList(fs []optim.MomentumForm) string {
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = f.String()
	}
	return strings.Join(s, ", ")
}

func floatList(xs []float64) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = cell(x)
	}
	return strings.Join(s, ", ")
}

// gemmReading explains the size of the speedup from the measured GFLOP/s
// at the largest B on one thread (or the fewest measured).
func gemmReading(rs []gemmResult) string {
	th, bMax := 0, 0
	for _, r := range rs {
		if r.Unavailable != "" {
			continue
		}
		if th == 0 || r.Threads < th {
			th = r.Threads
		}
		bMax = max(bMax, r.Batch)
	}
	var parts []string
	for _, r := range rs {
		if r.Unavailable == "" && r.Threads == th && r.Batch == bMax {
			parts = append(parts, fmt.Sprintf("%s %.0f → %.0f GFLOP/s", r.Path, r.flops()/r.VectorsSec/1e9, r.flops()/r.MatrixSec/1e9))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("Reading: at B = %d on %s, B vector products → one matrix product: %s. "+
		"The speedup is bounded by how fast the vector×matrix product already is: the 784×256 float32 weights (0.8 MB) stay in cache, "+
		"so each vector product streams them at cache bandwidth, and the one product can at best reach the core's FMA peak "+
		"(about 117 GFLOP/s per core here, DESIGN.md). A path with a slow inner loop (generic, gonum) gains little from batching "+
		"because both sides are limited by the same arithmetic.", bMax, threads(th), strings.Join(parts, "; "))
}

// tpReading states how throughput grows with B and where a second thread
// helps.
func tpReading(tp []tpResult) string {
	var b strings.Builder
	for _, th := range uniqueThreads(tp) {
		var one, best tpResult
		for _, r := range tp {
			if r.Threads != th {
				continue
			}
			if r.Batch == 1 {
				one = r
			}
			if best.Examples == 0 || r.ExamplesPerSecond() > best.ExamplesPerSecond() {
				best = r
			}
		}
		if one.Examples > 0 && best.Examples > 0 {
			fmt.Fprintf(&b, "On %s, throughput grows %.1f× from B = 1 to its maximum at B = %d. ", threads(th), best.ExamplesPerSecond()/one.ExamplesPerSecond(), best.Batch)
		}
	}
	var helps []string
	for _, r2 := range tp {
		if r2.Threads != 2 {
			continue
		}
		for _, r1 := range tp {
			if r1.Threads == 1 && r1.Batch == r2.Batch {
				helps = append(helps, fmt.Sprintf("%d: %.2f×", r2.Batch, r2.ExamplesPerSecond()/r1.ExamplesPerSecond()))
			}
		}
	}
	if len(helps) > 0 {
		fmt.Fprintf(&b, "Two threads over one, per B: %s.", strings.Join(helps, ", "))
	}
	if b.Len() == 0 {
		return ""
	}
	return "Reading: " + b.String()
}

// threads formats a thread count: "1 thread", "2 threads".
func threads(n int) string {
	if n == 1 {
		return "1 thread"
	}
	return fmt.Sprintf("%d threads", n)
}

// tradeoffTable gives, per B, the fewest epochs and seconds any tuned curve
// needed to reach 97 % and 98 %, and section 2's throughput at that B.
func tradeoffTable(curves []*convRun, tp []tpResult, batches []int, n int) *table {
	head := []string{"B"}
	ths := uniqueThreads(tp)
	for _, th := range ths {
		head = append(head, "examples/s, "+threads(th))
	}
	head = append(head, "epochs to 97 %", "seconds to 97 %", "epochs to 98 %", "seconds to 98 %")
	t := newTable(head...)
	for _, b := range batches {
		row := []any{b}
		for _, th := range ths {
			v := "—"
			for _, r := range tp {
				if r.Batch == b && r.Threads == th {
					v = cell(r.ExamplesPerSecond())
				}
			}
			row = append(row, v)
		}
		for _, tg := range []float64{0.97, 0.98} {
			ep, sec := math.Inf(1), math.Inf(1)
			for _, r := range curves {
				if r.Spec.Batch != b {
					continue
				}
				if q, ok := firstReach(r.Points, tg); ok {
					ep = math.Min(ep, float64(q.Examples)/float64(n))
					sec = math.Min(sec, q.Sec)
				}
			}
			if math.IsInf(ep, 1) {
				row = append(row, "not reached", "—")
			} else {
				row = append(row, ep, sec)
			}
		}
		t.add(row...)
	}
	return t
}

// gitCommit asks git for HEAD and whether tracked files differ from it.
func gitCommit() string {
	out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return ""
	}
	rev := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
		rev += " (with uncommitted changes in the tree)"
	}
	return rev
}
