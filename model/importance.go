package model

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/tensor"
	"github.com/flowgrad/flowgrad/train"
	"gonum.org/v1/gonum/stat"
)

// Importance is how much a model relies on one feature, measured by
// permutation: the feature's values are shuffled across the rows of a
// labelled table, which keeps their distribution but breaks their link
// to the target, and the model is scored again.
type Importance struct {
	Feature string
	// Fall is the mean fall of the primary metric (accuracy for classes,
	// R² for regression) over the shuffles, and FallSD its standard
	// deviation: 0 for a feature the model ignores, about the whole
	// score for one it cannot do without. It can be slightly negative
	// by chance.
	Fall, FallSD float64
	// Rise is the mean rise of the loss (cross-entropy, or the mean
	// squared error of the standardised target), which moves even when a
	// small table's accuracy does not, and RiseSD its standard deviation.
	Rise, RiseSD float64
}

// PermutationImportance scores m on the labelled table t and then, for
// each feature in turn, shuffles that feature's values across the rows
// (all of a categorical feature's one-hot inputs move together) repeats
// times with rng and scores again; it returns the unshuffled metrics (in
// the units of the training targets: see [train.Metrics]) and each
// feature's [Importance], most important first (by Fall, then Rise).
// It returns the errors of [data.Preprocessor.Dataset] for a table the
// model cannot encode. It panics if repeats < 1 or rng is nil.
func (m *Model) PermutationImportance(t *data.Table, repeats int, rng *rand.Rand) (train.Metrics, []Importance, error) {
	if repeats < 1 || rng == nil {
		panic(fmt.Sprintf("model: PermutationImportance: %d repeats, rng %v (want ≥ 1, non-nil)", repeats, rng))
	}
	ds, err := m.Pre.Dataset(t)
	if err != nil {
		return train.Metrics{}, nil, fmt.Errorf("model: %w", err)
	}
	n, in := ds.Len(), m.Pre.Inputs()
	loss := train.LossFor[float32](ds.Kind())
	score := func(x *tensor.Dense[float32]) (train.Metrics, error) {
		var shuffled *data.Dataset
		var err error
		if ds.Kind() == data.Classification {
			shuffled, err = data.NewClassTable(x, ds.Labels(), ds.Outputs())
		} else {
			shuffled, err = data.NewRegressionTable(x, tensor.FromSlice(n, ds.Outputs(), ds.Targets()))
		}
		if err != nil {
			panic(err) // rows of a valid dataset, reordered
		}
		ev, err := train.NewEvaluator(shuffled, 1000, loss)
		if err != nil {
			return train.Metrics{}, err
		}
		return ev.Evaluate(m.Net), nil
	}
	orig := ds.Values()
	work := slices.Clone(orig)
	x := tensor.FromSlice(n, in, work)
	base, err := score(x)
	if err != nil {
		return train.Metrics{}, nil, err
	}
	var out []Importance
	off := 0
	for _, f := range m.Pre.Features {
		w := f.Inputs()
		falls, rises := make([]float64, repeats), make([]float64, repeats)
		for r := range repeats {
			perm := rng.Perm(n)
			for i, j := range perm {
				copy(work[i*in+off:i*in+off+w], orig[j*in+off:j*in+off+w])
			}
			got, err := score(x) // the previous datasets are garbage: work may change
			if err != nil {
				return train.Metrics{}, nil, err
			}
			falls[r], rises[r] = base.Primary()-got.Primary(), got.Loss-base.Loss
		}
		for i := range n { // restore the feature
			copy(work[i*in+off:i*in+off+w], orig[i*in+off:i*in+off+w])
		}
		imp := Importance{Feature: f.Name}
		imp.Fall, imp.FallSD = stat.MeanStdDev(falls, nil)
		imp.Rise, imp.RiseSD = stat.MeanStdDev(rises, nil)
		if repeats == 1 {
			imp.FallSD, imp.RiseSD = 0, 0 // not NaN
		}
		out = append(out, imp)
		off += w
	}
	slices.SortStableFunc(out, func(a, b Importance) int {
		if a.Fall != b.Fall {
			return cmp.Compare(b.Fall, a.Fall)
		}
		return cmp.Compare(b.Rise, a.Rise)
	})
	return base, out, nil
}
