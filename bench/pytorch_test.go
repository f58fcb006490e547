package main

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/flowgrad/flowgrad/data"
)

// Two PyTorch lines as bench/pytorch/step.py writes them, and flowgrad
// lines as stepWorker writes them.
const sideLines = `{"impl": "pytorch", "batch": 100, "threads": 2, "examples": 60000, "steps": 600, "passes": 2, "seconds": 0.75, "examples_per_s": 80000.0, "median_step_s": 0.0012, "final_loss": 0.21, "version": "PyTorch 1.13.0a0", "blas": "/usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblasp-r0.3.21.so"}
{"impl": "pytorch", "batch": 1, "threads": 1, "examples": 10000, "steps": 10000, "passes": 2, "seconds": 3.0, "examples_per_s": 3333.3, "median_step_s": 0.0003, "final_loss": null, "version": "PyTorch 1.13.0a0", "blas": ""}
{"impl":"flowgrad","batch":100,"threads":2,"examples":60000,"steps":600,"passes":2,"seconds":0.5,"examples_per_s":120000,"median_step_s":0.0008,"final_loss":null,"version":"flowgrad go1.26.8"}
`

func TestSideResultsParse(t *testing.T) {
	rs, err := decodeJSONLines[sideResult](strings.NewReader(sideLines))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 3 {
		t.Fatalf("%d results, want 3", len(rs))
	}
	pt := rs[0]
	if pt.Impl != "pytorch" || pt.Batch != 100 || pt.Threads != 2 || pt.ExamplesPerS != 80000 || pt.FinalLoss == nil || *pt.FinalLoss != 0.21 || !strings.Contains(pt.BLAS, "openblas") {
		t.Fatalf("PyTorch line: %+v", pt)
	}
	if rs[1].FinalLoss != nil {
		t.Fatalf("null loss parsed as %v", *rs[1].FinalLoss)
	}
	if rs[2].Impl != "flowgrad" || rs[2].MedianStepSec != 0.0008 {
		t.Fatalf("flowgrad line: %+v", rs[2])
	}
}

// TestStepScriptWritesSideResult checks that every key the embedded Python
// script writes is a field of sideResult, so the two stay in step.
func TestStepScriptWritesSideResult(t *testing.T) {
	script := string(stepScript)
	i := strings.Index(script, `"impl": "pytorch"`)
	if i < 0 {
		t.Fatal(`the embedded step.py writes no "impl": "pytorch" result`)
	}
	var tags []string
	rt := reflect.TypeFor[sideResult]()
	for i := range rt.NumField() {
		tag, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		tags = append(tags, tag)
	}
	keys := regexp.MustCompile(`\n\s+"([a-z_]+)":`).FindAllStringSubmatch(script[i-20:], -1)
	if len(keys) < 10 {
		t.Fatalf("found only %d keys in step.py's result", len(keys))
	}
	for _, k := range keys {
		if !slices.Contains(tags, k[1]) {
			t.Errorf("step.py writes %q, which sideResult does not read (tags %v)", k[1], tags)
		}
	}
}

func sideResults(t *testing.T, lines ...string) []sideResult {
	t.Helper()
	rs, err := decodeJSONLines[sideResult](strings.NewReader(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestSideTableBestOfProcesses(t *testing.T) {
	rs := sideResults(t,
		`{"impl":"flowgrad","batch":10,"threads":1,"examples_per_s":50000,"median_step_s":0.0002}`,
		`{"impl":"flowgrad","batch":10,"threads":1,"examples_per_s":30000,"median_step_s":0.0001}`,
		`{"impl":"flowgrad","batch":10,"threads":2,"examples_per_s":40000}`,
		`{"impl":"pytorch","batch":10,"threads":1,"examples_per_s":20000,"median_step_s":0.0003}`,
		`{"impl":"pytorch","batch":10,"threads":2,"examples_per_s":5000}`,
		// Round 2: PyTorch's two-thread process lands in its fast mode.
		`{"impl":"flowgrad","batch":10,"threads":1,"examples_per_s":45000}`,
		`{"impl":"flowgrad","batch":10,"threads":2,"examples_per_s":42000}`,
		`{"impl":"pytorch","batch":10,"threads":1,"examples_per_s":19000}`,
		`{"impl":"pytorch","batch":10,"threads":2,"examples_per_s":25000}`,
		`{"impl":"flowgrad","batch":100,"threads":2,"examples_per_s":90000}`,
	)
	gorg := &gorgReport{Results: []gorgResult{{Batch: 10, Threads: 1, ExamplesPerS: 6000}, {Batch: 10, Threads: 2, ExamplesPerS: 5000}}}
	tb := sideTable(rs, []int{1, 2}, []int{10, 100, 1000}, gorg)
	want := []string{"B", "flowgrad, 1 thread", "flowgrad, 2 threads", "PyTorch, 1 thread", "PyTorch, 2 threads", "flowgrad ÷ PyTorch", "same, from median steps", "Gorgonia (best)", "flowgrad ÷ Gorgonia"}
	if !slices.Equal(tb.header, want) {
		t.Fatalf("header %q", tb.header)
	}
	rows := []string{
		"10,50000,42000,20000,25000,2.00×,3.00×,6000,8.33×", // best 50000 ÷ best 25000; best median steps 10/0.0001 ÷ 10/0.0003; ÷ Gorgonia's best 6000
		"100,—,90000,—,—,—,—,—,—",                           // no PyTorch at B = 100: no ratios
		"1000,—,—,—,—,—,—,—,—",
	}
	for i, w := range rows {
		if got := strings.Join(tb.rows[i], ","); got != w {
			t.Errorf("row %d: %q, want %q", i, got, w)
		}
	}
	if h := sideHeadline(rs, ptBatchesOf(rs)); h != "B = 10 2.00×" {
		t.Errorf("headline %q", h)
	}
	if b := ptBatchesOf(rs); !slices.Equal(b, []int{10, 100}) {
		t.Errorf("batches %v", b)
	}
	if r, ok := bestSide(rs, "pytorch", 10, 2); !ok || r.ExamplesPerS != 25000 {
		t.Errorf("best PyTorch process at 2 threads: %+v %v", r, ok)
	}
	if _, ok := bestSide(rs, "pytorch", 100, 2); ok {
		t.Error("best of an unmeasured B found")
	}
	csv := sideCSV(rs)
	if len(csv.rows) != len(rs) || csv.rows[0][8] != "50000" || csv.rows[0][10] != "50000" || csv.rows[2][10] != "" { // B ÷ median step; none without a median step
		t.Errorf("CSV row %q", csv.rows[0])
	}
}

func TestPythonEnv(t *testing.T) {
	env := []string{"HOME=/root", "OPENBLAS_CORETYPE=Haswell", "OPENBLAS_L2_SIZE=1048576", "LD_LIBRARY_PATH=/opt/lib", "OMP_NUM_THREADS=8", "PATH=/bin"}
	got := pythonEnv(env, "/usr/lib/x86_64-linux-gnu/openblas-openmp", 2)
	want := []string{"HOME=/root", "PATH=/bin", "LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp:/opt/lib", "OMP_NUM_THREADS=2"}
	if !slices.Equal(got, want) {
		t.Fatalf("env %q, want %q", got, want)
	}
	got = pythonEnv([]string{"HOME=/root"}, "", 0)
	if !slices.Equal(got, []string{"HOME=/root"}) {
		t.Fatalf("without libs or threads: %q", got)
	}
	if !slices.Contains(env, "OPENBLAS_CORETYPE=Haswell") {
		t.Fatal("pythonEnv modified its argument")
	}
}

func TestPyTorchSkippedWithNote(t *testing.T) {
	c, err := parseFlags([]string{"-quick", "-python", "/no/such/python3"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c.out = t.TempDir()
	var stderr bytes.Buffer
	rep, err := runPyTorch(context.Background(), c, nil, "", &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rep.Skipped, "/no/such/python3") || len(rep.Results) != 0 {
		t.Fatalf("report %+v", rep)
	}
	var b strings.Builder
	res := &results{pt: rep}
	if err := reportPyTorch(&b, c, res); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "PyTorch was not measured") || !strings.Contains(b.String(), "/no/such/python3") {
		t.Fatalf("section:\n%s", b.String())
	}
	if s := summary(res); !strings.Contains(s, "PyTorch:** not measured") {
		t.Fatalf("summary %q", s)
	}
}

// TestStepWorker runs flowgrad's side of section 5 on a small random
// MNIST-shaped set and checks what it writes.
func TestStepWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the standard MLP")
	}
	// Pixels from a PCG stream, labels cycling through the classes.
	n, pcg := 2000, rand.NewPCG(1, 2)
	pixels, labels := make([]uint8, n*784), make([]uint8, n)
	for i := range pixels {
		pixels[i] = uint8(pcg.Uint64() >> 56)
	}
	for i := range labels {
		labels[i] = uint8(i % 10)
	}
	ds, err := data.NewDataset(pixels, labels, 784, 10)
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseFlags([]string{"-step-worker", "1"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c.ptBatches, c.ptFraction, c.ptPasses, c.ptWarmup = []int{10, 500}, 0.5, 2, 2
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var out bytes.Buffer
	if err := stepWorker(c, ds, &out); err != nil {
		t.Fatal(err)
	}
	rs := sideResults(t, out.String())
	if len(rs) != 2 {
		t.Fatalf("%d results: %s", len(rs), out.String())
	}
	for i, b := range []int{10, 500} {
		r := rs[i]
		// Half of 2000 examples per pass: 100 steps of 10, 2 of 500 (a
		// short pass is timed tpLargePasses times).
		if r.Impl != "flowgrad" || r.Batch != b || r.Threads != 1 || r.Examples != 1000 || r.Steps != 1000/b ||
			!(r.ExamplesPerS > 0) || !(r.MedianStepSec > 0) {
			t.Errorf("B = %d: %+v", b, r)
		}
	}
}
