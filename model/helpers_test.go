package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/optim"
)

var irisPath = filepath.Join("..", "data", "testdata", "tables", "iris.csv")

// fitted is a model trained end to end from a CSV: the tables of its split
// and the datasets made from them.
type fitted struct {
	model      *Model
	train, val *data.Table
	trainDS    *data.Dataset
	valDS      *data.Dataset
}

// trainTable splits tab, fits the preprocessing on the training rows,
// trains an MLP with the given hidden sizes for epochs epochs with a hand
// loop (cross-entropy or MSE by the task) and returns the model.
func trainTable(t testing.TB, tab *data.Table, opt data.FitOptions, hidden []int, epochs int, rate float64) fitted {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 8))
	tr, va, err := data.Split(tab, opt, 0.2, rng)
	if err != nil {
		t.Fatal(err)
	}
	pre, err := data.Fit(tr, opt)
	if err != nil {
		t.Fatal(err)
	}
	trDS, err := pre.Dataset(tr)
	if err != nil {
		t.Fatal(err)
	}
	vaDS, err := pre.Dataset(va)
	if err != nil {
		t.Fatal(err)
	}
	sizes := append(append([]int{pre.Inputs()}, hidden...), pre.Outputs())
	net := layers.MLP[float32](rng, sizes...)
	sgd, err := optim.NewSGD(net.Params(), optim.Must(optim.Constant(rate)), optim.WithMomentum(optim.HeavyBall, 0.9))
	if err != nil {
		t.Fatal(err)
	}
	batches, err := data.NewBatcher(trDS, min(16, trDS.Len()), rng)
	if err != nil {
		t.Fatal(err)
	}
	tape := autograd.NewTape[float32]()
	for range epochs {
		for b := range batches.Epoch() {
			tape.Reset()
			out := net.Forward(tape.Input(b.X))
			var loss *autograd.Value[float32]
			if pre.Kind == data.Classification {
				loss = autograd.SoftmaxCrossEntropy(out, b.Labels)
			} else {
				loss = autograd.MSE(out, tape.Input(b.Targets))
			}
			tape.Backward(loss)
			sgd.Step()
		}
	}
	m, err := New(net, pre, map[string]string{"epochs": fmt.Sprint(epochs)})
	if err != nil {
		t.Fatal(err)
	}
	return fitted{model: m, train: tr, val: va, trainDS: trDS, valDS: vaDS}
}

func loadIris(t testing.TB) *data.Table {
	t.Helper()
	tab, err := data.LoadCSV(irisPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// regressionCSV returns a CSV of n rows: an id, numeric features x1, x2,
// a categorical feature g in {a, b, c} and the target
// y = 3·x1 − 2·x2² + offset(g) + 100 + noise, from a seeded generator.
func regressionCSV(n int, seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, 1))
	var b strings.Builder
	b.WriteString("id,x1,x2,g,y\n")
	offset := map[string]float64{"a": 0, "b": 5, "c": -5}
	for i := range n {
		x1, x2 := rng.NormFloat64(), 2*rng.Float64()-1
		g := []string{"a", "b", "c"}[rng.IntN(3)]
		y := 3*x1 - 2*x2*x2 + offset[g] + 100 + 0.1*rng.NormFloat64()
		fmt.Fprintf(&b, "r%d,%.4f,%.4f,%s,%.4f\n", i, x1, x2, g, y)
	}
	return b.String()
}

// r2 returns the coefficient of determination of predictions p against
// targets y.
func r2(p, y []float64) float64 {
	var mean float64
	for _, v := range y {
		mean += v
	}
	mean /= float64(len(y))
	var ss, st float64
	for i := range y {
		ss += (y[i] - p[i]) * (y[i] - p[i])
		st += (y[i] - mean) * (y[i] - mean)
	}
	return 1 - ss/st
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
