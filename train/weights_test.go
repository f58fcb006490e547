package train

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/optim"
	"github.com/flowgrad/flowgrad/tensor"
)

// rare returns n examples of two classes, class 1 about 5 % of them,
// whose two features overlap: x ~ N(0, 1) for class 0 and N(1, 1) for
// class 1, plus a noise feature.
func rare(t testing.TB, rng *rand.Rand, n int) *data.Dataset {
	t.Helper()
	x, labels := tensor.New[float32](n, 2), make([]int32, n)
	for i := range n {
		if rng.Float64() < 0.05 {
			labels[i] = 1
		}
		x.Set(i, 0, float32(rng.NormFloat64()+float64(labels[i])))
		x.Set(i, 1, float32(rng.NormFloat64()))
	}
	ds, err := data.NewClassTable(x, labels, 2)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestBalancedWeights(t *testing.T) {
	ds, err := data.NewClassTable(tensor.New[float32](8, 1), []int32{0, 0, 0, 0, 0, 0, 2, 2}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := BalancedWeights(ds); !slices.Equal(got, []float64{8.0 / 18, 1, 8.0 / 6}) {
		t.Errorf("weights %v", got)
	}
}

// On a rare class that overlaps the common one, the plain loss learns to
// answer the common class almost always; balanced weights make the model
// find most of the rare class, at the cost of some accuracy.
func TestWeightedCrossEntropyFindsTheRareClass(t *testing.T) {
	recall := func(weighted bool) (rareRecall, accuracy float64) {
		rng := rand.New(rand.NewPCG(5, 6))
		trainSet, testSet := rare(t, rng, 4000), rare(t, rng, 4000)
		net := layers.MLP[float32](rng, 2, 16, 2)
		opt, err := optim.NewAdam(net.Params(), optim.Must(optim.Constant(0.01)))
		if err != nil {
			t.Fatal(err)
		}
		loss := CrossEntropy[float32]
		if weighted {
			loss = WeightedCrossEntropy[float32](BalancedWeights(trainSet))
		}
		batches, err := data.NewBatcher(trainSet, 100, rng)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Run(context.Background(), NewTrainer(net, opt, loss), batches, nil, Config{Epochs: 10}); err != nil {
			t.Fatal(err)
		}
		found, total, correct := 0, 0, 0
		x := make([]float32, 2)
		for i := range testSet.Len() {
			p := predictClass(net, testSet.Example(i, x))
			if p == testSet.Label(i) {
				correct++
			}
			if testSet.Label(i) == 1 {
				total++
				if p == 1 {
					found++
				}
			}
		}
		return float64(found) / float64(total), float64(correct) / float64(testSet.Len())
	}
	plainRecall, plainAcc := recall(false)
	weightedRecall, weightedAcc := recall(true)
	t.Logf("rare-class recall %.3f → %.3f, accuracy %.3f → %.3f", plainRecall, weightedRecall, plainAcc, weightedAcc)
	if !(plainRecall < 0.1 && weightedRecall > 0.5 && weightedAcc < plainAcc) {
		t.Errorf("rare-class recall %.3f plain, %.3f weighted (accuracy %.3f, %.3f): want < 0.1 and > 0.5",
			plainRecall, weightedRecall, plainAcc, weightedAcc)
	}
}

// predictClass returns the class net scores highest for one example.
func predictClass(net *layers.Sequential[float32], x []float32) int {
	tape := autograd.NewTape[float32]()
	tape.SetTraining(false)
	out := net.Forward(tape.Input(tensor.FromSlice(1, len(x), x)))
	return argmax(out.Data().Row(0))
}

// AUC agrees with counting the pairs, ties half, and is NaN for one kind.
func TestAUC(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{2, 5, 50} {
		scores, positive := make([]float64, n), make([]bool, n)
		for i := range n {
			scores[i] = float64(rng.IntN(5)) // many ties
			positive[i] = i%2 == 0 || rng.IntN(3) == 0
		}
		var pairs, wins float64
		for i := range n {
			for j := range n {
				if positive[i] && !positive[j] {
					pairs++
					switch {
					case scores[i] > scores[j]:
						wins++
					case scores[i] == scores[j]:
						wins += 0.5
					}
				}
			}
		}
		if got, want := AUC(scores, positive), wins/pairs; math.Abs(got-want) > 1e-12 {
			t.Errorf("n = %d: AUC %v, pairs %v", n, got, want)
		}
	}
	if got := AUC([]float64{1, 2, 3}, []bool{false, true, true}); got != 1 {
		t.Errorf("perfect ranking: %v", got)
	}
	if got := AUC([]float64{1, 2}, []bool{true, true}); !math.IsNaN(got) {
		t.Errorf("one kind: %v", got)
	}
}

// F1 per class by hand: truth 0 0 1 1 2, predicted 0 1 1 1 0: class 0
// TP 1, FP 1, FN 1 → 0.5; class 1 TP 2, FP 1 → 0.8; class 2 TP 0 → 0;
// class 3 neither occurs nor is predicted → NaN, left out of the mean.
func TestF1Scores(t *testing.T) {
	f1 := F1Scores(4, []int32{0, 0, 1, 1, 2}, []int{0, 1, 1, 1, 0})
	if f1[0] != 0.5 || f1[1] != 0.8 || f1[2] != 0 || !math.IsNaN(f1[3]) {
		t.Errorf("F1 %v", f1)
	}
	if got := MacroF1(f1); math.Abs(got-1.3/3) > 1e-15 {
		t.Errorf("macro F1 %v, want %v", got, 1.3/3)
	}
	if !math.IsNaN(MacroF1([]float64{math.NaN()})) {
		t.Error("macro F1 of no class")
	}
}

// The table recipe's defaults at their bounds.
func TestTableDefaults(t *testing.T) {
	for _, c := range []struct{ steps, want int }{{1, 200}, {15, 200}, {16, 188}, {300, 10}, {100000, 10}} {
		if got := DefaultPatience(c.steps); got != c.want {
			t.Errorf("DefaultPatience(%d) = %d, want %d", c.steps, got, c.want)
		}
	}
	for _, c := range []struct {
		kind data.Kind
		rows int
		want float64
	}{{data.Classification, 120, 0.03}, {data.Regression, 1000, 0.1}, {data.Classification, 100000, 0.0003}, {data.Regression, 2000, 0.05}} {
		if got := DefaultWeightDecay(c.kind, c.rows); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("DefaultWeightDecay(%v, %d) = %v, want %v", c.kind, c.rows, got, c.want)
		}
	}
}

// A warm step with the weighted loss allocates nothing, as with the plain
// one.
func TestWarmWeightedStepAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items; counted in the non-race run")
	}
	rng := rand.New(rand.NewPCG(3, 3))
	ds := rare(t, rng, 200)
	net := layers.MLP[float32](rng, 2, 8, 2)
	opt, _ := optim.NewAdam(net.Params(), optim.Must(optim.Constant(0.01)))
	batches, _ := data.NewBatcher(ds, 20, rng)
	tr := NewTrainer(net, opt, WeightedCrossEntropy[float32](BalancedWeights(ds)))
	tr.Step(batches.Take())
	if a := testing.AllocsPerRun(20, func() { tr.Step(batches.Take()) }); a != 0 {
		t.Fatalf("warm weighted step allocates %v times, want 0", a)
	}
}
