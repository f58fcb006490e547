// Package train is the loop that users would otherwise write: minibatch
// steps (forward, loss, backward, update) over epochs, with the training
// loss and the held-out metrics after every epoch — the tutorial's training
// loss and its estimate of the generalization loss — progress and
// evaluation hooks, cancellation through a context, and a clear error when
// the loss becomes NaN or infinite.
//
// One loop serves every task: the loss is a choice ([CrossEntropy] for
// classes, [SquaredError] for regression, or a function of the user's), and
// the held-out metrics follow the dataset's kind (loss and accuracy for
// classes; loss, RMSE and R² for regression). Training runs in float32 or
// float64 (the type parameter T); the data stay float32 and a float64
// trainer converts each minibatch into reused buffers.
package train

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/internal/parallel"
	"github.com/flowgrad/flowgrad/tensor"
)

// Model is what the loop trains: a map from a B×features minibatch to
// B×outputs (logits for classes, predictions for regression) with named
// parameters. layers.Sequential and every layers.Layer satisfy it.
type Model[T tensor.Float] interface {
	Forward(x *autograd.Value[T]) *autograd.Value[T]
	Params() []*autograd.Value[T]
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

// Loss is a minibatch loss: the 1×1 mean over the batch b of a per-example
// loss of the model's outputs out (B×outputs), recorded on out's tape.
// [CrossEntropy] and [SquaredError] are the standard ones; a user's
// function of the same form trains as well (record b's targets with
// autograd.InputFloat32).
type Loss[T tensor.Float] func(out *autograd.Value[T], b data.Batch) *autograd.Value[T]

// CrossEntropy is softmax cross-entropy of the logits out against the
// batch's class labels, averaged over the batch: the loss for
// classification. It panics on a batch without labels.
func CrossEntropy[T tensor.Float](out *autograd.Value[T], b data.Batch) *autograd.Value[T] {
	if b.Labels == nil {
		panic("train: CrossEntropy: the batch has no class labels (a regression dataset? use SquaredError)")
	}
	return autograd.SoftmaxCrossEntropy(out, b.Labels)
}

// WeightedCrossEntropy returns the loss that weighs each class's rows by
// weights (one positive weight per class, copied): the softmax
// cross-entropy of [autograd.WeightedSoftmaxCrossEntropy], a weighted
// mean over the batch. With [BalancedWeights] each class counts as much
// as any other in total, however rare: the remedy for a rare class that
// a model otherwise learns to ignore.
func WeightedCrossEntropy[T tensor.Float](weights []float64) Loss[T] {
	w := slices.Clone(weights)
	return func(out *autograd.Value[T], b data.Batch) *autograd.Value[T] {
		if b.Labels == nil {
			panic("train: WeightedCrossEntropy: the batch has no class labels (a regression dataset? use SquaredError)")
		}
		return autograd.WeightedSoftmaxCrossEntropy(out, b.Labels, w)
	}
}

// BalancedWeights returns the class weights n/(C·n_c) of a classification
// dataset of n examples and C classes, n_c of class c (scikit-learn's
// class_weight="balanced"): every class then weighs n/C in total. A class
// without examples gets weight 1. It panics for a regression dataset.
func BalancedWeights(ds *data.Dataset) []float64 {
	if ds.Kind() != data.Classification {
		panic("train: BalancedWeights of a regression dataset")
	}
	counts := make([]int, ds.Classes())
	for _, y := range ds.Labels() {
		counts[y]++
	}
	w := make([]float64, len(counts))
	for c, n := range counts {
		w[c] = 1
		if n > 0 {
			w[c] = float64(ds.Len()) / float64(len(counts)*n)
		}
	}
	return w
}

// SquaredError is the mean squared error of the predictions out against the
// batch's targets, averaged over all B×outputs elements (PyTorch's
// MSELoss): the loss for regression. It panics on a batch without targets.
func SquaredError[T tensor.Float](out *autograd.Value[T], b data.Batch) *autograd.Value[T] {
	if b.Targets == nil {
		panic("train: SquaredError: the batch has no regression targets (a classification dataset? use CrossEntropy)")
	}
	return autograd.MSE(out, autograd.InputFloat32(out.Tape(), b.Targets))
}

// LossFor returns the standard loss of a dataset kind: CrossEntropy for
// data.Classification, SquaredError for data.Regression.
func LossFor[T tensor.Float](k data.Kind) Loss[T] {
	if k == data.Regression {
		return SquaredError[T]
	}
	return CrossEntropy[T]
}

// ErrDiverged is wrapped by the error a step returns when the loss is NaN
// or infinite, or above the Trainer's MaxLoss.
var ErrDiverged = errors.New("loss diverged")

// Trainer performs training steps of one model with one optimizer and one
// loss on one reused tape, so that a warm step allocates nothing.
type Trainer[T tensor.Float] struct {
	// MaxLoss, if positive, makes a finite minibatch loss above it count
	// as divergence too: a rate far above the stability bound can blow the
	// loss up to a huge finite value and then leave the network dead (all
	// ReLUs off) at a finite plateau, never producing a NaN. A sensible
	// run of softmax cross-entropy over C classes stays within a few
	// ln C (the loss of a uniform guess); 100·ln C is a safe alarm.
	MaxLoss float64

	// BeforeUpdate, if not empty, runs in order after Backward and before
	// the optimizer's update, with the step's gradients in the parameters'
	// Grad: the place to clip gradients or to sum them across processes.
	// An error ends the step with that error, the parameters unchanged.
	BeforeUpdate []func() error

	model Model[T]
	opt   Optimizer
	loss  Loss[T]
	tape  *autograd.Tape[T]
	gov   parallel.Governor // shares each step between the cores while that pays
}

// NewTrainer returns a Trainer of model with opt minimising loss, with no
// MaxLoss. It panics if an argument is nil.
func NewTrainer[T tensor.Float](model Model[T], opt Optimizer, loss Loss[T]) *Trainer[T] {
	if model == nil || opt == nil || loss == nil {
		panic("train: NewTrainer: nil model, optimizer or loss")
	}
	return &Trainer[T]{model: model, opt: opt, loss: loss, tape: autograd.NewTape[T]()}
}

// Model returns the model the Trainer trains.
func (t *Trainer[T]) Model() Model[T] { return t.model }

// Optimizer returns the Trainer's optimizer.
func (t *Trainer[T]) Optimizer() Optimizer { return t.opt }

// Loss returns the loss the Trainer minimises.
func (t *Trainer[T]) Loss() Loss[T] { return t.loss }

// Steps returns the optimizer's step count: the steps taken, including
// those before a restored checkpoint.
func (t *Trainer[T]) Steps() int { return t.opt.StepCount() }

// Step trains on one minibatch: forward, loss, backward, the BeforeUpdate
// hooks, optimizer update. It returns the batch's mean loss. If the loss
// is NaN or infinite, or above MaxLoss, it returns an error wrapping
// ErrDiverged that names the step, the loss and the learning rate, and
// leaves the parameters as they were.
//
// Steps share their work between the cores while that pays: the Trainer
// times its steps and, when the machine runs them faster on one core,
// runs them on one (internal/parallel.Governor; FLOWGRAD_GOVERNOR=off
// always shares). The results are the same bits either way.
func (t *Trainer[T]) Step(b data.Batch) (float64, error) {
	defer t.gov.Done(t.gov.Start(), b.Size())
	t.tape.Reset()
	loss := t.loss(t.model.Forward(autograd.InputFloat32(t.tape, b.X)), b)
	l := float64(loss.Scalar())
	if err := t.checkLoss(l); err != nil {
		return l, err
	}
	t.tape.Backward(loss)
	for _, h := range t.BeforeUpdate {
		if err := h(); err != nil {
			return l, err
		}
	}
	t.opt.Step()
	return l, nil
}

func (t *Trainer[T]) checkLoss(l float64) error {
	if !math.IsNaN(l) && !math.IsInf(l, 0) && !(t.MaxLoss > 0 && l > t.MaxLoss) {
		return nil
	}
	what := fmt.Sprintf("is %v", l)
	if t.MaxLoss > 0 && l > t.MaxLoss && !math.IsInf(l, 0) {
		what = fmt.Sprintf("%.4g is above the limit %.4g", l, t.MaxLoss)
	}
	return fmt.Errorf("train: step %d: loss %s at learning rate %g: %w; "+
		"the rate is probably above the stability bound — lower it (e.g. by 10×)", t.opt.StepCount()+1, what, t.opt.Rate(), ErrDiverged)
}

// MeanLoss returns the function of model's mean loss over a fixed set of
// minibatches, recorded on the tape it is given: the form that
// curvature.New, autograd.GradCheck and the learning-rate tools take. The
// batches must stay unchanged while it is used (copy a Batcher's batches,
// which it overwrites).
func MeanLoss[T tensor.Float](model Model[T], loss Loss[T], batches []data.Batch) func(t *autograd.Tape[T]) *autograd.Value[T] {
	inv := tensor.Scalar(1 / T(len(batches)))
	return func(t *autograd.Tape[T]) *autograd.Value[T] {
		var sum *autograd.Value[T]
		for _, b := range batches {
			l := loss(model.Forward(autograd.InputFloat32(t, b.X)), b)
			if sum == nil {
				sum = l
			} else {
				sum = autograd.Add(sum, l)
			}
		}
		return autograd.Mul(sum, t.Input(inv))
	}
}
