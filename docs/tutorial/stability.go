package tutorial

import (
	"math"
	"math/rand/v2"

	"github.com/flowgrad/flowgrad/curvature"
	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/optim"
	"github.com/flowgrad/flowgrad/train"
)

// DemoRun returns the model and minibatches of `mnistdemo -seed seed
// -batch B` with its default layer sizes, in float32, built as the demo
// builds them: one generator draws the Batcher's seed, then the weights.
func DemoRun(trainSet *data.Dataset, B int, seed uint64) (*layers.Sequential[float32], *data.Batcher, error) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	b, err := data.NewBatcher(trainSet, B, rng)
	if err != nil {
		return nil, nil, err
	}
	return layers.MLP[float32](rng, 784, 256, 256, 10), b, nil
}

// DemoLambdaMax estimates λmax of the Hessian of model's mean loss over
// nBatches minibatches of B, drawn as `mnistdemo -lr auto` draws them, by
// power iteration (at most maxIter products). The error is LambdaMax's.
func DemoLambdaMax(trainSet *data.Dataset, model *layers.Sequential[float32], B, nBatches int, seed uint64, maxIter int) (curvature.Eigen, error) {
	b, err := data.NewBatcher(trainSet, B, rand.New(rand.NewPCG(seed, 0x1a4d)))
	if err != nil {
		return curvature.Eigen{}, err
	}
	var bs []data.Batch
	for len(bs) < nBatches {
		bs = append(bs, b.Take().Clone())
	}
	h := curvature.New(train.MeanLoss(model, train.CrossEntropy, bs), model.Params(), nil)
	return curvature.LambdaMax(h, rand.New(rand.NewPCG(seed, 0x9a3)), &curvature.PowerOptions{MaxIter: maxIter})
}

// TrainSteps trains model with opt on batches for steps minibatches and
// returns the mean loss of the last 50 steps, or +Inf and the step (from
// 1) at which the loss became NaN/Inf or above 1e6.
func TrainSteps(model *layers.Sequential[float32], opt *optim.SGD[float32], batches *data.Batcher, steps int) (loss float64, divergedAt int) {
	tr := train.NewTrainer(model, opt, train.CrossEntropy)
	var sum float64
	n := 0
	for k := 1; k <= steps; k++ {
		l, err := tr.Step(batches.Take())
		if err != nil || l > 1e6 {
			return math.Inf(1), k
		}
		if k > steps-50 {
			sum += l
			n++
		}
	}
	return sum / float64(n), 0
}

// SweepPoint is one rate of a stability sweep.
type SweepPoint struct {
	Fraction, Rate float64 // the rate, and as a fraction of the bound
	Loss           float64 // mean loss of the last 50 steps (+Inf if diverged)
	DivergedAt     int     // step of NaN/Inf, or 0
}

// StabilitySweep trains the demo's model (B, seed) from its initial
// weights for steps minibatches at each fraction × bound, with the given
// momentum form, and returns the results.
func StabilitySweep(trainSet *data.Dataset, B int, seed uint64, form optim.MomentumForm, m, bound float64, fractions []float64, steps int) ([]SweepPoint, error) {
	var out []SweepPoint
	for _, f := range fractions {
		model, batches, err := DemoRun(trainSet, B, seed)
		if err != nil {
			return nil, err
		}
		opt, err := optim.NewSGD(model.Params(), optim.Must(optim.Constant(f*bound)), optim.WithMomentum(form, m))
		if err != nil {
			return nil, err
		}
		l, at := TrainSteps(model, opt, batches, steps)
		out = append(out, SweepPoint{Fraction: f, Rate: f * bound, Loss: l, DivergedAt: at})
	}
	return out, nil
}
