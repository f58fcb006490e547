package model

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/tensor"
)

// From the Iris CSV to a saved model and back: the loaded model predicts
// exactly what the trained one does, and it has learnt the classes.
func TestIrisEndToEnd(t *testing.T) {
	f := trainTable(t, loadIris(t), data.FitOptions{}, []int{16}, 60, 0.05)
	path := filepath.Join(t.TempDir(), "iris.model")
	if err := f.model.Save(path); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Meta["epochs"] != "60" || !slices.Equal(loaded.Pre.Classes, []string{"setosa", "versicolor", "virginica"}) {
		t.Errorf("meta %v, classes %v", loaded.Meta, loaded.Pre.Classes)
	}
	// The validation rows as a new program would read them: from the CSV,
	// with the model's reading options.
	va := f.val
	want, err := f.model.Predict(va)
	if err != nil {
		t.Fatal(err)
	}
	got, err := loaded.Predict(va)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Class, want.Class) || !slices.Equal(got.Prob.Data(), want.Prob.Data()) {
		t.Fatal("the loaded model predicts differently from the trained one")
	}
	// The same logits as the network applied to the dataset by hand.
	tape := autograd.NewTape[float32]()
	x := tensor.FromSlice(f.valDS.Len(), f.valDS.Features(), f.valDS.Values())
	logits := f.model.Net.Forward(tape.Input(x)).Data()
	correct := 0
	for i := range va.Len() {
		p := got.Prob.Row(i)
		var s float64
		for _, v := range p {
			s += float64(v)
		}
		if math.Abs(s-1) > 1e-5 {
			t.Errorf("row %d: probabilities %v sum to %v", i, p, s)
		}
		best := slices.Index(logits.Row(i), slices.Max(logits.Row(i)))
		if got.Class[i] != best || slices.Max(p) != p[best] {
			t.Errorf("row %d: class %d, logits %v", i, got.Class[i], logits.Row(i))
		}
		if got.Class[i] == f.valDS.Label(i) {
			correct++
		}
	}
	if acc := float64(correct) / float64(va.Len()); acc < 0.9 {
		t.Errorf("validation accuracy %.3f, want ≥ 0.9", acc)
	}

	var out bytes.Buffer
	if err := got.WriteCSV(&out, nil); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&out).ReadAll()
	if err != nil || len(recs) != va.Len()+1 || strings.Join(recs[0], ",") != "species,p_setosa,p_versicolor,p_virginica" {
		t.Fatalf("CSV %v, %v", recs[:min(2, len(recs))], err)
	}
	for i, rec := range recs[1:] {
		p, _ := strconv.ParseFloat(rec[1+got.Class[i]], 32)
		if rec[0] != got.Classes[got.Class[i]] || float32(p) != got.Prob.At(i, got.Class[i]) {
			t.Fatalf("CSV row %d: %v", i, rec)
		}
	}
}

// Regression with a categorical feature, an ignored ID column and a
// scaled target: predictions come back in the target's units.
func TestRegressionEndToEnd(t *testing.T) {
	tab, err := data.ReadCSV(strings.NewReader(regressionCSV(600, 3)), "gen.csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	opt := data.FitOptions{Target: "y", Ignore: []string{"id"}, ScaleTarget: true}
	f := trainTable(t, tab, opt, []int{32, 32}, 80, 0.01)
	if f.model.Pre.TargetStd == 0 || f.model.Pre.Kind != data.Regression {
		t.Fatalf("%+v", f.model.Pre)
	}
	var buf bytes.Buffer
	if _, err := f.model.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	loaded, err := Read(&buf, "buf")
	if err != nil {
		t.Fatal(err)
	}
	// Prediction rows without the target and with the ID as text.
	var csv strings.Builder
	csv.WriteString("id,x1,x2,g\n")
	y := make([]float64, f.val.Len())
	for i := range f.val.Len() {
		for j, name := range []string{"id", "x1", "x2", "g"} {
			if j > 0 {
				csv.WriteString(",")
			}
			csv.WriteString(f.val.Column(name).Value(i))
		}
		csv.WriteString("\n")
		y[i] = float64(f.val.Column("y").Float(i))
	}
	newRows, err := data.ReadCSV(strings.NewReader(csv.String()), "new.csv", loaded.Pre.CSVOptions(&data.CSVOptions{Text: []string{"id"}}))
	if err != nil {
		t.Fatal(err)
	}
	got, err := loaded.Predict(newRows)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := f.model.Predict(f.val)
	if !slices.Equal(got.Value.Data(), want.Value.Data()) {
		t.Fatal("the loaded model predicts differently from the trained one")
	}
	p := make([]float64, len(y))
	for i := range p {
		p[i] = float64(got.Value.At(i, 0))
	}
	if score := r2(p, y); !(score > 0.97) {
		t.Errorf("validation R² %.4f, want > 0.97", score)
	}
	if got.Len() != len(y) || got.Class != nil || got.Prob != nil {
		t.Errorf("a regression prediction with classes")
	}
}

func TestPredictErrors(t *testing.T) {
	f := trainTable(t, loadIris(t), data.FitOptions{}, []int{4}, 1, 0.05)
	tab, err := data.ReadCSV(strings.NewReader("sepal_length,sepal_width,petal_width\n1,2,3\n"), "bad.csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &Prediction{}
	err = f.model.PredictInto(p, tab)
	if !errors.Is(err, data.ErrColumns) || !strings.HasPrefix(err.Error(), "model: data: bad.csv") || !strings.Contains(err.Error(), `"petal_length"`) {
		t.Errorf("missing column: %v", err)
	}
	if p.Class != nil || p.Prob != nil {
		t.Error("a failed prediction changed its result")
	}
	if _, err := f.model.Predict(f.val.Subset(nil)); !errors.Is(err, data.ErrEmpty) {
		t.Errorf("no rows: %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	f := trainTable(t, loadIris(t), data.FitOptions{}, []int{4}, 1, 0.05)
	wrongOut := layers.MLP[float32](newRand(), 4, 5, 2)
	if _, err := New(wrongOut, f.model.Pre, nil); err == nil || !strings.Contains(err.Error(), "needs 3 outputs") {
		t.Errorf("wrong outputs: %v", err)
	}
	wrongIn := layers.MLP[float32](newRand(), 5, 3)
	if _, err := New(wrongIn, f.model.Pre, nil); err == nil || !strings.Contains(err.Error(), "makes 4 inputs") {
		t.Errorf("wrong inputs: %v", err)
	}
	// A diverged network is not saved, and the old file stays.
	path := filepath.Join(t.TempDir(), "m")
	if err := f.model.Save(path); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	bad := layers.MLP[float32](newRand(), 4, 3)
	bad.Params()[1].Data().Data()[2] = float32(math.NaN())
	m, err := New(bad, f.model.Pre, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Save(path); err == nil || !strings.Contains(err.Error(), `"fc1.b" holds NaN`) {
		t.Errorf("NaN weight: %v", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("a failed save changed the file")
	}
}

// A warm prediction allocates only its result, and nothing with a reused
// result.
func TestPredictAllocations(t *testing.T) {
	f := trainTable(t, loadIris(t), data.FitOptions{}, []int{16, 16}, 1, 0.05)
	tab := loadIris(t)
	m := f.model.Clone()
	p := &Prediction{}
	if err := m.PredictInto(p, tab); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(20, func() { m.PredictInto(p, tab) }); n != 0 {
		t.Errorf("PredictInto with a reused result: %v allocations, want 0", n)
	}
	// Many batch sizes: the buffers kept stay bounded, the results right.
	for n := 1; n <= 3*maxSizes; n++ {
		part := tab.Subset(seq(n))
		q, err := m.Predict(part)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.xs) > maxSizes || !slices.Equal(q.Class, p.Class[:n]) {
			t.Fatalf("%d rows: %d sizes kept, classes %v, want %v", n, len(m.xs), q.Class, p.Class[:n])
		}
	}
	// The result: the Prediction, its Class slice and its Prob matrix
	// (whose gorgonia tensor takes several allocations of its own).
	result := testing.AllocsPerRun(20, func() { _ = tensor.New[float32](tab.Len(), 3) }) + 2
	if n := testing.AllocsPerRun(20, func() { m.Predict(tab) }); n > result {
		t.Errorf("Predict: %v allocations, want ≤ %v (the result's)", n, result)
	}
}

func newRand() *rand.Rand { return rand.New(rand.NewPCG(1, 1)) }

// seq returns 0, 1, …, n−1.
func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// A network with dropout predicts on an evaluation tape: deterministically,
// as the same network without its dropout layer, also after a round trip
// through a file.
func TestPredictWithDropout(t *testing.T) {
	f := trainTable(t, loadIris(t), data.FitOptions{}, []int{8}, 1, 0.05)
	plain := f.model.Net
	withDrop := layers.NewSequential(plain.Layers[0], layers.NewDropout[float32](newRand(), 0.5), plain.Layers[1])
	m, err := New(withDrop, f.model.Pre, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Spec.Layers[1].Type != layers.DropoutType || m.Spec.Layers[1].P != 0.5 {
		t.Fatalf("spec %+v", m.Spec)
	}
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := Read(bytes.NewReader(b), "drop")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := f.model.Predict(f.val)
	for _, mm := range []*Model{m, m, loaded} {
		got, err := mm.Predict(f.val)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Prob.Data(), want.Prob.Data()) {
			t.Fatal("dropout changed a prediction")
		}
	}
}

// A table of more than predictBlock rows goes through in blocks: the
// result is each block's own prediction in place, and a bad row in the
// last block fails the whole call with p unchanged.
func TestPredictInBlocks(t *testing.T) {
	f := trainTable(t, loadIris(t), data.FitOptions{}, []int{8}, 2, 0.05)
	var b strings.Builder
	b.WriteString("sepal_length,sepal_width,petal_length,petal_width\n")
	rng := rand.New(rand.NewPCG(9, 10))
	n := 2*predictBlock + 100
	for range n {
		fmt.Fprintf(&b, "%.1f,%.1f,%.1f,%.1f\n", 4+4*rng.Float64(), 2+2*rng.Float64(), 1+6*rng.Float64(), 2.5*rng.Float64())
	}
	tab, err := data.ReadCSV(strings.NewReader(b.String()), "many.csv", f.model.Pre.CSVOptions(nil))
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.model.Predict(tab)
	if err != nil {
		t.Fatal(err)
	}
	if got.Len() != n {
		t.Fatalf("%d predictions of %d rows", got.Len(), n)
	}
	for lo := 0; lo < n; lo += predictBlock {
		idx := make([]int, 0, predictBlock)
		for i := lo; i < min(lo+predictBlock, n); i++ {
			idx = append(idx, i)
		}
		want, err := f.model.Predict(tab.Subset(idx))
		if err != nil {
			t.Fatal(err)
		}
		for k, i := range idx {
			if got.Class[i] != want.Class[k] || !slices.Equal(got.Prob.Row(i), want.Prob.Row(k)) {
				t.Fatalf("row %d: class %d %v, its block alone %d %v", i, got.Class[i], got.Prob.Row(i), want.Class[k], want.Prob.Row(k))
			}
		}
	}
	// A blank in the last row: the model was trained without filling in
	// missing values, so its block fails, after two good blocks.
	bad, err := data.ReadCSV(strings.NewReader(b.String()+"5,3,,1\n"), "bad.csv", f.model.Pre.CSVOptions(&data.CSVOptions{Missing: true}))
	if err != nil {
		t.Fatal(err)
	}
	before := slices.Clone(got.Class)
	err = f.model.PredictInto(got, bad)
	if !errors.Is(err, data.ErrMissing) || !strings.Contains(err.Error(), fmt.Sprintf("line %d", n+2)) {
		t.Fatalf("a blank in the last row: %v", err)
	}
	if !slices.Equal(got.Class, before) {
		t.Error("a failed prediction changed its result")
	}
}

// A regression with two targets: both predicted, in their units, through
// the file and as CSV with one column per target.
func TestTwoTargets(t *testing.T) {
	tab, err := data.ReadCSV(strings.NewReader(regressionCSV(400, 5)), "gen.csv", &data.CSVOptions{Text: []string{"id"}})
	if err != nil {
		t.Fatal(err)
	}
	// x2 becomes a second target: y and x2 from x1 and g.
	f := trainTable(t, tab, data.FitOptions{Targets: []string{"y", "x2"}, ScaleTarget: true}, []int{16}, 30, 0.01)
	enc, err := f.model.Encode()
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := Read(bytes.NewReader(enc), "two.fgm")
	if err != nil {
		t.Fatal(err)
	}
	got, err := loaded.Predict(f.val)
	if err != nil {
		t.Fatal(err)
	}
	if got.Value.Cols() != 2 || !slices.Equal(got.Targets, []string{"y", "x2"}) {
		t.Fatalf("%d columns, targets %v", got.Value.Cols(), got.Targets)
	}
	var ys []float64
	var ps []float64
	for i := range f.val.Len() {
		ys = append(ys, float64(f.val.Column("y").Float(i)))
		ps = append(ps, float64(got.Value.At(i, 0)))
	}
	if score := r2(ps, ys); !(score > 0.9) { // y is mostly 3·x1 + offset(g): learnable without x2
		t.Errorf("R² of y %.4f, want > 0.9", score)
	}
	var b strings.Builder
	if err := got.WriteCSV(&b, f.val.Column("id")); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(b.String(), "\n"); lines[0] != "id,y,x2" || strings.Count(lines[1], ",") != 2 {
		t.Errorf("CSV %q", lines[:2])
	}
}
