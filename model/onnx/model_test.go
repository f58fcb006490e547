package onnx

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/model"
	"github.com/flowgrad/flowgrad/optim"
	"github.com/flowgrad/flowgrad/tensor"
)

// tableModel returns a model of the preprocessing fitted to t and an MLP
// with random weights (what is tested is the export of the preprocessing
// and the layers, not training), and t.
func tableModel(t testing.TB, tab *data.Table, opt data.FitOptions, seed uint64) *model.Model {
	t.Helper()
	pre, err := data.Fit(tab, opt)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 15))
	net := layers.MLP[float32](rng, pre.Inputs(), 16, 16, pre.Outputs())
	for _, p := range net.Params() {
		for i := range p.Data().Data() { // biases too
			p.Data().Data()[i] = float32(rng.NormFloat64() * 0.5)
		}
	}
	m, err := model.New(net, pre, map[string]string{"trained": "no", "seed": fmt.Sprint(seed)})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func irisModel(t testing.TB) (*model.Model, *data.Table) {
	t.Helper()
	tab, err := data.LoadCSV(filepath.Join("..", "..", "data", "testdata", "tables", "iris.csv"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return tableModel(t, tab, data.FitOptions{Target: "species"}, 1), tab
}

// mixedTable is a regression table with two numeric features, a
// categorical one and a target in large units.
func mixedTable(t testing.TB, rows int) *data.Table {
	t.Helper()
	rng := rand.New(rand.NewPCG(15, 9))
	var b strings.Builder
	b.WriteString("x1,colour,x2,price\n")
	for range rows {
		x1, x2 := rng.NormFloat64()*3+20, rng.Float64()*100
		c := []string{"red", "green", "blue"}[rng.IntN(3)]
		fmt.Fprintf(&b, "%.3f,%s,%.2f,%.1f\n", x1, c, x2, 1000+50*x1-3*x2+rng.NormFloat64())
	}
	tab, err := data.ReadCSV(strings.NewReader(b.String()), "mixed.csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// graphInputs returns the rows of t as the exported graph takes them:
// numeric features raw, categorical ones one-hot (a category not listed
// on the other input, if there is one).
func graphInputs(p *data.Preprocessor, t *data.Table) *tensor.Dense[float32] {
	x := tensor.New[float32](t.Len(), p.Inputs())
	for i := range t.Len() {
		j := 0
		for _, f := range p.Features {
			c := t.Column(f.Name)
			if f.Type == data.Numeric {
				x.Set(i, j, c.Float(i))
				j++
				continue
			}
			listed := false
			for _, cat := range f.Categories {
				if c.Value(i) == cat {
					x.Set(i, j, 1)
					listed = true
				}
				j++
			}
			if f.Other {
				if !listed {
					x.Set(i, j, 1)
				}
				j++
			}
		}
	}
	return x
}

// TestExportedModelPredictsAsTheModel: gonnx running the exported file on
// the raw (one-hot encoded) rows gives model.Predict's probabilities or
// values, to float32 rounding.
func TestExportedModelPredictsAsTheModel(t *testing.T) {
	iris, irisRows := irisModel(t)
	mixedRows := mixedTable(t, 300)
	mixed := tableModel(t, mixedRows, data.FitOptions{Target: "price", ScaleTarget: true}, 2)
	// Grouped: only the commonest colour keeps an input of its own.
	most := slices.Max(mixedRows.Column("colour").Counts())
	grouped := tableModel(t, mixedRows, data.FitOptions{Target: "price", ScaleTarget: true, MinCategoryRows: most}, 3)
	if f := grouped.Pre.Features[1]; len(f.Categories) != 1 || !f.Other {
		t.Fatalf("grouped colour: %+v", f)
	}
	twoTargets := tableModel(t, mixedRows, data.FitOptions{Targets: []string{"price", "x2"}, ScaleTarget: true}, 5)
	if twoTargets.Pre.Outputs() != 2 {
		t.Fatalf("two targets: %d outputs", twoTargets.Pre.Outputs())
	}
	withDropout, err := model.New(layers.NewSequential(append([]layers.Layer[float32]{
		iris.Net.Layers[0], layers.NewDropout[float32](rand.New(rand.NewPCG(1, 1)), 0.5)}, iris.Net.Layers[1:]...)...), iris.Pre, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		m    *model.Model
		rows *data.Table
		opt  Options
	}{
		{"iris probabilities", iris, irisRows, Options{Probabilities: true}},
		{"iris logits", iris, irisRows, Options{}},
		{"iris with dropout", withDropout, irisRows, Options{Probabilities: true}},
		{"regression with a categorical feature", mixed, mixedRows, Options{}},
		{"regression with grouped categories", grouped, mixedRows, Options{}},
		{"regression with two targets", twoTargets, mixedRows, Options{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Export(&buf, tc.m, tc.opt); err != nil {
				t.Fatal(err)
			}
			got := runGonnx(t, buf.Bytes(), graphInputs(tc.m.Pre, tc.rows))
			p, err := tc.m.Predict(tc.rows)
			if err != nil {
				t.Fatal(err)
			}
			var want []float32
			switch {
			case p.Kind == data.Regression:
				want = p.Value.Data()
			case tc.opt.Probabilities:
				want = p.Prob.Data()
			default: // logits: the network alone on the standardised rows
				x := tensor.New[float32](tc.rows.Len(), tc.m.Pre.Inputs())
				if err := tc.m.Pre.Transform(x.Data(), tc.rows); err != nil {
					t.Fatal(err)
				}
				want = predict(&Network{Net: tc.m.Net}, x)
			}
			d := compare(t, "gonnx vs model.Predict", got, want)
			t.Logf("%d rows: largest relative difference %.2g", tc.rows.Len(), d)
		})
	}
}

func TestExportMetadata(t *testing.T) {
	m := tableModel(t, mixedTable(t, 50), data.FitOptions{Target: "price"}, 3)
	n, err := NetworkOf(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var inputs []string
	if err := json.Unmarshal([]byte(n.Metadata[MetaInputs]), &inputs); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(inputs, " "); got != "x1 colour=blue colour=green colour=red x2" {
		t.Errorf("inputs %q", got)
	}
	if n.Metadata[MetaOutput] != "values" || n.Metadata["seed"] != "3" || n.OutputScale != nil {
		t.Errorf("metadata %v, output scale %v (the target is not scaled)", n.Metadata, n.OutputScale)
	}
	rows := mixedTable(t, 50)
	most := slices.Max(rows.Column("colour").Counts())
	grouped, err := NetworkOf(tableModel(t, rows, data.FitOptions{Target: "price", MinCategoryRows: most}, 3), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(grouped.Metadata[MetaInputs]), &inputs); err != nil {
		t.Fatal(err)
	}
	if len(inputs) != 4 || inputs[0] != "x1" || !strings.HasPrefix(inputs[1], "colour=") || inputs[2] != "colour (other)" || inputs[3] != "x2" {
		t.Errorf("grouped inputs %q", inputs)
	}
	if _, err := NetworkOf(m, Options{Probabilities: true}); err == nil {
		t.Error("probabilities of a regression: no error")
	}
}

// TestImportGivesTheModelBack: Export then Import gives the same network
// (names, parameters bit for bit), preprocessing and metadata, and so the
// same predictions bit for bit.
func TestImportGivesTheModelBack(t *testing.T) {
	iris, irisRows := irisModel(t)
	mixedRows := mixedTable(t, 100)
	mixed := tableModel(t, mixedRows, data.FitOptions{Target: "price", ScaleTarget: true}, 4)
	most := slices.Max(mixedRows.Column("colour").Counts())
	grouped := tableModel(t, mixedRows, data.FitOptions{Target: "price", ScaleTarget: true, MinCategoryRows: most}, 4)
	twoTargets := tableModel(t, mixedRows, data.FitOptions{Targets: []string{"price", "x2"}, ScaleTarget: true}, 4)
	for _, tc := range []struct {
		m    *model.Model
		rows *data.Table
		opt  Options
	}{{iris, irisRows, Options{Probabilities: true}}, {iris, irisRows, Options{}}, {mixed, mixedRows, Options{}}, {grouped, mixedRows, Options{}},
		{twoTargets, mixedRows, Options{}}} {
		var buf bytes.Buffer
		if err := Export(&buf, tc.m, tc.opt); err != nil {
			t.Fatal(err)
		}
		back, err := Import(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(back.Spec) != fmt.Sprint(tc.m.Spec) || fmt.Sprint(back.Meta) != fmt.Sprint(tc.m.Meta) {
			t.Errorf("spec %v, meta %v back; want %v, %v", back.Spec, back.Meta, tc.m.Spec, tc.m.Meta)
		}
		a, _ := json.Marshal(back.Pre)
		b, _ := json.Marshal(tc.m.Pre)
		if !bytes.Equal(a, b) {
			t.Errorf("preprocessing %s back, want %s", a, b)
		}
		p, q := tc.m.Net.Params(), back.Net.Params()
		for i := range p {
			sameBits(t, p[i].Name(), q[i].Data().Data(), p[i].Data().Data())
		}
		want, err := tc.m.Predict(tc.rows)
		if err != nil {
			t.Fatal(err)
		}
		got, err := back.Predict(tc.rows)
		if err != nil {
			t.Fatal(err)
		}
		if want.Kind == data.Regression {
			sameBits(t, "values", got.Value.Data(), want.Value.Data())
		} else {
			sameBits(t, "probabilities", got.Prob.Data(), want.Prob.Data())
		}
	}
}

func TestImportRefusesForeignAndEditedFiles(t *testing.T) {
	b := readTestdata(t, filepath.Join("testdata", "torch_mlp.onnx"))
	if _, err := Import(bytes.NewReader(b)); err == nil || !strings.Contains(err.Error(), "not exported by flowgrad") || !strings.Contains(err.Error(), "Decode") {
		t.Errorf("a PyTorch file: error %v, want one saying to use Decode", err)
	}
	m, _ := irisModel(t)
	pm := modelProto(t, mustNetworkOf(t, m, Options{}))
	initializer(pm, "input.mean").RawData[0] ^= 1
	if _, err := Import(bytes.NewReader(marshal(t, pm))); err == nil || !strings.Contains(err.Error(), "edited") {
		t.Errorf("an edited mean: error %v, want one saying the graph and metadata differ", err)
	}
}

func mustNetworkOf(t testing.TB, m *model.Model, opt Options) *Network {
	t.Helper()
	n, err := NetworkOf(m, opt)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSaveWritesWholeFilesOnly(t *testing.T) {
	m, _ := irisModel(t)
	path := filepath.Join(t.TempDir(), "iris.onnx")
	if err := Save(path, m, Options{Probabilities: true}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := Import(f); err != nil {
		t.Fatalf("the saved file does not import: %v", err)
	}
	reg := tableModel(t, mixedTable(t, 50), data.FitOptions{Target: "price"}, 6)
	bad := filepath.Join(filepath.Dir(path), "reg.onnx")
	if err := Save(bad, reg, Options{Probabilities: true}); err == nil {
		t.Error("probabilities of a regression saved")
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("the folder holds %d files, want only iris.onnx", len(entries))
	}
}

// TestTorchNetworkBecomesAModelFile: PyTorch's MLP (4 inputs, 3 outputs)
// is fine-tuned on the Iris table with flowgrad and saved as a model file,
// which loads and predicts as the fine-tuned network does.
func TestTorchNetworkBecomesAModelFile(t *testing.T) {
	n, _ := loadTorchCase(t, "torch_mlp")
	_, tab := irisModel(t)
	pre, err := data.Fit(tab, data.FitOptions{Target: "species"})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := pre.Dataset(tab)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.New(n.Net, pre, map[string]string{"from": "torch_mlp.onnx"})
	if err != nil {
		t.Fatal(err)
	}
	accuracy := func(m *model.Model) float64 {
		p, err := m.Predict(tab)
		if err != nil {
			t.Fatal(err)
		}
		right := 0
		for i, c := range p.Class {
			if p.Classes[c] == tab.Column("species").Value(i) {
				right++
			}
		}
		return float64(right) / float64(len(p.Class))
	}
	before := accuracy(m)
	rng := rand.New(rand.NewPCG(15, 11))
	sgd, err := optim.NewSGD(n.Net.Params(), optim.Must(optim.Constant(0.05)))
	if err != nil {
		t.Fatal(err)
	}
	batches, err := data.NewBatcher(ds, 16, rng)
	if err != nil {
		t.Fatal(err)
	}
	tape := autograd.NewTape[float32]()
	for range 30 {
		for b := range batches.Epoch() {
			tape.Reset()
			tape.Backward(autograd.SoftmaxCrossEntropy(n.Net.Forward(tape.Input(b.X)), b.Labels))
			sgd.Step()
		}
	}
	after := accuracy(m)
	if !(after > 0.9 && after > before) {
		t.Errorf("training accuracy %.3f after fine-tuning, %.3f before: want > 0.9 and better", after, before)
	}
	path := filepath.Join(t.TempDir(), "iris.model")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	loaded, err := model.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := accuracy(loaded); got != after {
		t.Errorf("the loaded model's accuracy is %.3f, the saved one's %.3f", got, after)
	}
	t.Logf("PyTorch's random MLP on Iris: accuracy %.3f; fine-tuned by flowgrad: %.3f", before, after)
}
