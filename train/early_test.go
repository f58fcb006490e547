package train

import (
	"context"
	"math"
	"slices"
	"testing"
)

// Early stopping on a run that overfits stops after Patience epochs
// without improvement and leaves the best epoch's weights in the model.
func TestEarlyStoppingStopsAndRestoresBest(t *testing.T) {
	tr, batches, eval, _ := setup(t, 0.05, 32)
	es, err := NewEarlyStopping(tr.model.Params(), 3, 0, MonitorLoss)
	if err != nil {
		t.Fatal(err)
	}
	// Feed a made-up metric sequence: best at epoch 2, then 3 worse ones.
	losses := []float64{0.9, 0.5, 0.6, 0.55, 0.7, 0.1}
	var snapshots [][]float32
	var stoppedAt int
	_, err = Run(context.Background(), tr, batches, eval, Config{Epochs: len(losses), OnEpoch: func(r EpochResult) error {
		snapshots = append(snapshots, slices.Clone(tr.model.Params()[0].Data().Data()))
		r.Eval.Loss = losses[r.Epoch-1]
		err := es.Observe(r)
		if err == ErrStop {
			stoppedAt = r.Epoch
		}
		return err
	}})
	if err != nil {
		t.Fatal(err)
	}
	if stoppedAt != 5 {
		t.Fatalf("stopped after epoch %d, want 5 (best 2, patience 3)", stoppedAt)
	}
	if v, at := es.BestMetric(); v != 0.5 || at != 2 {
		t.Fatalf("best %v at epoch %d, want 0.5 at 2", v, at)
	}
	if !slices.Equal(tr.model.Params()[0].Data().Data(), snapshots[1]) {
		t.Fatal("the model does not hold epoch 2's weights after stopping")
	}
}

// MinDelta: an improvement no larger than it does not count; MonitorPrimary
// maximises.
func TestEarlyStoppingMinDeltaAndPrimary(t *testing.T) {
	tr, _, _, _ := setup(t, 0.05, 32)
	es, _ := NewEarlyStopping(tr.model.Params(), 2, 0.01, MonitorPrimary)
	results := []float64{0.80, 0.805, 0.809}
	var got []error
	for i, acc := range results {
		got = append(got, es.Observe(EpochResult{Epoch: i + 1, Eval: Metrics{N: 1, Accuracy: acc}}))
	}
	if got[0] != nil || got[1] != nil || got[2] != ErrStop {
		t.Fatalf("Observe gave %v, want nil, nil, ErrStop (0.005 and 0.009 are within MinDelta 0.01)", got)
	}
	if v, at := es.BestMetric(); v != 0.80 || at != 1 {
		t.Fatalf("best %v at %d", v, at)
	}
}

// State, Best and SetState carry early stopping across a restart: a
// resumed run makes the same decisions as an uninterrupted one.
func TestEarlyStoppingResume(t *testing.T) {
	tr, _, _, _ := setup(t, 0.05, 32)
	params := tr.model.Params()
	seq := []float64{1, 0.8, 0.9, 0.85, 0.95, 0.99}
	run := func(es *EarlyStopping[float32], from int) (stop int) {
		for i := from; i < len(seq); i++ {
			params[0].Data().Data()[0] = float32(i) // a weight that tells epochs apart
			if es.Observe(EpochResult{Epoch: i + 1, Eval: Metrics{N: 1, Loss: seq[i]}}) == ErrStop {
				return i + 1
			}
		}
		return 0
	}
	a, _ := NewEarlyStopping(params, 3, 0, MonitorLoss)
	straight := run(a, 0)
	wantW := params[0].Data().Data()[0]

	b, _ := NewEarlyStopping(params, 3, 0, MonitorLoss)
	for i := range 3 { // three epochs, then "save"
		params[0].Data().Data()[0] = float32(i)
		b.Observe(EpochResult{Epoch: i + 1, Eval: Metrics{N: 1, Loss: seq[i]}})
	}
	st, best := b.State(), b.Best()
	c, _ := NewEarlyStopping(params, 3, 0, MonitorLoss)
	if err := c.SetState(st, best); err != nil {
		t.Fatal(err)
	}
	resumed := run(c, 3)
	if resumed != straight || params[0].Data().Data()[0] != wantW || wantW != 1 {
		t.Fatalf("stopped at %d with weight %v after resume; straight run stopped at %d with %v (want the best, epoch 2's: 1)",
			resumed, params[0].Data().Data()[0], straight, wantW)
	}
	if err := c.SetState(EarlyState{BestEpoch: 1}, nil); err == nil {
		t.Fatal("SetState with a best epoch but no weights: no error")
	}
}

func TestEarlyStoppingValidation(t *testing.T) {
	tr, _, _, _ := setup(t, 0.05, 32)
	for _, c := range []struct {
		patience int
		delta    float64
	}{{0, 0}, {2, -1}, {2, math.NaN()}, {2, math.Inf(1)}} {
		if _, err := NewEarlyStopping(tr.model.Params(), c.patience, c.delta, MonitorLoss); err == nil {
			t.Errorf("patience %d, delta %v: no error", c.patience, c.delta)
		}
	}
	es, _ := NewEarlyStopping(tr.model.Params(), 2, 0, MonitorLoss)
	if err := es.Observe(EpochResult{Epoch: 1}); err == nil {
		t.Error("Observe without held-out metrics: no error")
	}
}
