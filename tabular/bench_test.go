package tabular_test

import (
	"context"
	"testing"

	"github.com/flowgrad/flowgrad/tabular"
)

// BenchmarkTrainIris is the whole recipe with its defaults on Iris (150
// rows, MLP 4-64-64-3, B = 32): the split's run with early stopping and
// the refit, about 2000 epochs and 9000 steps in all; steps/s reported.
func BenchmarkTrainIris(b *testing.B) {
	tab, err := loadIrisB(b)
	if err != nil {
		b.Fatal(err)
	}
	opt := tabular.Defaults()
	opt.Fit.Target = "species"
	b.ReportAllocs()
	steps := 0
	for b.Loop() {
		res, err := tabular.Train(context.Background(), tab, &opt)
		if err != nil {
			b.Fatal(err)
		}
		steps += 4*res.Split.Last.Epoch + 5*res.Final.Last.Epoch
	}
	b.ReportMetric(float64(steps)/b.Elapsed().Seconds(), "steps/s")
}
