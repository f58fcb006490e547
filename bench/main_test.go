package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowgrad/flowgrad/optim"
)

func TestParseFlagsModes(t *testing.T) {
	c, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.mode != modeDefault || c.out != "bench-report" || !slices.Equal(c.sections, allSections) {
		t.Fatalf("defaults: mode %q out %q sections %v", c.mode, c.out, c.sections)
	}
	if !slices.Equal(c.gemmBatches, []int{1, 10, 20, 100, 1000}) ||
		!slices.Equal(c.tpBatches, []int{1, 10, 20, 50, 100, 256, 500, 1000, 60000}) ||
		!slices.Equal(c.tpThreads, []int{1, 2}) {
		t.Fatalf("default grids: gemm %v throughput %v threads %v", c.gemmBatches, c.tpBatches, c.tpThreads)
	}
	if len(c.convForms) != 4 || !slices.Equal(c.convSchedules, []string{"constant", "invtime"}) {
		t.Fatalf("default convergence grid: %v %v", c.convForms, c.convSchedules)
	}
	q, err := parseFlags([]string{"-quick", "-out", "x", "-only", "gemm, convergence,gemm"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if q.mode != modeQuick || q.out != "x" || !slices.Equal(q.sections, []string{"gemm", "convergence"}) {
		t.Fatalf("quick: mode %q out %q sections %v", q.mode, q.out, q.sections)
	}
	if !q.has(secGemm) || q.has(secGorgonia) {
		t.Fatal("has() disagrees with -only")
	}
	if q.convMaxTime >= c.convMaxTime || q.tpFraction >= 1 {
		t.Fatal("quick mode is not smaller than the default")
	}
	f, err := parseFlags([]string{"-full", "-conv-batches", "10,200", "-conv-forms", "ema,nesterov", "-conv-schedules", "invtime", "-conv-time", "3s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if f.mode != modeFull || !slices.Equal(f.convBatches, []int{10, 200}) ||
		!slices.Equal(f.convForms, []optim.MomentumForm{optim.EMA, optim.Nesterov}) ||
		!slices.Equal(f.convSchedules, []string{"invtime"}) || f.convMaxTime != 3*time.Second {
		t.Fatalf("full with overrides: %+v", f)
	}
}

func TestParseFlagsErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-quick", "-full"}, "exclude each other"},
		{[]string{"-only", "gemm,speed"}, `unknown section "speed"`},
		{[]string{"-only", " , "}, "no sections"},
		{[]string{"-out", ""}, "-out must name a directory"},
		{[]string{"extra"}, "unexpected arguments"},
		{[]string{"-conv-batches", "10,0"}, `"0" is not a positive integer`},
		{[]string{"-conv-batches", "70000"}, "exceeds MNIST's 60000"},
		{[]string{"-conv-forms", "adam"}, "-conv-forms"},
		{[]string{"-conv-schedules", "cosine"}, `unknown schedule "cosine"`},
		{[]string{"-conv-time", "-1s"}, "negative"},
		{[]string{"-no-such-flag"}, "no-such-flag"},
	} {
		_, err := parseFlags(tc.args, io.Discard)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err %v, want a usage error containing %q", tc.args, err, tc.want)
		}
	}
	if _, err := parseFlags([]string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: err %v, want flag.ErrHelp", err)
	}
}

func TestRunExitCodes(t *testing.T) {
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"-only", "nope"}, io.Discard, &stderr); code != 2 {
		t.Fatalf("bad flag: exit %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), `unknown section "nope"`) {
		t.Fatalf("bad flag message: %q", stderr.String())
	}
	if code := run(context.Background(), []string{"-h"}, io.Discard, io.Discard); code != 0 {
		t.Fatalf("-h: exit %d, want 0", code)
	}
	stderr.Reset()
	dir := t.TempDir()
	missing := filepath.Join(dir, "no-mnist-here")
	code := run(context.Background(), []string{"-only", "throughput", "-data", missing, "-out", filepath.Join(dir, "out")}, io.Discard, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "bench: data:") || !strings.Contains(stderr.String(), missing) {
		t.Fatalf("missing data: exit %d, stderr %q; want 1 and a message naming the folder", code, stderr.String())
	}
}

func TestTableCSVAndMarkdown(t *testing.T) {
	tb := newTable("name", "B", "value", "note")
	tb.add("a,b", 10, 1234.5678, `say "hi"`)
	tb.add("x|y", 1, 0.000123456, math.NaN())
	tb.add("z", 60000, 2.0/3, true)
	var buf bytes.Buffer
	if err := tb.writeCSV(&buf); err != nil {
		t.Fatal(err)
	}
	want := "name,B,value,note\n" +
		"\"a,b\",10,1235,\"say \"\"hi\"\"\"\n" +
		"x|y,1,0.0001235,\n" +
		"z,60000,0.6667,true\n"
	if buf.String() != want {
		t.Fatalf("CSV:\n%s\nwant:\n%s", buf.String(), want)
	}
	md := tb.markdown()
	if !strings.HasPrefix(md, "| name | B | value | note |\n| --- | --- | --- | --- |\n") || !strings.Contains(md, `| x\|y | 1 |`) {
		t.Fatalf("markdown:\n%s", md)
	}
	dir := t.TempDir()
	if err := tb.saveCSV(dir, "t.csv"); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a short row did not panic")
		}
	}()
	tb.add("too", "short")
}

// curve builds a tuned run with the given (examples, seconds, accuracy)
// evaluations.
func curve(b int, form optim.MomentumForm, pts ...[3]float64) *convRun {
	r := &convRun{Spec: convSpec{Batch: b, Form: form, Schedule: "constant"}, Winner: true}
	for _, p := range pts {
		r.Points = append(r.Points, convPoint{Examples: int(p[0]), Sec: p[1], TrainSec: 2 * p[1], TestAcc: p[2]})
	}
	return r
}

func TestSoonest(t *testing.T) {
	curves := []*convRun{
		curve(10, optim.HeavyBall, [3]float64{12000, 3, 0.95}, [3]float64{24000, 6, 0.975}, [3]float64{36000, 9, 0.981}),
		curve(100, optim.HeavyBall, [3]float64{12000, 1, 0.93}, [3]float64{24000, 2, 0.965}, [3]float64{36000, 3, 0.971}, [3]float64{48000, 4, 0.979}),
		curve(500, optim.HeavyBall, [3]float64{12000, 0.5, 0.90}, [3]float64{24000, 1, 0.92}),
		// Reaches 97 % at the same time as B = 100 but after fewer examples.
		curve(50, optim.None, [3]float64{18000, 3, 0.97}),
	}
	r, ok := soonest(curves, 0.97)
	if !ok || r.Spec.Batch != 50 || r.Seconds != 3 || r.Examples != 18000 {
		t.Fatalf("97 %%: %+v %v, want B = 50 at 3 s (tie with B = 100 broken by examples)", r, ok)
	}
	r, ok = soonest(curves, 0.98)
	if !ok || r.Spec.Batch != 10 || r.Seconds != 9 || r.Measured != 18 {
		t.Fatalf("98 %%: %+v %v, want B = 10 at 9 s (the only one to get there)", r, ok)
	}
	if _, ok := soonest(curves, 0.99); ok {
		t.Fatal("99 % reached by no curve, but soonest found one")
	}
	if _, ok := soonest(nil, 0.5); ok {
		t.Fatal("no curves, but soonest found one")
	}
	// Ties in time and examples go to the smaller B.
	a := curve(200, optim.None, [3]float64{6000, 1, 0.99})
	b := curve(20, optim.None, [3]float64{6000, 1, 0.99})
	if r, _ := soonest([]*convRun{a, b}, 0.98); r.Spec.Batch != 20 {
		t.Fatalf("tie: B = %d, want 20", r.Spec.Batch)
	}
	keys, by := groupCurves(curves)
	if !slices.Equal(keys, []string{"heavyball/constant", "none/constant"}) || len(by["heavyball/constant"]) != 3 {
		t.Fatalf("groups %v", keys)
	}
	tr := tradeoffTable(curves, []tpResult{{Batch: 10, Threads: 2, Examples: 600, Seconds: 0.5}}, []int{10, 500}, 60000)
	if got := strings.Join(tr.rows[0], ","); got != "10,1200,0.4,6,0.6,9" {
		t.Fatalf("trade-off row for B = 10: %q", got)
	}
	if got := strings.Join(tr.rows[1], ","); got != "500,—,not reached,—,not reached,—" {
		t.Fatalf("trade-off row for B = 500: %q", got)
	}
	tt := targetsTable(curves[:1], []float64{0.97, 0.98}, 60000)
	if got := strings.Join(tt.rows[0], ","); got != "heavyball,constant,10,0,36000,9,18,0.981,0.981,6,0.4,9,0.6" {
		t.Fatalf("targets row %q", got)
	}
}

func TestTuningPicksLowestLoss(t *testing.T) {
	runs := []*convRun{{Score: 0.4}, {Score: 0.2}, {Score: math.Inf(1)}, {Score: 0.3}}
	if i := bestScore(runs); i != 1 {
		t.Fatalf("best %d, want 1", i)
	}
	all := []*convRun{{Score: math.Inf(1)}, {Score: math.Inf(1)}}
	if i := bestScore(all); i != 0 {
		t.Fatalf("all diverged: best %d, want 0 (the smallest rate)", i)
	}
	if got := formRate(optim.HeavyBall, 0.5); math.Abs(got-0.05) > 1e-12 {
		t.Fatalf("heavy-ball rate for η = 0.5: %g, want 0.05 (the standard workload)", got)
	}
	if got := formRate(optim.EMA, 0.5); got != 0.5 {
		t.Fatalf("EMA rate for η = 0.5: %g", got)
	}
	if got := centreRate(100); got != 0.5 {
		t.Fatalf("η(100) = %g, want 0.5", got)
	}
}

func TestDecodeJSONLinesAndMedian(t *testing.T) {
	in := "{\"path\":\"avx2\",\"threads\":1,\"batch\":10,\"matrix_s\":0.5,\"vectors_s\":1.5}\n\n{\"path\":\"avx512\",\"unavailable\":\"no\"}\n"
	rs, err := decodeJSONLines[gemmResult](strings.NewReader(in))
	if err != nil || len(rs) != 2 || rs[0].Speedup() != 3 || rs[1].Unavailable != "no" {
		t.Fatalf("%+v %v", rs, err)
	}
	if _, err := decodeJSONLines[gemmResult](strings.NewReader("not json\n")); err == nil {
		t.Fatal("bad line accepted")
	}
	if m := median([]float64{5, 1, 3}); m != 3 {
		t.Fatalf("median %g", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Fatalf("median %g", m)
	}
	if !math.IsNaN(median(nil)) {
		t.Fatal("median of nothing is not NaN")
	}
}

func TestTicks125(t *testing.T) {
	var labels []string
	for _, tk := range (ticks125{}).Ticks(3, 600) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if !slices.Equal(labels, []string{"5", "10", "20", "50", "100", "200", "500"}) {
		t.Fatalf("labels %v", labels)
	}
	labels = labels[:0]
	for _, tk := range (ticks125{}).Ticks(1, 60000) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if !slices.Equal(labels, []string{"1", "10", "100", "1000", "10k"}) {
		t.Fatalf("wide labels %v", labels)
	}
}

func TestFinishUsesMedianStep(t *testing.T) {
	r := &convRun{
		Points:  []convPoint{{Steps: 2, TrainSec: 10}, {Steps: 4, TrainSec: 11}},
		stepSec: []float32{0.5, 8, 0.5, 0.25}, // one step slowed by another job
	}
	r.finish()
	if r.Points[0].Sec != 1 || r.Points[1].Sec != 2 || r.stepSec != nil {
		t.Fatalf("points %+v", r.Points)
	}
}
