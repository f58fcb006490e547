package train

import (
	"fmt"
	"math"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/tensor"
)

// Monitor names the held-out metric early stopping watches.
type Monitor int

const (
	// MonitorLoss watches the held-out loss (lower is better): smooth, and
	// the default.
	MonitorLoss Monitor = iota
	// MonitorPrimary watches the held-out primary metric (accuracy or R²;
	// higher is better; see Metrics.Primary).
	MonitorPrimary
)

// EarlyStopping ends training once the held-out metric has not improved for
// Patience epochs in a row, and puts back the weights of the best epoch:
// the tutorial's generalization loss, used to decide when to stop. An
// epoch improves when its metric beats the best so far by more than
// MinDelta. Plug it into Run with Config.OnEpoch = es.Observe (or call
// Observe from your own OnEpoch).
//
// Its state — the best value, its epoch, the epochs since, and the best
// weights — is exported by State and Best for checkpoints, so a resumed
// run stops exactly where an uninterrupted one would.
type EarlyStopping[T tensor.Float] struct {
	Patience int
	MinDelta float64
	Monitor  Monitor

	params []*autograd.Value[T]
	best   [][]T // the best epoch's parameter values, parallel to params
	st     EarlyState
}

// EarlyState is the position of an EarlyStopping: the best monitored value
// (NaN before the first epoch), the epoch that reached it (0 before), and
// how many epochs have passed since without improvement.
type EarlyState struct {
	Best      float64
	BestEpoch int
	Bad       int
}

// NewEarlyStopping returns an EarlyStopping over the model's params that
// waits patience ≥ 1 epochs for an improvement of more than minDelta ≥ 0.
// It returns an error naming the bad value otherwise. params is copied.
func NewEarlyStopping[T tensor.Float](params []*autograd.Value[T], patience int, minDelta float64, monitor Monitor) (*EarlyStopping[T], error) {
	switch {
	case patience < 1:
		return nil, fmt.Errorf("train: early stopping: patience %d (want ≥ 1 epochs)", patience)
	case !(minDelta >= 0) || math.IsInf(minDelta, 1):
		return nil, fmt.Errorf("train: early stopping: minimum improvement %v (want a finite value ≥ 0)", minDelta)
	case monitor != MonitorLoss && monitor != MonitorPrimary:
		return nil, fmt.Errorf("train: early stopping: unknown monitor %d", monitor)
	}
	e := &EarlyStopping[T]{Patience: patience, MinDelta: minDelta, Monitor: monitor,
		params: append([]*autograd.Value[T](nil), params...), st: EarlyState{Best: math.NaN()}}
	e.best = make([][]T, len(params))
	for i, p := range params {
		e.best[i] = make([]T, p.Data().Len())
	}
	return e, nil
}

// value returns the monitored metric of r as a quantity to minimise.
func (e *EarlyStopping[T]) value(r EpochResult) float64 {
	if e.Monitor == MonitorPrimary {
		return -r.Eval.Primary()
	}
	return r.Eval.Loss
}

// Observe records an epoch's held-out metrics. On an improvement it saves
// the weights; after Patience epochs without one it restores the best
// weights and returns ErrStop (which ends Run without error). It returns
// an error if the epoch has no held-out metrics (Run without an
// Evaluator).
func (e *EarlyStopping[T]) Observe(r EpochResult) error {
	if r.Eval.N == 0 {
		return fmt.Errorf("train: early stopping needs held-out metrics: give Run an Evaluator")
	}
	v := e.value(r)
	if e.st.BestEpoch == 0 || v < e.st.Best-e.MinDelta {
		e.st = EarlyState{Best: v, BestEpoch: r.Epoch}
		for i, p := range e.params {
			copy(e.best[i], p.Data().Data())
		}
		return nil
	}
	e.st.Bad++
	if e.st.Bad >= e.Patience {
		e.RestoreBest()
		return ErrStop
	}
	return nil
}

// RestoreBest copies the best epoch's weights into the parameters (nothing
// before the first Observe).
func (e *EarlyStopping[T]) RestoreBest() {
	if e.st.BestEpoch == 0 {
		return
	}
	for i, p := range e.params {
		copy(p.Data().Data(), e.best[i])
	}
}

// BestMetric returns the best monitored value in the metric's own sign
// (the lowest loss, or the highest accuracy or R²) and its epoch (0 before
// the first Observe).
func (e *EarlyStopping[T]) BestMetric() (value float64, epoch int) {
	if e.Monitor == MonitorPrimary {
		return -e.st.Best, e.st.BestEpoch
	}
	return e.st.Best, e.st.BestEpoch
}

// State returns the position of the early stopping.
func (e *EarlyStopping[T]) State() EarlyState { return e.st }

// Best returns the best epoch's weights by parameter name, sharing
// memory: for a checkpoint (nil before the first Observe).
func (e *EarlyStopping[T]) Best() map[string]*tensor.Dense[T] {
	if e.st.BestEpoch == 0 {
		return nil
	}
	m := make(map[string]*tensor.Dense[T], len(e.params))
	for i, p := range e.params {
		m[p.Name()] = tensor.FromSlice(p.Data().Rows(), p.Data().Cols(), e.best[i])
	}
	return m
}

// SetState restores a position and best weights saved from State and Best
// (best may be nil when st.BestEpoch is 0). It returns an error, changing
// nothing, if the weights do not match the parameters by name and shape.
func (e *EarlyStopping[T]) SetState(st EarlyState, best map[string]*tensor.Dense[T]) error {
	if st.BestEpoch < 0 || st.Bad < 0 {
		return fmt.Errorf("train: early stopping state: epoch %d, %d epochs since (want ≥ 0)", st.BestEpoch, st.Bad)
	}
	if st.BestEpoch > 0 {
		for _, p := range e.params {
			b, ok := best[p.Name()]
			if !ok || b.Shape() != p.Shape() {
				return fmt.Errorf("train: early stopping state: no best weights of shape %v for parameter %q", p.Shape(), p.Name())
			}
		}
		for i, p := range e.params {
			copy(e.best[i], best[p.Name()].Data())
		}
	}
	e.st = st
	return nil
}
