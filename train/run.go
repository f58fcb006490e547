package train

import (
	"context"
	"errors"
	"time"

	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/tensor"
)

// Source is where Run takes its minibatches: epochs of batches.
// *data.Batcher satisfies it.
type Source interface {
	// Next returns the next batch of the current epoch and true, or false
	// once the epoch has no batches left; the call after that starts the
	// next epoch.
	Next() (data.Batch, bool)
	// BatchesPerEpoch is the number of batches in a whole epoch.
	BatchesPerEpoch() int
}

// EpochResult is what the loop measured in one epoch.
type EpochResult struct {
	Epoch     int     // 1 for the first
	TrainLoss float64 // mean loss over the epoch's training examples
	// Eval is the held-out metrics after the epoch (zero N without an
	// Evaluator).
	Eval     Metrics
	Examples int // training examples processed in the epoch
	// TrainTime is the time spent in training steps (data conversion,
	// forward, backward, update), excluding evaluation.
	TrainTime time.Duration
	// Elapsed is the wall time since Run started, evaluation included.
	Elapsed time.Duration
	Rate    float64 // the learning rate at the end of the epoch
	Steps   int     // the optimizer's total steps so far
}

// ExamplesPerSecond is the training throughput of the epoch.
func (r EpochResult) ExamplesPerSecond() float64 {
	return float64(r.Examples) / r.TrainTime.Seconds()
}

// ErrStop, returned by Config.OnEpoch, ends Run after that epoch without
// an error (early stopping).
var ErrStop = errors.New("train: stop")

// Config controls Run. The zero value of each field means its default.
type Config struct {
	Epochs int // passes over the training set; default 1
	// Target stops training after the first epoch whose held-out primary
	// metric (accuracy for classes, R² for regression; see
	// Metrics.Primary) is at least Target (0 disables it).
	Target float64
	// OnBatch is called after every step with the step's loss, the batch's
	// index in its epoch and the number of batches per epoch (progress).
	OnBatch func(loss float64, index, batches int)
	// OnEpoch is called after every epoch's evaluation. Returning ErrStop
	// ends training after this epoch without error; another error stops
	// training with that error (a checkpoint that could not be written,
	// say).
	OnEpoch func(EpochResult) error
}

// Run trains with tr on the batches of src for cfg.Epochs epochs,
// evaluating on eval (if not nil) after each, and returns the results of
// the epochs it completed. It starts where src stands, so a Batcher
// restored mid-epoch finishes that epoch first.
//
// It stops early, returning ctx.Err(), when ctx is cancelled: it checks
// before taking each batch from src, so after a cancelled Run the Batcher
// stands right after the last batch trained (a checkpoint taken then
// resumes exactly). It also stops with an error wrapping ErrDiverged when
// a step's loss diverges (see Trainer.Step), with a BeforeUpdate hook's
// error, with OnEpoch's error; or, without error, when OnEpoch returns
// ErrStop or cfg.Target is reached.
func Run[T tensor.Float](ctx context.Context, tr *Trainer[T], src Source, eval *Evaluator[T], cfg Config) ([]EpochResult, error) {
	epochs := cfg.Epochs
	if epochs == 0 {
		epochs = 1
	}
	start := time.Now()
	var results []EpochResult
	for e := 0; e < epochs; e++ {
		var sum float64
		var n, epoch int
		var trainTime time.Duration
		perEpoch := src.BatchesPerEpoch()
		stepStart := time.Now()
		for first := true; ; first = false {
			if err := ctx.Err(); err != nil {
				return results, err
			}
			b, ok := src.Next()
			if !ok && first {
				// The source stood at the end of an epoch; Next has
				// started the next one.
				b, ok = src.Next()
			}
			if !ok {
				break
			}
			loss, err := tr.Step(b)
			if err != nil {
				return results, err
			}
			sum += loss * float64(b.Size())
			n += b.Size()
			epoch = b.Epoch + 1
			if cfg.OnBatch != nil {
				trainTime += time.Since(stepStart)
				cfg.OnBatch(loss, b.Index, perEpoch)
				stepStart = time.Now()
			}
		}
		trainTime += time.Since(stepStart)
		r := EpochResult{
			Epoch:     epoch,
			TrainLoss: sum / float64(n),
			Examples:  n,
			TrainTime: trainTime,
			Rate:      tr.opt.Rate(),
			Steps:     tr.Steps(),
		}
		if eval != nil {
			r.Eval = eval.Evaluate(tr.model)
		}
		r.Elapsed = time.Since(start)
		results = append(results, r)
		if cfg.OnEpoch != nil {
			if err := cfg.OnEpoch(r); errors.Is(err, ErrStop) {
				break
			} else if err != nil {
				return results, err
			}
		}
		if cfg.Target > 0 && eval != nil && r.Eval.Primary() >= cfg.Target {
			break
		}
	}
	return results, nil
}
