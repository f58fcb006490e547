package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/model"
	"github.com/flowgrad/flowgrad/model/onnx"
	"github.com/flowgrad/flowgrad/tensor"
)

const iris = "../../data/testdata/tables/iris.csv"

// flowgrad runs the command line in-process and returns its exit status,
// stdout and stderr.
func flowgrad(t testing.TB, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func mustRun(t testing.TB, args ...string) string {
	t.Helper()
	code, out, errOut := flowgrad(t, args...)
	if code != 0 {
		t.Fatalf("flowgrad %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// metric reads "name  value" from eval's output.
func metric(t testing.TB, out, name string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + name + `\s+(-?[0-9.]+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no %s in:\n%s", name, out)
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// From CSV to served predictions on the Iris table, with the defaults.
func TestIrisEndToEnd(t *testing.T) {
	dir := t.TempDir()
	mdl := filepath.Join(dir, "iris.fgm")
	out := mustRun(t, "train", "-data", iris, "-model", mdl, "-progress", "off")
	for _, want := range []string{"150 rows, 4 features", `target "species": 3 classes (setosa, versicolor, virginica)`,
		"120 training, 30 validation rows", "MLP 4-64-64-3 (dropout 0.1)", "Adam(", "weight decay=0.03)", "best validation epoch", "refit on all 150 rows", "wrote " + mdl} {
		if !strings.Contains(out, want) {
			t.Errorf("train output lacks %q:\n%s", want, out)
		}
	}
	ev := mustRun(t, "eval", "-model", mdl, "-data", iris)
	if acc := metric(t, ev, "accuracy"); acc < 95 {
		t.Errorf("accuracy %.2f%% on the table it was trained on, want ≥ 95%%:\n%s", acc, ev)
	}
	if !strings.Contains(ev, "confusion matrix") || !regexp.MustCompile(`setosa\s+50\s+0\s+0\s+100.0%`).MatchString(ev) {
		t.Errorf("eval's confusion matrix should classify every setosa:\n%s", ev)
	}
	// Permutation importance: a petal measurement (the two separate the
	// species) first, its accuracy fall large; every feature listed.
	ev = mustRun(t, "eval", "-model", mdl, "-data", iris, "-importance", "-repeats", "3")
	rows := regexp.MustCompile(`(?m)^\s*(\w+)\s+(-?[0-9.]+) ± ([0-9.]+)\s+(-?[0-9.]+) ± ([0-9.]+)$`).FindAllStringSubmatch(ev, -1)
	if !strings.Contains(ev, "permutation importance: how much the accuracy falls") || len(rows) != 4 ||
		!strings.HasPrefix(rows[0][1], "petal") || !(metricOf(rows[0][2]) >= 0.2) {
		t.Errorf("eval -importance:\n%s", ev)
	}
	if code, _, errOut := flowgrad(t, "eval", "-model", mdl, "-data", iris, "-importance", "-repeats", "0"); code != 2 || !strings.Contains(errOut, "-repeats 0") {
		t.Errorf("-repeats 0: exit %d, %s", code, errOut)
	}

	pred := mustRun(t, "predict", "-model", mdl, "-data", iris)
	recs, err := csv.NewReader(strings.NewReader(pred)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 151 || strings.Join(recs[0], ",") != "species,p_setosa,p_versicolor,p_virginica" {
		t.Fatalf("predict wrote %d rows, header %v", len(recs), recs[0])
	}
	for _, r := range recs[1:] {
		var sum float64
		for _, p := range r[1:] {
			v, _ := strconv.ParseFloat(p, 64)
			sum += v
		}
		if math.Abs(sum-1) > 1e-5 {
			t.Fatalf("probabilities %v sum to %v", r[1:], sum)
		}
	}

	// The model file loads in another program, ready to predict.
	m, err := model.Load(mdl)
	if err != nil {
		t.Fatal(err)
	}
	if m.Meta["trained_by"] != "flowgrad train" || len(m.Pre.Classes) != 3 {
		t.Errorf("model metadata %v, classes %v", m.Meta, m.Pre.Classes)
	}

	// -scale-features none keeps the raw features: the model's numeric
	// features are the identity, and it still learns the table.
	raw := filepath.Join(dir, "iris-raw.fgm")
	mustRun(t, "train", "-data", iris, "-model", raw, "-progress", "off", "-scale-features", "none")
	mr, err := model.Load(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range mr.Pre.Features {
		if f.Mean != 0 || f.Std != 1 {
			t.Errorf("-scale-features none: feature %s has mean %v, std %v; want 0, 1", f.Name, f.Mean, f.Std)
		}
	}
	// By default the Iris lengths (in one unit, spreads within 5×) are
	// centred and share one scale.
	for _, f := range m.Pre.Features {
		if f0 := m.Pre.Features[0]; f.Mean == 0 || f.Std != f0.Std || f.Std == 1 {
			t.Errorf("default: feature %s has mean %v, std %v; want the training rows' mean and the scale %v of %s", f.Name, f.Mean, f.Std, f0.Std, f0.Name)
		}
	}
	if acc := metric(t, mustRun(t, "eval", "-model", raw, "-data", iris), "accuracy"); acc < 95 {
		t.Errorf("-scale-features none: accuracy %.2f%% on the training table, want ≥ 95%%", acc)
	}

	onnxPath := filepath.Join(dir, "iris.onnx")
	if out := mustRun(t, "export", "-model", mdl, "-onnx", onnxPath, "-probabilities"); !strings.Contains(out, "opset 13") {
		t.Errorf("export: %s", out)
	}
	if fi, err := os.Stat(onnxPath); err != nil || fi.Size() == 0 {
		t.Fatalf("no ONNX file: %v", err)
	}
}

// house writes n rows of a regression table: price = 3·area − 20·age +
// a district's premium + noise, with an ID column and a categorical
// district.
func house(t testing.TB, path string, n int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	premium := map[string]float64{"north": 50, "south": -30, "east": 10}
	districts := []string{"north", "south", "east"}
	var b strings.Builder
	b.WriteString("id,area,age,district,price\r\n") // CRLF, as spreadsheets write
	for i := range n {
		area, age := 50+100*rng.Float64(), 30*rng.Float64()
		d := districts[rng.IntN(3)]
		price := 3*area - 20*age/3 + premium[d] + 5*rng.NormFloat64()
		fmt.Fprintf(&b, "h%04d,%.2f,%.1f,%s,%.2f\r\n", i, area, age, d, price)
	}
	if err := os.WriteFile(path, []byte("\ufeff"+b.String()), 0o644); err != nil { // with a UTF-8 BOM
		t.Fatal(err)
	}
}

// Regression with an ID column, a categorical feature, CRLF and a BOM:
// `flowgrad train -data train.csv -target price` with no other flag.
func TestRegressionEndToEnd(t *testing.T) {
	dir := t.TempDir()
	trainCSV, testCSV, mdl := filepath.Join(dir, "train.csv"), filepath.Join(dir, "test.csv"), filepath.Join(dir, "m.fgm")
	house(t, trainCSV, 600, 1)
	house(t, testCSV, 200, 2)
	out := mustRun(t, "train", "-data", trainCSV, "-target", "price", "-ignore", "id", "-model", mdl, "-progress", "off")
	if !strings.Contains(out, "regression, standardised") || !strings.Contains(out, "3 features → 5 inputs") || !strings.Contains(out, "weight decay=0.1)") {
		t.Errorf("train output:\n%s", out)
	}
	ev := mustRun(t, "eval", "-model", mdl, "-data", testCSV)
	// Prices span about 150–450 with noise sd 5; the default dropout and
	// weight decay (for small noisy tables) cost some accuracy on data
	// this clean.
	if r2, rmse := metric(t, ev, "R²"), metric(t, ev, "RMSE"); r2 < 0.95 || rmse > 25 {
		t.Errorf("held-out R² %.4f, RMSE %.3f: want R² ≥ 0.95, RMSE ≤ 25\n%s", r2, rmse, ev)
	}
	pred := mustRun(t, "predict", "-model", mdl, "-data", testCSV, "-id", "id")
	lines := strings.Split(strings.TrimSpace(pred), "\n")
	if len(lines) != 201 || lines[0] != "id,price" || !strings.HasPrefix(lines[1], "h0000,") {
		t.Fatalf("predict: %d lines, starting %q, %q", len(lines), lines[0], lines[1])
	}
	// Prices are in the target's units (hundreds), not standardised.
	v, _ := strconv.ParseFloat(strings.Split(lines[1], ",")[1], 64)
	if v < 50 || v > 600 {
		t.Errorf("first prediction %v is not in the target's units", v)
	}
}

// blankOut empties the fields of columns cols in every every-th data row
// of the CSV at path, which must have no quoted fields.
func blankOut(t testing.TB, path string, every int, cols ...int) {
	t.Helper()
	editRows(t, path, every, func(_ int, f []string) {
		for _, j := range cols {
			f[j] = ""
		}
	})
}

// editRows calls edit with the fields of every every-th data row of a
// CSV that house wrote, and writes the file back.
func editRows(t testing.TB, path string, every int, edit func(row int, fields []string)) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\r\n")
	for i := every; i < len(lines)-1; i += every {
		f := strings.Split(lines[i], ",")
		edit(i, f)
		lines[i] = strings.Join(f, ",")
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\r\n")), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Blank fields: an error by default; with -missing mean the model fills
// them in, in training and in every later file, and still predicts well.
func TestMissingValues(t *testing.T) {
	dir := t.TempDir()
	trainCSV, testCSV, blankTestCSV := filepath.Join(dir, "train.csv"), filepath.Join(dir, "test.csv"), filepath.Join(dir, "blanktest.csv")
	blankCSV, mdl := filepath.Join(dir, "blank.csv"), filepath.Join(dir, "m.fgm")
	house(t, trainCSV, 600, 4)
	blankOut(t, trainCSV, 10, 2) // age in every 10th row
	blankOut(t, trainCSV, 7, 3)  // district in every 7th
	house(t, testCSV, 200, 5)
	house(t, blankTestCSV, 200, 5) // the same rows, blanked alike
	blankOut(t, blankTestCSV, 10, 2)
	blankOut(t, blankTestCSV, 7, 3)
	house(t, blankCSV, 20, 6)
	blankOut(t, blankCSV, 2, 1, 3) // area and district in every other row

	if code, _, errOut := flowgrad(t, "train", "-data", trainCSV, "-target", "price", "-ignore", "id", "-model", mdl, "-progress", "off"); code != 1 || !strings.Contains(errOut, "-missing mean") {
		t.Fatalf("blanks without -missing: exit %d, %s", code, errOut)
	}
	out := mustRun(t, "train", "-data", trainCSV, "-target", "price", "-ignore", "id", "-model", mdl, "-progress", "off", "-missing", "mean")
	// 60 blank ages (rows 10, 20, …, 600) and 85 blank districts (7, …, 595).
	if !strings.Contains(out, "missing values: 145, filled in") || !strings.Contains(out, "age (60), district (85)") {
		t.Errorf("train output:\n%s", out)
	}
	// Complete rows score as a model trained without blanks does (R² 0.98
	// on five seeds either way); rows with blanks lose: a blank age is a
	// guess of the mean, ≈ 20·(30/√12)/3 ≈ 58 of error (R² 0.94–0.95).
	complete := metric(t, mustRun(t, "eval", "-model", mdl, "-data", testCSV), "R²")
	blanks := metric(t, mustRun(t, "eval", "-model", mdl, "-data", blankTestCSV), "R²")
	if complete < 0.95 || blanks < 0.9 || blanks > complete-0.01 {
		t.Errorf("held-out R² %.4f on complete rows, %.4f with blanks: want ≥ 0.95, and ≥ 0.9 but below", complete, blanks)
	}
	pred := strings.Split(strings.TrimSpace(mustRun(t, "predict", "-model", mdl, "-data", blankCSV, "-id", "id")), "\n")
	if len(pred) != 21 {
		t.Fatalf("predict: %d lines", len(pred))
	}
	for _, line := range pred[1:] {
		v, err := strconv.ParseFloat(strings.Split(line, ",")[1], 64)
		if err != nil || !(v > 0 && v < 700) {
			t.Errorf("prediction %q: want a price", line)
		}
	}
	// A model trained on complete rows refuses a blank.
	clean := filepath.Join(dir, "clean.fgm")
	mustRun(t, "train", "-data", testCSV, "-target", "price", "-ignore", "id", "-model", clean, "-progress", "off", "-epochs", "3")
	if code, _, errOut := flowgrad(t, "predict", "-model", clean, "-data", blankCSV); code != 1 || !strings.Contains(errOut, "line 3") || !strings.Contains(errOut, "empty value") {
		t.Errorf("blank for a model without -missing: exit %d, %s", code, errOut)
	}
}

// A district column where every 8th row has a district of its own: the
// command warns; with -min-category the rare ones share an input, the
// validation split keeps its size, and predict takes districts it never
// saw.
func TestRareCategories(t *testing.T) {
	dir := t.TempDir()
	trainCSV, testCSV, mdl, grouped := filepath.Join(dir, "train.csv"), filepath.Join(dir, "test.csv"), filepath.Join(dir, "m.fgm"), filepath.Join(dir, "g.fgm")
	house(t, trainCSV, 800, 7)
	house(t, testCSV, 200, 8)
	kiosk := func(prefix string) func(int, []string) {
		return func(i int, f []string) { f[3] = fmt.Sprintf("%s%d", prefix, i) }
	}
	editRows(t, trainCSV, 8, kiosk("kiosk"))
	editRows(t, testCSV, 8, kiosk("stall")) // none of these in training

	out := mustRun(t, "train", "-data", trainCSV, "-target", "price", "-ignore", "id", "-model", mdl, "-progress", "off", "-epochs", "30")
	if !regexp.MustCompile(`note: "district" has \d+ values in \d+ training rows, \d+ of them in one row only: .*-min-category 5`).MatchString(out) {
		t.Errorf("no note on the rare districts:\n%s", out)
	}
	if code, _, errOut := flowgrad(t, "eval", "-model", mdl, "-data", testCSV); code != 1 || !strings.Contains(errOut, `"stall8"`) ||
		!strings.Contains(errOut, "-min-category") || strings.Count(errOut, "kiosk") > 20 {
		t.Errorf("an unseen district without grouping: exit %d, %s", code, errOut)
	}

	out = mustRun(t, "train", "-data", trainCSV, "-target", "price", "-ignore", "id", "-model", grouped, "-progress", "off", "-min-category", "5")
	if !regexp.MustCompile(`categories: "district" has \d+ values in the training rows; the \d+ in fewer than 5 rows share one input \(other\)`).MatchString(out) ||
		!strings.Contains(out, "3 features → 6 inputs") || !strings.Contains(out, "640 training, 160 validation rows") || strings.Contains(out, "note:") {
		t.Errorf("train output with -min-category:\n%s", out)
	}
	// An eighth of the test rows have a district never seen; their prices
	// carry the true district's premium (±40) that "other" cannot know.
	if r2 := metric(t, mustRun(t, "eval", "-model", grouped, "-data", testCSV), "R²"); r2 < 0.95 {
		t.Errorf("held-out R² %.4f with unseen districts, want ≥ 0.95", r2)
	}
	if code, _, errOut := flowgrad(t, "train", "-data", trainCSV, "-min-category", "-1"); code != 2 || !strings.Contains(errOut, "-min-category -1") {
		t.Errorf("-min-category -1: exit %d, %s", code, errOut)
	}
}

// A categorical column with a value in almost every row would make more
// inputs than memory holds: exit 1 with the column named and no model
// file, instead of running out of memory (the bound is lowered here so
// that a small file shows it).
func TestTooManyInputs(t *testing.T) {
	defer func(m int64) { data.MaxInputBytes = m }(data.MaxInputBytes)
	data.MaxInputBytes = 1 << 20
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("x,street,y\n")
	for i := range 3000 {
		fmt.Fprintf(&b, "%d,s%d,%d\n", i, i%2900, i%3)
	}
	p, mdl := filepath.Join(dir, "streets.csv"), filepath.Join(dir, "m.fgm")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := flowgrad(t, "train", "-data", p, "-model", mdl, "-progress", "off")
	if code != 1 || !strings.Contains(errOut, `"street" has`) || !strings.Contains(errOut, "-ignore street") {
		t.Errorf("exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(mdl); err == nil {
		t.Error("a model file was written")
	}
}

// -task: a numeric target of two whole numbers is classes by default, of
// three to ten regression, each with a note saying how to get the other;
// -task classify and -task regress (the values -h lists) choose.
func TestTaskFlag(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, classes int) string {
		var b strings.Builder
		b.WriteString("a,b,y\n")
		for i := range 40 {
			fmt.Fprintf(&b, "%d,%d,%d\n", (i*13)%40, (i*7)%11, i%classes)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	two, three, mdl := write("two.csv", 2), write("three.csv", 3), filepath.Join(dir, "m.fgm")
	for _, c := range []struct {
		file      string
		flags     []string
		want, not string
	}{
		{two, nil, `2 classes (0, 1)`, ""},
		{two, nil, `note: the numeric target "y" holds the two whole numbers 0 and 1, and is trained as classes; for regression, add -task regress`, ""},
		{two, []string{"-task", "regress"}, `regression, standardised`, "note: the numeric target"},
		{two, []string{"-task", "classify"}, `2 classes (0, 1)`, "note: the numeric target"},
		{three, nil, `regression, standardised`, ""},
		{three, nil, `note: the numeric target "y" holds only the whole numbers 0, 1, 2`, ""},
		{three, []string{"-task", "classify"}, `3 classes (0, 1, 2)`, "note: the numeric target"},
	} {
		out := mustRun(t, append([]string{"train", "-data", c.file, "-model", mdl, "-progress", "off", "-epochs", "2"}, c.flags...)...)
		if !strings.Contains(out, c.want) || c.not != "" && strings.Contains(out, c.not) {
			t.Errorf("%s %v: want %q and not %q in\n%s", filepath.Base(c.file), c.flags, c.want, c.not, out)
		}
	}
}

func TestDefaultWeightDecay(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "Adam(rate=Constant(0.001), betas=(0.9, 0.999), eps=1e-08, weight decay=0.03)"},
		{[]string{"-weight-decay", "0"}, "weight decay=0)"},
		{[]string{"-optimizer", "sgd"}, "weight decay=0.03"},
		{[]string{"-optimizer", "adamw"}, "AdamW(rate=Constant(0.001), betas=(0.9, 0.999), eps=1e-08, weight decay=0.01)"},
	} {
		args := append([]string{"train", "-data", iris, "-model", filepath.Join(dir, "m.fgm"), "-epochs", "2", "-progress", "off"}, c.args...)
		if out := mustRun(t, args...); !strings.Contains(out, c.want) {
			t.Errorf("flowgrad %s: output lacks %q:\n%s", strings.Join(args, " "), c.want, out)
		}
	}
}

// Above 1000 training rows the default weight decay shrinks as 1/rows: a
// 2500-row table trains on 2000 rows with 0.03·1000/2000 = 0.015, then
// refits on all 2500 with 0.012; and the default patience is about 3000
// steps: 63 batches of 32 an epoch, so 48 epochs. Given values are kept.
func TestDefaultsForLargeTables(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("a,b,y\n")
	rng := rand.New(rand.NewPCG(3, 4))
	for range 2500 {
		a, c := rng.NormFloat64(), rng.NormFloat64()
		fmt.Fprintf(&b, "%.3f,%.3f,%c\n", a, c, "pq"[min(1, max(0, int(a+c+1)))])
	}
	p, mdl := filepath.Join(dir, "big.csv"), filepath.Join(dir, "m.fgm")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, "train", "-data", p, "-model", mdl, "-progress", "off", "-epochs", "2")
	if !strings.Contains(out, "2000 training, 500 validation rows; early stopping after 48 epochs") || !strings.Contains(out, "weight decay=0.015)") {
		t.Errorf("output:\n%s", out)
	}
	m, err := model.Load(mdl)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Meta["optimizer"]; !strings.Contains(got, "weight decay=0.012)") {
		t.Errorf("the refit's optimizer %q, want weight decay 0.012", got)
	}
	if out := mustRun(t, "train", "-data", p, "-model", mdl, "-progress", "off", "-epochs", "1", "-weight-decay", "0.03", "-patience", "200"); !strings.Contains(out, "weight decay=0.03)") || !strings.Contains(out, "after 200 epochs") {
		t.Errorf("a given -weight-decay 0.03 and -patience 200:\n%s", out)
	}
	// A small table keeps the patience the defaults were tuned with.
	if out := mustRun(t, "train", "-data", iris, "-model", mdl, "-progress", "off", "-epochs", "1"); !strings.Contains(out, "early stopping after 200 epochs") {
		t.Errorf("Iris:\n%s", out)
	}
}

// Bad data exits 1 with a message naming the file, line and column, and
// writes no model file; bad flags exit 2.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	mdl := filepath.Join(dir, "m.fgm")
	for _, c := range []struct {
		name, csv string
		args      []string
		code      int
		want      []string
	}{
		{"ragged", "a,b,y\n1,2,x\n3,4\n", nil, 1, []string{"ragged.csv: line 3", "2 fields, but the header has 3 columns"}},
		{"nonnumeric", "a,b,y\n1,2,x\n3,zz,y\n", nil, 1, []string{"line 3, column \"b\"", `"zz" is not a number`}},
		{"nan", "a,b,y\n1,2,x\nNaN,4,y\n", nil, 1, []string{"line 3, column \"a\"", "NaN and infinities are not allowed"}},
		{"inf", "a,b,y\n1,2,x\n3,-Inf,y\n", nil, 1, []string{"line 3, column \"b\"", "NaN and infinities"}},
		{"empty", "", nil, 1, []string{"empty.csv", "the file is empty"}},
		{"header", "a,b,y\n", nil, 1, []string{"a header but no rows"}},
		{"noname", "a,,y\n1,2,x\n3,4,y\n", nil, 1, []string{"column 2 has no name"}},
		{"duplicate", "a,a,y\n1,2,x\n3,4,y\n", nil, 1, []string{`both named "a"`}},
		{"notarget", "a,b,y\n1,2,x\n3,4,y\n", []string{"-target", "price"}, 1, []string{`no target column "price"`, `"a", "b", "y"`}},
		{"oneclass", "a,b,y\n1,2,x\n3,4,x\n5,6,x\n7,8,x\n9,1,x\n", nil, 1, []string{`single class "x"`}},
		{"constant", "a,b,y\n1,2,x\n1,4,y\n1,5,x\n1,6,y\n1,7,x\n1,8,y\n", nil, 1, []string{`feature column "a" has the same value 1`, "ignore the column"}},
		{"blank", "a,b,y\n1,2,x\n,4,y\n", nil, 1, []string{"line 3, column \"a\"", "empty value", "-missing mean"}},
		{"blanktarget", "a,b,y\n1,2,x\n3,4,\n5,6,x\n7,8,y\n", []string{"-missing", "mean"}, 1, []string{"line 3, column \"y\"", "target is missing"}},
		{"blankcolumn", "a,b,y\n1,,x\n3,,y\n5,,x\n7,,y\n9,,x\n", []string{"-missing", "mean"}, 1, []string{`feature column "b" has no values`}},
		{"semicolons", "a;b;y\n1;2;x\n3;4;y\n", []string{"-target", "y"}, 1, []string{`no target column "y"`, `separated by ";"`, "-sep ';'"}},
		{"badmissing", "a,b,y\n1,2,x\n3,4,y\n", []string{"-missing", "median"}, 2, []string{`-missing "median": want error or mean`}},
		{"badbatch", "a,b,y\n1,2,x\n3,4,y\n", []string{"-batch", "0"}, 2, []string{"-batch 0"}},
		{"bigbatch", "a,b,y\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n9,1,x\n2,3,y\n4,5,x\n6,7,y\n8,9,x\n1,3,y\n", []string{"-batch", "10"}, 2, []string{"-batch 10: at most the 8 training rows left after holding out 2 for validation (-val 0.2)"}},
		{"badhidden", "a,b,y\n1,2,x\n3,4,y\n", []string{"-hidden", "64,x"}, 2, []string{"-hidden"}},
		{"baddropout", "a,b,y\n1,2,x\n3,4,y\n", []string{"-dropout", "1"}, 2, []string{"-dropout 1"}},
		{"badsep", "a,b,y\n1,2,x\n3,4,y\n", []string{"-sep", "ab"}, 2, []string{"-sep"}},
		{"badoptimizer", "a,b,y\n1,2,x\n3,4,y\n", []string{"-optimizer", "lbfgs"}, 2, []string{"-optimizer \"lbfgs\""}},
		{"misapplied", "a,b,y\n1,2,x\n3,4,y\n", []string{"-beta1", "0.8", "-optimizer", "sgd"}, 2, []string{"-beta1 does not apply to -optimizer sgd"}},
		{"badscaling", "a,b,y\n1,2,x\n3,4,y\n", []string{"-scale-features=false"}, 2, []string{`-scale-features "false": want auto, each, joint or none`}},
		{"badlr", "a,b,y\n1,2,x\n3,4,y\n", []string{"-lr", "-1"}, 2, []string{"-lr -1"}},
		{"unknownflag", "a,b,y\n1,2,x\n3,4,y\n", []string{"-bogus"}, 2, []string{"bogus"}},
		{"missingfolder", "a,b,y\n1,2,x\n3,4,y\n", []string{"-model", filepath.Join(dir, "no", "m.fgm")}, 2, []string{"does not exist"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := write(c.name+".csv", c.csv)
			args := append([]string{"train", "-data", p, "-model", mdl, "-progress", "off"}, c.args...)
			code, _, errOut := flowgrad(t, args...)
			if code != c.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, c.code, errOut)
			}
			if strings.Count(strings.TrimSpace(errOut), "\n") > 0 && c.code == 1 || strings.Contains(errOut, "goroutine") {
				t.Errorf("want one line on stderr, no panic trace:\n%s", errOut)
			}
			for _, w := range c.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q lacks %q", errOut, w)
				}
			}
			if _, err := os.Stat(mdl); err == nil {
				t.Fatal("a model file was written")
			}
		})
	}
	if code, _, _ := flowgrad(t, "train"); code != 2 {
		t.Errorf("train without -data: exit %d, want 2", code)
	}
	if code, _, _ := flowgrad(t, "fly"); code != 2 {
		t.Errorf("unknown command: exit %d, want 2", code)
	}
	if code, _, errOut := flowgrad(t, "train", "-h"); code != 0 || !strings.Contains(errOut, "-patience") {
		t.Errorf("train -h: exit %d, usage %q", code, errOut)
	}
}

// A model meets data it cannot score: unseen classes and categories,
// other columns, and damaged model files.
func TestModelMeetsBadData(t *testing.T) {
	dir := t.TempDir()
	trainCSV, mdl := filepath.Join(dir, "train.csv"), filepath.Join(dir, "m.fgm")
	house(t, trainCSV, 300, 3)
	mustRun(t, "train", "-data", trainCSV, "-target", "price", "-ignore", "id", "-model", mdl, "-progress", "off", "-epochs", "5")
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	unseen := write("unseen.csv", "id,area,age,district,price\nx1,80,3,west,200\n")
	code, _, errOut := flowgrad(t, "predict", "-model", mdl, "-data", unseen)
	if code != 1 || !strings.Contains(errOut, "line 2") || !strings.Contains(errOut, `"district"`) || !strings.Contains(errOut, "west") {
		t.Errorf("unseen category: exit %d, %s", code, errOut)
	}
	other := write("other.csv", "id,area,rooms,price\nx1,80,3,200\n")
	code, _, errOut = flowgrad(t, "predict", "-model", mdl, "-data", other)
	if code != 1 || !strings.Contains(errOut, "age") {
		t.Errorf("other columns: exit %d, %s", code, errOut)
	}
	// A column the model did not train on: an error that names -ignore,
	// which skips it in predict and eval.
	extra := write("extra.csv", "id,area,age,district,notes,price\nx1,80,3,north,sunny,250\n")
	code, _, errOut = flowgrad(t, "predict", "-model", mdl, "-data", extra)
	if code != 1 || !strings.Contains(errOut, `column "notes" was not in the training data`) || !strings.Contains(errOut, "-ignore notes") {
		t.Errorf("extra column: exit %d, %s", code, errOut)
	}
	if out := mustRun(t, "predict", "-model", mdl, "-data", extra, "-ignore", "notes", "-id", "id"); !strings.HasPrefix(out, "id,price\nx1,") {
		t.Errorf("predict -ignore notes: %q", out)
	}
	if out := mustRun(t, "eval", "-model", mdl, "-data", extra, "-ignore", "notes"); !strings.Contains(out, "1 rows") {
		t.Errorf("eval -ignore notes: %q", out)
	}
	nolabel := write("nolabel.csv", "id,area,age,district\nx1,80,3,north\n")
	if code, _, errOut = flowgrad(t, "eval", "-model", mdl, "-data", nolabel); code != 1 || !strings.Contains(errOut, `no target column "price"`) {
		t.Errorf("eval without the target: exit %d, %s", code, errOut)
	}
	if code, _, _ := flowgrad(t, "predict", "-model", mdl, "-data", nolabel, "-id", "nope"); code != 2 {
		t.Errorf("-id of a missing column: exit %d, want 2", code)
	}

	good, err := os.ReadFile(mdl)
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)-7] ^= 0x10
	for name, b := range map[string][]byte{"truncated": good[:len(good)/2], "flipped": flipped, "notamodel": []byte("id,area\n1,2\n")} {
		p := write(name+".fgm", string(b))
		code, _, errOut := flowgrad(t, "predict", "-model", p, "-data", nolabel)
		if code != 1 || !strings.Contains(errOut, "model") || strings.Contains(errOut, "goroutine") {
			t.Errorf("%s model file: exit %d, %s", name, code, errOut)
		}
	}

	// Iris: a class the model never saw is refused by eval.
	irisModel := filepath.Join(dir, "iris.fgm")
	mustRun(t, "train", "-data", iris, "-model", irisModel, "-progress", "off", "-epochs", "3")
	newClass := write("newclass.csv", "sepal_length,sepal_width,petal_length,petal_width,species\n5.1,3.5,1.4,0.2,daisy\n")
	if code, _, errOut := flowgrad(t, "eval", "-model", irisModel, "-data", newClass); code != 1 || !strings.Contains(errOut, "daisy") {
		t.Errorf("unseen class: exit %d, %s", code, errOut)
	}
}

// import: a network PyTorch exported (torch.onnx.export of an
// nn.Sequential MLP, committed with PyTorch's outputs on fixed inputs by
// model/onnx/testdata/torch_export.py) becomes a model file over the Iris
// columns that predicts PyTorch's class probabilities; a flowgrad export
// comes back without -data and predicts as the model did.
func TestImport(t *testing.T) {
	dir := t.TempDir()
	var rec struct{ Inputs, Outputs [][]float64 }
	b, err := os.ReadFile("../../model/onnx/testdata/torch_mlp.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	var rows strings.Builder
	rows.WriteString("sepal_length,sepal_width,petal_length,petal_width\n")
	for _, x := range rec.Inputs {
		fmt.Fprintf(&rows, "%v,%v,%v,%v\n", x[0], x[1], x[2], x[3])
	}
	inputs := filepath.Join(dir, "inputs.csv")
	if err := os.WriteFile(inputs, []byte(rows.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	torchModel := filepath.Join(dir, "torch.fgm")
	if code, _, errOut := flowgrad(t, "import", "-onnx", "../../model/onnx/testdata/torch_mlp.onnx", "-model", torchModel); code != 1 || !strings.Contains(errOut, "give -data") {
		t.Errorf("import of a foreign file without -data: exit %d, %s", code, errOut)
	}
	mustRun(t, "import", "-onnx", "../../model/onnx/testdata/torch_mlp.onnx", "-data", iris, "-model", torchModel)
	pred := mustRun(t, "predict", "-model", torchModel, "-data", inputs)
	recs, err := csv.NewReader(strings.NewReader(pred)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for i, logits := range rec.Outputs {
		var sum float64
		for _, z := range logits {
			sum += math.Exp(z)
		}
		for j, z := range logits {
			got, _ := strconv.ParseFloat(recs[i+1][j+1], 64)
			if want := math.Exp(z) / sum; math.Abs(got-want) > 1e-5 {
				t.Fatalf("row %d class %d: probability %v, PyTorch's softmax %v", i, j, got, want)
			}
		}
	}

	// A flowgrad model → ONNX → a model file again.
	mdl, onnxPath, back := filepath.Join(dir, "iris.fgm"), filepath.Join(dir, "iris.onnx"), filepath.Join(dir, "back.fgm")
	mustRun(t, "train", "-data", iris, "-model", mdl, "-progress", "off", "-epochs", "5")
	mustRun(t, "export", "-model", mdl, "-onnx", onnxPath)
	mustRun(t, "import", "-onnx", onnxPath, "-model", back)
	if a, b := mustRun(t, "predict", "-model", mdl, "-data", iris), mustRun(t, "predict", "-model", back, "-data", iris); a != b {
		t.Error("the model imported from its ONNX export predicts differently")
	}
}

// writeConfusion on a small case worked by hand: counts per true class
// a: 1 1 0, b: 0 2 1, c: 0 0 1.
func TestWriteConfusion(t *testing.T) {
	var b strings.Builder
	writeConfusion(&b, []string{"a", "b", "c"}, []int32{0, 0, 1, 1, 1, 2}, []int{0, 1, 1, 1, 2, 2})
	out := b.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`\n\s+a\s+1\s+1\s+0\s+50\.0%\s+66\.7%`),  // recall 1/2, F1 2·1/(2+1)
		regexp.MustCompile(`\n\s+b\s+0\s+2\s+1\s+66\.7%\s+66\.7%`),  // recall 2/3, F1 2·2/(3+3)
		regexp.MustCompile(`\n\s+c\s+0\s+0\s+1\s+100\.0%\s+66\.7%`), // recall 1/1, F1 2·1/(1+2)
		regexp.MustCompile(`precision\s+100\.0%\s+66\.7%\s+50\.0%`), // 1/1, 2/3, 1/2
		regexp.MustCompile(`macro F1  66\.7%`),
	} {
		if !want.MatchString(out) {
			t.Errorf("output lacks %v:\n%s", want, out)
		}
	}
}

// BenchmarkMissingValuesR2 measures what blanks cost (docs/tabular.md,
// "Missing values"): over the house tables of seeds 4–8 (600 training
// rows, 200 test rows), the median held-out R² of a model trained without
// blanks, of one trained with 10 % of the ages and 14 % of the districts
// blank (-missing mean) on complete test rows, and of that model on test
// rows blanked alike.
//
//	go test ./cmd/flowgrad -run '^$' -bench MissingValuesR2 -benchtime 1x
func BenchmarkMissingValuesR2(b *testing.B) {
	for b.Loop() {
		var clean, blankClean, blankBlank []float64
		for seed := uint64(4); seed <= 8; seed++ {
			dir := b.TempDir()
			path := func(n string) string { return filepath.Join(dir, n) }
			house(b, path("train.csv"), 600, seed)
			house(b, path("test.csv"), 200, seed+100)
			house(b, path("blanktest.csv"), 200, seed+100)
			blankOut(b, path("blanktest.csv"), 10, 2)
			blankOut(b, path("blanktest.csv"), 7, 3)
			train := func(mdl string) {
				if code, _, errOut := flowgrad(b, "train", "-data", path("train.csv"), "-target", "price", "-ignore", "id", "-model", mdl, "-progress", "off", "-missing", "mean"); code != 0 {
					b.Fatal(errOut)
				}
			}
			train(path("clean.fgm"))
			clean = append(clean, evalR2(b, path("clean.fgm"), path("test.csv")))
			blankOut(b, path("train.csv"), 10, 2)
			blankOut(b, path("train.csv"), 7, 3)
			train(path("blank.fgm"))
			blankClean = append(blankClean, evalR2(b, path("blank.fgm"), path("test.csv")))
			blankBlank = append(blankBlank, evalR2(b, path("blank.fgm"), path("blanktest.csv")))
		}
		b.ReportMetric(median(clean), "R²-clean")
		b.ReportMetric(median(blankClean), "R²-blanks-on-complete-rows")
		b.ReportMetric(median(blankBlank), "R²-blanks-on-blank-rows")
	}
}

// BenchmarkRareCategoriesR2 reports the median held-out R² over seeds 4–8
// of models trained on 800 house rows where every 8th row has a district
// of its own (a kiosk): grouped (-min-category 5) and with the district
// ignored, on 200 test rows where every 8th has a district never seen;
// and grouped and not grouped (the default) on the same test rows with
// their true districts, which both can encode.
//
//	go test ./cmd/flowgrad -run '^$' -bench RareCategoriesR2 -benchtime 1x
func BenchmarkRareCategoriesR2(b *testing.B) {
	for b.Loop() {
		var grouped, ignored, groupedKnown, plainKnown []float64
		for seed := uint64(4); seed <= 8; seed++ {
			dir := b.TempDir()
			path := func(n string) string { return filepath.Join(dir, n) }
			house(b, path("train.csv"), 800, seed)
			house(b, path("test.csv"), 200, seed+100)
			house(b, path("known.csv"), 200, seed+100)
			editRows(b, path("train.csv"), 8, func(i int, f []string) { f[3] = fmt.Sprintf("kiosk%d", i) })
			editRows(b, path("test.csv"), 8, func(i int, f []string) { f[3] = fmt.Sprintf("stall%d", i) })
			train := func(mdl string, flags ...string) {
				args := append([]string{"train", "-data", path("train.csv"), "-target", "price", "-model", mdl, "-progress", "off"}, flags...)
				if code, _, errOut := flowgrad(b, args...); code != 0 {
					b.Fatal(errOut)
				}
			}
			train(path("grouped.fgm"), "-ignore", "id", "-min-category", "5")
			train(path("ignored.fgm"), "-ignore", "id,district")
			train(path("plain.fgm"), "-ignore", "id")
			grouped = append(grouped, evalR2(b, path("grouped.fgm"), path("test.csv")))
			ignored = append(ignored, evalR2(b, path("ignored.fgm"), path("test.csv")))
			groupedKnown = append(groupedKnown, evalR2(b, path("grouped.fgm"), path("known.csv")))
			plainKnown = append(plainKnown, evalR2(b, path("plain.fgm"), path("known.csv")))
		}
		b.ReportMetric(median(grouped), "R²-grouped")
		b.ReportMetric(median(ignored), "R²-ignored")
		b.ReportMetric(median(groupedKnown), "R²-grouped-known")
		b.ReportMetric(median(plainKnown), "R²-plain-known")
	}
}

// evalR2 returns the R² that flowgrad eval reports for a model on a CSV.
func evalR2(t testing.TB, mdl, data string) float64 {
	return metric(t, mustRun(t, "eval", "-model", mdl, "-data", data), "R²")
}

// median returns the median of v, sorting v.
func median(v []float64) float64 {
	slices.Sort(v)
	return v[len(v)/2]
}

// A numeric column that counts the rows is a feature, with a note; a
// numeric feature that merely rises in places is not noted.
func TestRowNumberNote(t *testing.T) {
	dir := t.TempDir()
	csvPath, mdl := filepath.Join(dir, "t.csv"), filepath.Join(dir, "m.fgm")
	var b strings.Builder
	b.WriteString("row,x,y\n")
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 60 {
		x := rng.NormFloat64()
		fmt.Fprintf(&b, "%d,%.3f,%d\n", 1001+2*i, x, i%3)
	}
	if err := os.WriteFile(csvPath, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, "train", "-data", csvPath, "-task", "classify", "-model", mdl, "-progress", "off", "-epochs", "2")
	if !strings.Contains(out, `note: "row" holds whole numbers that rise with every row`) || strings.Contains(out, `"x" holds`) {
		t.Errorf("train output:\n%s", out)
	}
	out = mustRun(t, "train", "-data", csvPath, "-task", "classify", "-ignore", "row", "-model", mdl, "-progress", "off", "-epochs", "2")
	if strings.Contains(out, "rise with every row") {
		t.Errorf("a note for an ignored column:\n%s", out)
	}
}

func metricOf(s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return math.NaN()
	}
	return v
}

// -cv K: K fold lines whose test rows cover the table once, a
// cross-validated score that the model file keeps, then the usual
// training; bad values of K are usage errors.
func TestCrossValidation(t *testing.T) {
	dir := t.TempDir()
	mdl := filepath.Join(dir, "m.fgm")
	out := mustRun(t, "train", "-data", iris, "-model", mdl, "-progress", "off", "-cv", "3", "-epochs", "60")
	folds := regexp.MustCompile(`(?m)^fold (\d): (\d+) training, (\d+) test rows: accuracy ([0-9.]+)%`).FindAllStringSubmatch(out, -1)
	tested := 0
	for _, f := range folds {
		n, _ := strconv.Atoi(f[3])
		tested += n
		if acc := metricOf(f[4]); !(acc >= 80) {
			t.Errorf("fold %s: accuracy %v%%", f[1], acc)
		}
	}
	cv := regexp.MustCompile(`cross-validated (accuracy [0-9.]+% ± [0-9.]+, macro F1 [0-9.]+% ± [0-9.]+ \(mean ± sd over 3 folds, seed 1\))`).FindStringSubmatch(out)
	if len(folds) != 3 || tested != 150 || cv == nil || !strings.Contains(out, "wrote "+mdl) ||
		strings.Index(out, "cross-validated") > strings.Index(out, "flowgrad train:") {
		t.Fatalf("train -cv 3:\n%s", out)
	}
	m, err := model.Load(mdl)
	if err != nil {
		t.Fatal(err)
	}
	if m.Meta["cross_validation"] != cv[1] {
		t.Errorf("model metadata %q, want %q", m.Meta["cross_validation"], cv[1])
	}

	reg := filepath.Join(dir, "house.csv")
	house(t, reg, 300, 3)
	out = mustRun(t, "train", "-data", reg, "-target", "price", "-ignore", "id", "-model", mdl, "-progress", "off", "-cv", "4")
	m2 := regexp.MustCompile(`cross-validated R² ([0-9.]+) ± ([0-9.]+), RMSE`).FindStringSubmatch(out)
	if m2 == nil || !(metricOf(m2[1]) > 0.95) || strings.Count(out, "\nfold ") != 4 {
		t.Errorf("regression -cv 4:\n%s", out)
	}
	// Two classes: each fold's ROC AUC too.
	yesNo := filepath.Join(dir, "yesno.csv")
	imbalanced(t, yesNo, 600, 4)
	out = mustRun(t, "train", "-data", yesNo, "-model", mdl, "-progress", "off", "-cv", "2", "-epochs", "5")
	if len(regexp.MustCompile(`(?m)^fold \d: .*, macro F1 [0-9.]+%, ROC AUC [0-9.]+$`).FindAllString(out, -1)) != 2 || !regexp.MustCompile(`cross-validated accuracy [0-9.]+% ± [0-9.]+, macro F1 [0-9.]+% ± [0-9.]+, ROC AUC [0-9.]+ ± [0-9.]+ \(mean`).MatchString(out) {
		t.Errorf("two classes -cv 2:\n%s", out)
	}
	for _, k := range []string{"1", "-2"} {
		if code, _, errOut := flowgrad(t, "train", "-data", iris, "-model", mdl, "-cv", k); code != 2 || !strings.Contains(errOut, "-cv "+k) {
			t.Errorf("-cv %s: exit %d, %s", k, code, errOut)
		}
	}
	if code, _, errOut := flowgrad(t, "train", "-data", iris, "-model", mdl, "-cv", "151"); code != 1 || !strings.Contains(errOut, "150 rows cannot make 151 folds") {
		t.Errorf("-cv 151: exit %d, %s", code, errOut)
	}
}

// imbalanced writes n rows of a yes/no table where yes is about 5 % of
// the rows and overlaps no: a ~ N(1, 1), b ~ N(0.8, 1) for yes, N(0, 1)
// for no, c noise.
func imbalanced(t testing.TB, path string, n int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 3))
	var b strings.Builder
	b.WriteString("a,b,c,fraud\n")
	for range n {
		y := rng.Float64() < 0.05
		shift := map[bool]float64{true: 1, false: 0}[y]
		fmt.Fprintf(&b, "%.4f,%.4f,%.4f,%s\n", rng.NormFloat64()+shift, rng.NormFloat64()+0.8*shift, rng.NormFloat64(), map[bool]string{true: "yes", false: "no"}[y])
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// On a rare class the defaults answer the common one; -class-weight
// balanced finds most of the rare class. eval's ROC AUC shows that both
// rank the rows alike.
func TestClassWeights(t *testing.T) {
	dir := t.TempDir()
	trainCSV, testCSV, plain, weighted := filepath.Join(dir, "train.csv"), filepath.Join(dir, "test.csv"), filepath.Join(dir, "p.fgm"), filepath.Join(dir, "w.fgm")
	imbalanced(t, trainCSV, 3000, 1)
	imbalanced(t, testCSV, 2000, 2)
	mustRun(t, "train", "-data", trainCSV, "-model", plain, "-progress", "off", "-epochs", "30")
	out := mustRun(t, "train", "-data", trainCSV, "-model", weighted, "-progress", "off", "-epochs", "30", "-class-weight", "balanced")
	if !regexp.MustCompile(`class weights \(balanced, from the training rows\): no 0\.5\d+, yes \d+\.\d+; early stopping watches the weighted validation loss`).MatchString(out) {
		t.Errorf("train -class-weight balanced:\n%s", out)
	}
	recallOfYes := func(ev string) float64 {
		m := regexp.MustCompile(`(?m)^\s*yes\s+\d+\s+\d+\s+([0-9.]+)%`).FindStringSubmatch(ev)
		if m == nil {
			t.Fatalf("no recall of yes in:\n%s", ev)
		}
		return metricOf(m[1])
	}
	evPlain, evWeighted := mustRun(t, "eval", "-model", plain, "-data", testCSV), mustRun(t, "eval", "-model", weighted, "-data", testCSV)
	rp, rw := recallOfYes(evPlain), recallOfYes(evWeighted)
	ap, aw := metric(t, evPlain, "ROC AUC"), metric(t, evWeighted, "ROC AUC")
	if !(rp < 10 && rw > 40 && ap > 0.75 && aw > 0.75) {
		t.Errorf("recall of yes %.1f%% plain, %.1f%% balanced (want < 10, > 40); ROC AUC %.4f, %.4f (want > 0.75)", rp, rw, ap, aw)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-data", trainCSV, "-class-weight", "heavy"}, `-class-weight "heavy": want none or balanced`},
		{[]string{"-data", iris, "-target", "petal_width", "-class-weight", "balanced"}, "class weights need classes"},
	} {
		if code, _, errOut := flowgrad(t, append([]string{"train", "-model", filepath.Join(dir, "x.fgm"), "-progress", "off"}, c.args...)...); code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %s", c.args, code, errOut)
		}
	}
}

// BenchmarkClassWeights reports medians over seeds 1–5 of the defaults
// and of -class-weight balanced on the imbalanced table (3000 training
// rows, 2000 test rows, yes ≈ 5 %): the recall of yes, the accuracy and
// the ROC AUC on the test rows.
//
//	go test ./cmd/flowgrad -run '^$' -bench ClassWeights -benchtime 1x
func BenchmarkClassWeights(b *testing.B) {
	for b.Loop() {
		res := map[string][]float64{}
		for seed := uint64(1); seed <= 5; seed++ {
			dir := b.TempDir()
			trainCSV, testCSV := filepath.Join(dir, "train.csv"), filepath.Join(dir, "test.csv")
			imbalanced(b, trainCSV, 3000, seed)
			imbalanced(b, testCSV, 2000, seed+100)
			for _, w := range []string{"none", "balanced"} {
				mdl := filepath.Join(dir, w+".fgm")
				mustRun(b, "train", "-data", trainCSV, "-model", mdl, "-progress", "off", "-class-weight", w, "-seed", fmt.Sprint(seed))
				ev := mustRun(b, "eval", "-model", mdl, "-data", testCSV)
				m := regexp.MustCompile(`(?m)^\s*yes\s+\d+\s+\d+\s+([0-9.]+)%`).FindStringSubmatch(ev)
				if m == nil {
					b.Fatalf("no recall in:\n%s", ev)
				}
				res["recall-"+w] = append(res["recall-"+w], metricOf(m[1]))
				res["acc-"+w] = append(res["acc-"+w], metric(b, ev, "accuracy"))
				res["AUC-"+w] = append(res["AUC-"+w], metric(b, ev, "ROC AUC"))
			}
		}
		for k, v := range res {
			b.ReportMetric(median(v), k)
		}
	}
}

// flowgrad serve answers requests on the address it prints, and stops
// cleanly when its context ends (SIGINT in main).
func TestServe(t *testing.T) {
	dir := t.TempDir()
	mdl := filepath.Join(dir, "m.fgm")
	mustRun(t, "train", "-data", iris, "-model", mdl, "-progress", "off", "-epochs", "20")
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int)
	var errOut bytes.Buffer
	go func() {
		code := run(ctx, []string{"serve", "-model", mdl, "-addr", "127.0.0.1:0"}, pw, &errOut)
		pw.Close()
		done <- code
	}()
	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		t.Fatalf("serve printed nothing: %s", errOut.String())
	}
	m := regexp.MustCompile(`on (http://127\.0\.0\.1:\d+): POST /predict`).FindStringSubmatch(lines.Text())
	if m == nil {
		t.Fatalf("no address in %q", lines.Text())
	}
	body := `{"rows": [{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}]}`
	resp, err := http.Post(m[1]+"/predict", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(answer), `"class":"setosa"`) {
		t.Errorf("POST /predict: %d %s", resp.StatusCode, answer)
	}
	cancel()
	rest, _ := io.ReadAll(pr)
	if code := <-done; code != 0 || !strings.Contains(string(rest), "stopped") {
		t.Errorf("serve ended with %d, %q, %s", code, rest, errOut.String())
	}
	if code, _, errOut := flowgrad(t, "serve", "-model", mdl, "-max-body", "0"); code != 2 || !strings.Contains(errOut, "-max-body 0") {
		t.Errorf("-max-body 0: exit %d, %s", code, errOut)
	}
	if code, _, errOut := flowgrad(t, "serve", "-model", mdl, "-addr", "no-such-host.invalid:http"); code != 1 || !strings.Contains(errOut, "-addr") {
		t.Errorf("a bad address: exit %d, %s", code, errOut)
	}
}

// -split last validates on the last rows; bad values and -cv with it are
// usage errors.
func TestSplitLast(t *testing.T) {
	dir := t.TempDir()
	csvPath, mdl := filepath.Join(dir, "h.csv"), filepath.Join(dir, "m.fgm")
	house(t, csvPath, 200, 9)
	out := mustRun(t, "train", "-data", csvPath, "-target", "price", "-ignore", "id", "-model", mdl, "-progress", "off", "-epochs", "5", "-split", "last", "-val", "0.25")
	if !strings.Contains(out, "split (the last rows validate): 150 training, 50 validation rows") {
		t.Errorf("train -split last:\n%s", out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-split", "middle"}, `-split "middle": want random or last`},
		{[]string{"-split", "last", "-cv", "3"}, "-cv with -split last"},
	} {
		if code, _, errOut := flowgrad(t, append([]string{"train", "-data", csvPath, "-model", mdl}, c.args...)...); code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %s", c.args, code, errOut)
		}
	}
}

// describe shows each column's type, blanks and values, with a note on
// identifiers, row numbers, constants, codes and a yes/no target.
func TestDescribe(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "t.csv")
	var b strings.Builder
	b.WriteString("row,name,site,level,const,x,label\n")
	for i := range 30 {
		site := []string{"north", "south", ""}[i%3]
		fmt.Fprintf(&b, "%d,n%d,%s,%d,7,%.2f,%d\n", i+1, i, site, i%4, float64(i)/3, i%2)
	}
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, "describe", "-data", p)
	for _, want := range []string{
		`30 rows, 7 columns \(flowgrad train's default target is the last, "label"\)`,
		`row\s+numeric\s+-\s+1 … 30, mean 15.5\s+whole numbers rising with every row: a row number\? -ignore it`,
		`name\s+categorical\s+-\s+30 distinct: n0 \(1\), n1 \(1\), n2 \(1\), …\s+a different value in every row: an identifier\? -ignore it`,
		`site\s+categorical\s+10\s+2 distinct: north \(10\), south \(10\)\s*\n`,
		`level\s+numeric\s+-\s+0 … 3, mean 1.433\s+4 whole numbers: if they are codes, -categorical`,
		`const\s+numeric\s+-\s+7 … 7, mean 7\s+constant: ignore it`,
		`x\s+numeric\s+-\s+0 … 9.67, mean 4.833\s*\n`,
		`label\s+numeric\s+-\s+0 … 1, mean 0.5\s+two whole numbers: as a target, classes`,
		`blank fields in site: train stops at them unless -missing mean`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("describe lacks %s:\n%s", want, out)
		}
	}
	semi := filepath.Join(dir, "semi.csv")
	if err := os.WriteFile(semi, []byte("x;y\n1;2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := mustRun(t, "describe", "-data", semi); !strings.Contains(out, `one column only: is the file separated by ";"?`) {
		t.Errorf("describe of a semicolon file:\n%s", out)
	}
	if code, _, errOut := flowgrad(t, "describe"); code != 2 || !strings.Contains(errOut, "-data") {
		t.Errorf("no -data: exit %d, %s", code, errOut)
	}
	if code, _, errOut := flowgrad(t, "describe", "-data", filepath.Join(dir, "none.csv")); code != 1 || !strings.Contains(errOut, "none.csv") {
		t.Errorf("no file: exit %d, %s", code, errOut)
	}
}

// The task is decided on the whole table: a numeric target of three
// values whose training rows hold two is still regression (it was trained
// as two classes and the validation row's value was "not seen").
func TestTaskDecidedOnAllRows(t *testing.T) {
	dir := t.TempDir()
	p, mdl := filepath.Join(dir, "three.csv"), filepath.Join(dir, "m.fgm")
	if err := os.WriteFile(p, []byte("x,y\n1,1\n2,2\n3,1\n4,2\n5,3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, "train", "-data", p, "-model", mdl, "-progress", "off", "-epochs", "2", "-val", "0.2", "-split", "last")
	if !strings.Contains(out, `target "y": regression`) {
		t.Errorf("train:\n%s", out)
	}
}

// -target a,b: a regression with one output per target, evaluated per
// target in its units and predicted as one column each.
func TestSeveralTargets(t *testing.T) {
	dir := t.TempDir()
	trainCSV, testCSV, mdl := filepath.Join(dir, "train.csv"), filepath.Join(dir, "test.csv"), filepath.Join(dir, "m.fgm")
	house(t, trainCSV, 600, 11)
	house(t, testCSV, 200, 12)
	// price = 3·area − 20·age/3 + premium: from area and district, price
	// is partly predictable and age (drawn independently) not at all.
	out := mustRun(t, "train", "-data", trainCSV, "-target", "price,area", "-ignore", "id", "-model", mdl, "-progress", "off", "-cv", "2")
	if !strings.Contains(out, `targets "price", "area": regression with 2 outputs, each standardised`) || !strings.Contains(out, "2 features → 4 inputs") ||
		!strings.Contains(out, "cross-validated R²") {
		t.Errorf("train:\n%s", out)
	}
	ev := mustRun(t, "eval", "-model", mdl, "-data", testCSV)
	rows := regexp.MustCompile(`(?m)^\s*(price|area)\s+([0-9.]+)\s+([0-9.]+)\s+(-?[0-9.]+)$`).FindAllStringSubmatch(ev, -1)
	if len(rows) != 2 || !strings.Contains(ev, `targets "price", "area"`) || !strings.Contains(ev, "mean R²") {
		t.Fatalf("eval:\n%s", ev)
	}
	// area from age and district alone is noise; price from them: the
	// premium and age explain a little.
	for _, r := range rows {
		if r2 := metricOf(r[4]); !(r2 < 0.5) || metricOf(r[2]) <= 0 {
			t.Errorf("%s: RMSE %s, R² %s (neither target follows from the other features)", r[1], r[2], r[4])
		}
	}
	pred := strings.Split(mustRun(t, "predict", "-model", mdl, "-data", testCSV, "-id", "id"), "\n")
	if pred[0] != "id,price,area" || strings.Count(pred[1], ",") != 2 {
		t.Errorf("predict: %q", pred[:2])
	}
	if code, _, errOut := flowgrad(t, "train", "-data", trainCSV, "-target", "price,district", "-ignore", "id", "-model", mdl); code != 1 || !strings.Contains(errOut, `column "district"`) {
		t.Errorf("a categorical second target: exit %d, %s", code, errOut)
	}
}

// import -target a,b: a foreign regression network with two outputs and
// its own output scaling becomes a two-target model that predicts what
// the network computes.
func TestImportTwoTargets(t *testing.T) {
	dir := t.TempDir()
	tablePath, onnxPath, mdl := filepath.Join(dir, "t.csv"), filepath.Join(dir, "n.onnx"), filepath.Join(dir, "m.fgm")
	if err := os.WriteFile(tablePath, []byte("x1,x2,a,b\n1,2,3,4\n0.5,-1,2,5\n2,0,1,6\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	net := layers.MLP[float32](rand.New(rand.NewPCG(3, 4)), 2, 4, 2)
	f, err := os.Create(onnxPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := onnx.Encode(f, &onnx.Network{Net: net, OutputScale: []float32{2, 3}, OutputShift: []float32{10, 20}}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	mustRun(t, "import", "-onnx", onnxPath, "-data", tablePath, "-target", "a,b", "-model", mdl)
	recs, err := csv.NewReader(strings.NewReader(mustRun(t, "predict", "-model", mdl, "-data", tablePath))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	tape := autograd.NewTape[float32]()
	out := net.Forward(tape.Input(tensor.FromSlice(3, 2, []float32{1, 2, 0.5, -1, 2, 0}))).Data()
	if strings.Join(recs[0], ",") != "a,b" || len(recs) != 4 {
		t.Fatalf("predict: %q", recs)
	}
	for i := range 3 {
		for j, sc := range [][2]float32{{2, 10}, {3, 20}} {
			got, _ := strconv.ParseFloat(recs[i+1][j], 32)
			if want := out.At(i, j)*sc[0] + sc[1]; math.Abs(got-float64(want)) > 1e-4 {
				t.Errorf("row %d target %d: %v, the network's %v", i, j, got, want)
			}
		}
	}
	if code, _, errOut := flowgrad(t, "import", "-onnx", onnxPath, "-data", tablePath, "-target", "a", "-ignore", "b", "-model", mdl); code != 1 || !strings.Contains(errOut, "scales 2 outputs") {
		t.Errorf("one target for two scaled outputs: exit %d, %s", code, errOut)
	}
}
