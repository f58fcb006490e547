package train

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/tensor"
)

// Metrics are a model's scores on a dataset. Which fields apply depends on
// the dataset's kind; the others are NaN.
type Metrics struct {
	Kind data.Kind
	N    int     // examples scored
	Loss float64 // mean loss per example (the training loss function)
	// Accuracy is the fraction of examples whose largest output is the
	// label (classification).
	Accuracy float64
	// RMSE is the root of the mean squared error over all outputs, and R2
	// the coefficient of determination 1 − SS_res/SS_tot of each output
	// column averaged over the columns (scikit-learn's r2_score), both in
	// the units of the dataset's targets (regression).
	RMSE, R2 float64
}

// Primary returns the metric that says how good a model is, larger being
// better: Accuracy for classification, R2 for regression.
func (m Metrics) Primary() float64 {
	if m.Kind == data.Regression {
		return m.R2
	}
	return m.Accuracy
}

// String formats the metrics that apply, e.g. "loss 0.0712, accuracy
// 97.72%" or "loss 0.0213, RMSE 0.146, R² 0.979".
func (m Metrics) String() string {
	if m.Kind == data.Regression {
		return fmt.Sprintf("loss %.4g, RMSE %.4g, R² %.4f", m.Loss, m.RMSE, m.R2)
	}
	return fmt.Sprintf("loss %.4g, accuracy %.2f%%", m.Loss, 100*m.Accuracy)
}

// Evaluator scores a model on one dataset, reusing its buffers across
// calls: a warm Evaluate allocates nothing. It runs the model on an
// evaluation tape, so layers such as dropout act as at inference.
type Evaluator[T tensor.Float] struct {
	batches *data.Batcher
	loss    Loss[T]
	tape    *autograd.Tape[T]
	kind    data.Kind
	// regression: per output column, the target mean and the sums the
	// metrics need
	mean, ssRes, ssTot []float64
}

// NewEvaluator returns an Evaluator for ds that scores with loss (the
// training loss) and runs batches of size examples (the last one smaller);
// 1000 is a good size. It returns an error if size < 1. It panics if ds or
// loss is nil.
func NewEvaluator[T tensor.Float](ds *data.Dataset, size int, loss Loss[T]) (*Evaluator[T], error) {
	if ds == nil || loss == nil {
		panic("train: NewEvaluator: nil dataset or loss")
	}
	size = min(size, ds.Len())
	b, err := data.NewBatcher(ds, size, nil) // nil: in order, no shuffle
	if err != nil {
		return nil, fmt.Errorf("train: evaluation set: %w", err)
	}
	e := &Evaluator[T]{batches: b, loss: loss, tape: autograd.NewTape[T](), kind: ds.Kind()}
	e.tape.SetTraining(false) // evaluation: dropout is the identity
	if e.kind == data.Regression {
		k := ds.Outputs()
		e.mean, e.ssRes, e.ssTot = make([]float64, k), make([]float64, k), make([]float64, k)
		y := ds.Targets()
		for i, v := range y {
			e.mean[i%k] += float64(v)
		}
		for j := range e.mean {
			e.mean[j] /= float64(ds.Len())
		}
	}
	return e, nil
}

// Evaluate returns model's metrics over the whole dataset.
func (e *Evaluator[T]) Evaluate(model Model[T]) Metrics {
	m := Metrics{Kind: e.kind, Accuracy: math.NaN(), RMSE: math.NaN(), R2: math.NaN()}
	var sum float64
	var correct int
	clear(e.ssRes)
	clear(e.ssTot)
	for {
		b, ok := e.batches.Next()
		if !ok {
			break
		}
		e.tape.Reset()
		out := model.Forward(autograd.InputFloat32(e.tape, b.X))
		sum += float64(e.loss(out, b).Scalar()) * float64(b.Size())
		if e.kind == data.Classification {
			for r, y := range b.Labels {
				if argmax(out.Data().Row(r)) == y {
					correct++
				}
			}
		} else {
			e.accumulate(out.Data(), b.Targets)
		}
		m.N += b.Size()
	}
	m.Loss = sum / float64(m.N)
	if e.kind == data.Classification {
		m.Accuracy = float64(correct) / float64(m.N)
		return m
	}
	var se, r2 float64
	for j := range e.ssRes {
		se += e.ssRes[j]
		r2 += RSquared(e.ssRes[j], e.ssTot[j])
	}
	m.RMSE = math.Sqrt(se / float64(m.N*len(e.ssRes)))
	m.R2 = r2 / float64(len(e.ssRes))
	return m
}

// accumulate adds a batch's squared residuals and squared deviations from
// the target mean, per output column.
func (e *Evaluator[T]) accumulate(pred *tensor.Dense[T], y *tensor.Dense[float32]) {
	k := len(e.mean)
	p, t := pred.Data(), y.Data()
	for i, v := range t {
		j := i % k
		r := float64(p[i]) - float64(v)
		d := float64(v) - e.mean[j]
		e.ssRes[j] += r * r
		e.ssTot[j] += d * d
	}
}

// RSquared is the coefficient of determination 1 − ssRes/ssTot from the
// sum of squared residuals and the sum of squared deviations from the
// target's mean, with scikit-learn's convention for a constant target
// (ssTot = 0): 1 for a perfect prediction, else 0.
func RSquared(ssRes, ssTot float64) float64 {
	if ssTot == 0 {
		if ssRes == 0 {
			return 1
		}
		return 0
	}
	return 1 - ssRes/ssTot
}

func argmax[T tensor.Float](xs []T) int {
	best := 0
	for i, x := range xs {
		if x > xs[best] {
			best = i
		}
	}
	return best
}

// AUC returns the area under the ROC curve of scores for telling the
// positive examples from the others: the probability that a random
// positive example scores above a random negative one, ties counting
// half (the Mann–Whitney U statistic over the pairs). It is NaN unless
// both kinds are present. It panics if the lengths differ.
func AUC(scores []float64, positive []bool) float64 {
	if len(scores) != len(positive) {
		panic(fmt.Sprintf("train: AUC: %d scores, %d labels", len(scores), len(positive)))
	}
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(scores[a], scores[b]) })
	// Sum the positives' ranks (1-based, ties given their mean rank).
	var rankSum float64
	pos := 0
	for lo := 0; lo < len(idx); {
		hi := lo + 1
		for hi < len(idx) && scores[idx[hi]] == scores[idx[lo]] {
			hi++
		}
		mean := float64(lo+1+hi) / 2
		for _, i := range idx[lo:hi] {
			if positive[i] {
				rankSum += mean
				pos++
			}
		}
		lo = hi
	}
	neg := len(scores) - pos
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	return (rankSum - float64(pos)*float64(pos+1)/2) / (float64(pos) * float64(neg))
}

// F1Scores returns each class's F1 score, 2·precision·recall/(precision +
// recall) = 2·TP/(2·TP + FP + FN), of the predicted classes pred against
// the true classes truth (both in 0..classes−1); NaN for a class that
// neither occurs nor is predicted. It panics if the lengths differ.
func F1Scores(classes int, truth []int32, pred []int) []float64 {
	if len(truth) != len(pred) {
		panic(fmt.Sprintf("train: F1Scores: %d true classes, %d predicted", len(truth), len(pred)))
	}
	tp, trueN, predN := make([]int, classes), make([]int, classes), make([]int, classes)
	for i, t := range truth {
		trueN[t]++
		predN[pred[i]]++
		if int(t) == pred[i] {
			tp[t]++
		}
	}
	f1 := make([]float64, classes)
	for c := range f1 {
		f1[c] = math.NaN()
		if d := trueN[c] + predN[c]; d > 0 {
			f1[c] = float64(2*tp[c]) / float64(d)
		}
	}
	return f1
}

// MacroF1 returns the mean of the F1 scores that are not NaN (see
// F1Scores): every class counts alike, however rare; NaN if none is.
func MacroF1(f1 []float64) float64 {
	var sum float64
	n := 0
	for _, v := range f1 {
		if !math.IsNaN(v) {
			sum += v
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}
