package train

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/optim"
)

func snapshot(m Model[float32]) [][]float32 {
	var s [][]float32
	for _, p := range m.Params() {
		s = append(s, slices.Clone(p.Data().Data()))
	}
	return s
}

func bitsEqual(a, b [][]float32) bool {
	for i := range a {
		for j := range a[i] {
			if math.Float32bits(a[i][j]) != math.Float32bits(b[i][j]) {
				return false
			}
		}
	}
	return len(a) == len(b)
}

// lossAfter trains a copy of the starting point for steps at a constant
// rate and returns the mean loss of the last 20 steps (NaN if diverged).
func lossAfter(t *testing.T, model Model[float32], start [][]float32, batches *data.Batcher, opts []optim.Option, rate float64, steps int) float64 {
	t.Helper()
	for i, p := range model.Params() {
		copy(p.Data().Data(), start[i])
	}
	opt, err := optim.NewSGD(model.Params(), optim.Must(optim.Constant(rate)), opts...)
	if err != nil {
		t.Fatal(err)
	}
	tr := NewTrainer(model, opt, CrossEntropy)
	var sum float64
	for k := range steps {
		l, err := tr.Step(batches.Take())
		if err != nil {
			return math.NaN()
		}
		if k >= steps-20 {
			sum += l
		}
	}
	return sum / 20
}

// noisyBlobs is blobs made hard: overlapping classes and a fifth of the
// labels random, so the loss has a floor well above 0 and the curvature
// does not vanish as training proceeds (on separable data the loss goes to
// 0 and no rate ever blows up).
func noisyBlobs(t *testing.T, rng *rand.Rand, n int) *data.Dataset {
	t.Helper()
	const features, classes = 12, 3
	pixels := make([]uint8, n*features)
	labels := make([]uint8, n)
	for i := range labels {
		c := rng.IntN(classes)
		for j := 0; j < features; j++ {
			v := rng.IntN(200)
			if j/4 == c {
				v += 50
			}
			pixels[i*features+j] = uint8(v)
		}
		if rng.IntN(5) == 0 {
			c = rng.IntN(classes)
		}
		labels[i] = uint8(c)
	}
	ds, err := data.NewDataset(pixels, labels, features, classes)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestRangeTestRestoresAndSuggestsASaneRate(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	ds := noisyBlobs(t, rng, 2000)
	model := layers.MLP[float32](rng, 12, 32, 3)
	opts := []optim.Option{optim.WithMomentum(optim.HeavyBall, 0.9)}

	// An ongoing run: its optimizer has taken steps and holds momentum.
	from, err := optim.NewSGD(model.Params(), optim.Must(optim.Constant(0.01)), opts...)
	if err != nil {
		t.Fatal(err)
	}
	warmBatches, _ := data.NewBatcher(ds, 50, rand.New(rand.NewPCG(1, 1)))
	warm := NewTrainer(model, from, CrossEntropy)
	for range 5 {
		b, _ := warmBatches.Next()
		if _, err := warm.Step(b); err != nil {
			t.Fatal(err)
		}
	}
	before, fromBefore := snapshot(model), from.State()

	batches, _ := data.NewBatcher(ds, 50, rand.New(rand.NewPCG(2, 2)))
	next := func() (data.Batch, bool) { return batches.Take(), true }
	res, err := RangeTest(model, CrossEntropy, next, RangeTestConfig{Lo: 1e-4, Hi: 100, Steps: 150, Options: opts, From: from})
	if err != nil {
		t.Fatal(err)
	}
	if !bitsEqual(before, snapshot(model)) {
		t.Fatal("parameters not restored bit for bit")
	}
	if !reflect.DeepEqual(fromBefore, from.State()) {
		t.Fatal("the ongoing run's optimizer state changed")
	}

	n := len(res.Points)
	t.Logf("stop: %s after %d points; min at %.3g, steepest at %.3g, suggested %.3g", res.Stop, n, res.MinRate, res.SteepestRate, res.Suggested)
	if n < 20 || n > 150 {
		t.Fatalf("%d points", n)
	}
	if res.Points[0].Rate != 1e-4 {
		t.Errorf("first rate %v, want 1e-4", res.Points[0].Rate)
	}
	for i := 1; i < n; i++ {
		if r := res.Points[i].Rate / res.Points[i-1].Rate; math.Abs(r-math.Pow(1e6, 1.0/149)) > 1e-9 {
			t.Fatalf("rate ratio %v at %d, want constant (hi/lo)^(1/(steps−1))", r, i)
		}
	}
	if !strings.Contains(res.Stop, "minimum") && !strings.Contains(res.Stop, "diverged") {
		t.Errorf("stopped with %q: expected the loss to blow up before rate 100", res.Stop)
	}
	if res.Suggested != res.MinRate/10 || !(res.SteepestRate <= res.MinRate) {
		t.Errorf("suggested %v, min %v, steepest %v", res.Suggested, res.MinRate, res.SteepestRate)
	}

	// Sane: training at the suggestion learns; at 30× the minimum rate it
	// does not (it blows up, or ends worse).
	start := snapshot(model)
	initial := res.Points[0].Loss
	trainBatches, _ := data.NewBatcher(ds, 50, rand.New(rand.NewPCG(3, 3)))
	good := lossAfter(t, model, start, trainBatches, opts, res.Suggested, 200)
	bad := lossAfter(t, model, start, trainBatches, opts, 30*res.MinRate, 200)
	t.Logf("initial loss %.4f; after 200 steps at the suggestion %.4f, at 30× the minimum's rate %.4g", initial, good, bad)
	if !(good < 0.8*initial) {
		t.Errorf("at the suggested rate %.3g the loss went from %.4f to %.4f", res.Suggested, initial, good)
	}
	if !(math.IsNaN(bad) || bad > good) {
		t.Errorf("at 30× the minimum's rate the loss %.4f is no worse than at the suggestion's %.4f", bad, good)
	}
}

func TestRangeTestErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	ds := blobs(t, rng, 100)
	model := layers.MLP[float32](rng, 12, 4, 3)
	batches, _ := data.NewBatcher(ds, 10, rng)
	for _, c := range []struct {
		cfg  RangeTestConfig
		want string
	}{
		{RangeTestConfig{Lo: 1, Hi: 0.5}, "rates 1 to 0.5"},
		{RangeTestConfig{Lo: -1}, "rates -1"},
		{RangeTestConfig{Steps: 1}, "1 steps"},
		{RangeTestConfig{Smoothing: 1}, "smoothing 1"},
		{RangeTestConfig{StopFactor: 0.5}, "stop factor 0.5"},
		{RangeTestConfig{Options: []optim.Option{optim.WithMomentum(optim.HeavyBall, 2)}}, "momentum 2"},
	} {
		_, err := RangeTest(model, CrossEntropy, batches.Next, c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "train: RangeTest") {
			t.Errorf("%+v: error %v, want one containing %q", c.cfg, err, c.want)
		}
	}
	empty := func() (data.Batch, bool) { return data.Batch{}, false }
	if _, err := RangeTest(model, CrossEntropy, empty, RangeTestConfig{}); err == nil || !strings.Contains(err.Error(), "ran out") {
		t.Errorf("no batches: error %v", err)
	}
}

// The same model, batches and configuration give the same curve, bit for
// bit; starting from an ongoing run's momentum changes it.
func TestRangeTestDeterministicAndFrom(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	ds := noisyBlobs(t, rng, 500)
	model := layers.MLP[float32](rng, 12, 16, 3)
	opts := []optim.Option{optim.WithMomentum(optim.EMA, 0.9)}
	run := func(from *optim.SGD[float32]) RangeResult {
		b, _ := data.NewBatcher(ds, 25, rand.New(rand.NewPCG(4, 4)))
		res, err := RangeTest(model, CrossEntropy, b.Next, RangeTestConfig{Steps: 15, Options: opts, From: from})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a, b := run(nil), run(nil)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two identical range tests differ")
	}
	from, _ := optim.NewSGD(model.Params(), optim.Must(optim.Constant(0.5)), opts...)
	warm := NewTrainer(model, from, CrossEntropy)
	wb, _ := data.NewBatcher(ds, 25, rand.New(rand.NewPCG(5, 5)))
	start := snapshot(model)
	for range 3 {
		x, _ := wb.Next()
		warm.Step(x)
	}
	for i, p := range model.Params() { // back to the same weights, momentum kept
		copy(p.Data().Data(), start[i])
	}
	c := run(from)
	if c.Points[0] != a.Points[0] || c.Points[1] == a.Points[1] {
		t.Errorf("with From: first points %v, %v; without: %v, %v (want the same first loss, then a different one)",
			c.Points[0], c.Points[1], a.Points[0], a.Points[1])
	}
}
