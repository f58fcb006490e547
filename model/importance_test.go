package model

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/train"
	"gonum.org/v1/gonum/stat"
)

// On y = 3·x1 − 2·x2² + offset(g) + noise, shuffling a feature that adds
// f to y costs R² ≈ 2·Var(f)/Var(y) (the mean squared difference of two
// independent draws of f, over Var(y)) for a model that has learnt y:
// about 1.28 for g, 0.69 for x1 and 0.03 for x2 in the population; the
// test computes it on the validation rows it shuffles.
func TestPermutationImportance(t *testing.T) {
	tab, err := data.ReadCSV(strings.NewReader(regressionCSV(600, 3)), "gen.csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	f := trainTable(t, tab, data.FitOptions{Target: "y", Ignore: []string{"id"}, ScaleTarget: true}, []int{32, 32}, 80, 0.01)
	base, imps, err := f.model.PermutationImportance(f.val, 5, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := train.NewEvaluator(f.valDS, 1000, train.LossFor[float32](data.Regression))
	if err != nil {
		t.Fatal(err)
	}
	if want := ev.Evaluate(f.model.Net); base.Loss != want.Loss || base.R2 != want.R2 || base.N != want.N {
		t.Errorf("base metrics %+v, the evaluator's %+v", base, want)
	}
	// Each feature's term of y on the validation rows.
	offset := map[string]float64{"a": 0, "b": 5, "c": -5}
	terms := map[string][]float64{}
	var y []float64
	for i := range f.val.Len() {
		x1, x2 := float64(f.val.Column("x1").Float(i)), float64(f.val.Column("x2").Float(i))
		terms["x1"] = append(terms["x1"], 3*x1)
		terms["x2"] = append(terms["x2"], -2*x2*x2)
		terms["g"] = append(terms["g"], offset[f.val.Column("g").Value(i)])
		y = append(y, float64(f.val.Column("y").Float(i)))
	}
	variance := func(v []float64) float64 { return stat.Variance(v, nil) }
	names := []string{imps[0].Feature, imps[1].Feature, imps[2].Feature}
	if !slices.Equal(names, []string{"g", "x1", "x2"}) || len(imps) != 3 {
		t.Fatalf("order %v, want g, x1, x2", names)
	}
	for _, imp := range imps {
		want := 2 * variance(terms[imp.Feature]) / variance(y)
		if d := imp.Fall - want; !(d > -0.2*want-0.02 && d < 0.2*want+0.02) || !(imp.FallSD >= 0 && imp.FallSD < 0.15*want+0.01) || !(imp.Rise > 0) {
			t.Errorf("%s: fall %.4f ± %.4f, rise %.4f ± %.4f; want a fall of %.4f ± 20 %%", imp.Feature, imp.Fall, imp.FallSD, imp.Rise, imp.RiseSD, want)
		}
		t.Logf("%s: fall %.4f ± %.4f (2·Var(term)/Var(y) = %.4f), rise %.4f ± %.4f", imp.Feature, imp.Fall, imp.FallSD, want, imp.Rise, imp.RiseSD)
	}
	_, again, err := f.model.PermutationImportance(f.val, 5, rand.New(rand.NewPCG(1, 2)))
	if err != nil || !slices.Equal(again, imps) {
		t.Errorf("the same seed gave %v, then %v (%v)", imps, again, err)
	}
	if _, one, _ := f.model.PermutationImportance(f.val, 1, rand.New(rand.NewPCG(1, 2))); one[0].FallSD != 0 {
		t.Errorf("one shuffle has a deviation: %+v", one[0])
	}
	unseen, err := data.ReadCSV(strings.NewReader("id,x1,x2,g,y\nr,1,0,z,3\n"), "bad.csv", f.model.Pre.CSVOptions(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.model.PermutationImportance(unseen, 5, rand.New(rand.NewPCG(1, 2))); err == nil || !strings.Contains(err.Error(), `"z"`) {
		t.Errorf("an unseen category: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("no panic for 0 repeats")
		}
	}()
	f.model.PermutationImportance(f.val, 0, rand.New(rand.NewPCG(1, 2)))
}
