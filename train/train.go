// Package train is the loop that users would otherwise write: minibatch
// steps (forward, backward, update) over epochs, with the training loss and
// the held-out loss and accuracy after every epoch — the tutorial's
// training loss and its estimate of the generalization loss — progress and
// evaluation hooks, cancellation through a context, and a clear error when
// the loss becomes NaN or infinite.
//
// Training is in float32 on minibatches from package data; the loss is
// softmax cross-entropy over the model's logits.
package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/tensor"
)

// Model is what the loop trains: a map from a B×features minibatch to B×classes
// logits with named parameters. layers.Sequential and every layers.Layer
// satisfy it.
type Model interface {
	Forward(x *autograd.Value[float32]) *autograd.Value[float32]
	Params() []*autograd.Value[float32]
}

// Optimizer updates the model's parameters from their gradients.
// optim.SGD satisfies it.
type Optimizer interface {
	// Step applies one update from the parameters' current gradients.
	Step()
	// Rate is the learning rate the next Step will use.
	Rate() float64
	// StepCount is the number of Steps taken, including those before a
	// checkpoint was restored.
	StepCount() int
}

// ErrDiverged is wrapped by the error a step returns when the loss is NaN
// or infinite, or above the Trainer's MaxLoss.
var ErrDiverged = errors.New("loss diverged")

// Trainer performs training steps of one model with one optimizer on one
// reused tape, so that a warm step allocates nothing.
type Trainer struct {
	// MaxLoss, if positive, makes a finite minibatch loss above it count
	// as divergence too: a rate far above the stability bound can blow the
	// loss up to a huge finite value and then leave the network dead (all
	// ReLUs off) at a finite plateau, never producing a NaN. A sensible
	// run of softmax cross-entropy over C classes stays within a few
	// ln C (the loss of a uniform guess); 100·ln C is a safe alarm.
	MaxLoss float64

	model Model
	opt   Optimizer
	tape  *autograd.Tape[float32]
}

// NewTrainer returns a Trainer for model and opt, with no MaxLoss.
func NewTrainer(model Model, opt Optimizer) *Trainer {
	return &Trainer{model: model, opt: opt, tape: autograd.NewTape[float32]()}
}

// Steps returns the optimizer's step count: the steps taken, including
// those before a restored checkpoint.
func (t *Trainer) Steps() int { return t.opt.StepCount() }

// Step trains on one minibatch: forward, softmax cross-entropy, backward,
// optimizer update. It returns the batch's mean loss. If the loss is NaN or
// infinite, or above MaxLoss, it returns an error wrapping ErrDiverged that
// names the step, the loss and the learning rate, and leaves the parameters
// as they were.
func (t *Trainer) Step(b data.Batch) (float64, error) {
	t.tape.Reset()
	loss := autograd.SoftmaxCrossEntropy(t.model.Forward(t.tape.Input(b.X)), b.Labels)
	l := float64(loss.Scalar())
	if math.IsNaN(l) || math.IsInf(l, 0) || t.MaxLoss > 0 && l > t.MaxLoss {
		what := fmt.Sprintf("is %v", l)
		if t.MaxLoss > 0 && l > t.MaxLoss && !math.IsInf(l, 0) {
			what = fmt.Sprintf("%.4g is above the limit %.4g", l, t.MaxLoss)
		}
		return l, fmt.Errorf("train: step %d: loss %s at learning rate %g: %w; "+
			"the rate is probably above the stability bound — lower it (e.g. by 10×)", t.opt.StepCount()+1, what, t.opt.Rate(), ErrDiverged)
	}
	t.tape.Backward(loss)
	t.opt.Step()
	return l, nil
}

// Evaluator computes a model's mean loss and accuracy on a dataset,
// reusing its buffers across calls.
type Evaluator struct {
	batches *data.Batcher
	tape    *autograd.Tape[float32]
}

// NewEvaluator returns an Evaluator for ds that runs batches of size
// examples (the last one smaller); 1000 is a good size. It returns an error
// if size does not fit ds.
func NewEvaluator(ds *data.Dataset, size int) (*Evaluator, error) {
	size = min(size, ds.Len())
	b, err := data.NewBatcher(ds, size, nil) // nil: in order, no shuffle
	if err != nil {
		return nil, fmt.Errorf("train: evaluation set: %w", err)
	}
	return &Evaluator{batches: b, tape: autograd.NewTape[float32]()}, nil
}

// Evaluate returns model's mean softmax cross-entropy and its accuracy (the
// fraction of examples whose largest logit is the label) over the whole
// dataset.
func (e *Evaluator) Evaluate(model Model) (loss, accuracy float64) {
	var sum float64
	var correct, n int
	for {
		b, ok := e.batches.Next()
		if !ok {
			break
		}
		e.tape.Reset()
		logits := model.Forward(e.tape.Input(b.X))
		l := autograd.SoftmaxCrossEntropy(logits, b.Labels)
		sum += float64(l.Scalar()) * float64(b.Size())
		for r, y := range b.Labels {
			if argmax(logits.Data().Row(r)) == y {
				correct++
			}
		}
		n += b.Size()
	}
	return sum / float64(n), float64(correct) / float64(n)
}

func argmax(xs []float32) int {
	best := 0
	for i, x := range xs {
		if x > xs[best] {
			best = i
		}
	}
	return best
}

// EpochResult is what the loop measured in one epoch.
type EpochResult struct {
	Epoch        int     // 1 for the first
	TrainLoss    float64 // mean loss over the epoch's training examples
	TestLoss     float64 // mean loss over the held-out set
	TestAccuracy float64 // fraction of the held-out set classified correctly
	Examples     int     // training examples processed in the epoch
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

// Config controls Run. The zero value of each field means its default.
type Config struct {
	Epochs int // passes over the training set; default 1
	// Target stops training after the first epoch whose held-out accuracy
	// is at least Target (0 disables it).
	Target float64
	// OnBatch is called after every step with the step's loss, the batch's
	// index in its epoch and the number of batches per epoch (progress).
	OnBatch func(loss float64, index, batches int)
	// OnEpoch is called after every epoch's evaluation. Returning an error
	// stops training with that error (a checkpoint that could not be
	// written, say).
	OnEpoch func(EpochResult) error
}

// Run trains with tr on the batches for cfg.Epochs epochs, evaluating on
// eval after each, and returns the results of the epochs it completed. It
// starts where batches stands, so a Batcher restored mid-epoch finishes
// that epoch first.
//
// It stops early, returning ctx.Err(), when ctx is cancelled: it checks
// before taking each batch from batches, so after a cancelled Run the
// Batcher stands right after the last batch trained (a checkpoint taken
// then resumes exactly). It also stops with an error wrapping ErrDiverged
// when a step's loss diverges (see Trainer.Step); with OnEpoch's error; or,
// without error, when cfg.Target is reached.
func Run(ctx context.Context, tr *Trainer, batches *data.Batcher, eval *Evaluator, cfg Config) ([]EpochResult, error) {
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
		perEpoch := batches.BatchesPerEpoch()
		stepStart := time.Now()
		for first := true; ; first = false {
			if err := ctx.Err(); err != nil {
				return results, err
			}
			b, ok := batches.Next()
			if !ok && first {
				// The Batcher stood at the end of an epoch; Next has
				// started the next one.
				b, ok = batches.Next()
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
		r.TestLoss, r.TestAccuracy = eval.Evaluate(tr.model)
		r.Elapsed = time.Since(start)
		results = append(results, r)
		if cfg.OnEpoch != nil {
			if err := cfg.OnEpoch(r); err != nil {
				return results, err
			}
		}
		if cfg.Target > 0 && r.TestAccuracy >= cfg.Target {
			break
		}
	}
	return results, nil
}

// MeanLoss returns the loss function of model's mean softmax cross-entropy
// over a fixed set of minibatches, recorded on the tape it is given: the
// form that curvature.New, autograd.GradCheck and the learning-rate tools
// take. The batches must stay unchanged while it is used (copy a Batcher's
// batches, which it overwrites).
func MeanLoss(model Model, batches []data.Batch) func(t *autograd.Tape[float32]) *autograd.Value[float32] {
	inv := tensor.Scalar(1 / float32(len(batches)))
	return func(t *autograd.Tape[float32]) *autograd.Value[float32] {
		var sum *autograd.Value[float32]
		for _, b := range batches {
			l := autograd.SoftmaxCrossEntropy(model.Forward(t.Input(b.X)), b.Labels)
			if sum == nil {
				sum = l
			} else {
				sum = autograd.Add(sum, l)
			}
		}
		return autograd.Mul(sum, t.Input(inv))
	}
}
