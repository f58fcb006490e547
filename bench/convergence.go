package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/optim"
	"github.com/flowgrad/flowgrad/train"
)

// Section 3: convergence against B — test accuracy as a function of the
// examples processed and of training wall time, for several B, each
// momentum form and the constant and 1/k schedules, each at a rate tuned on
// a small grid; and which B reaches 97 % and 98 % soonest in wall time.
//
// Rate grid. The grid is set in "plain-SGD-equivalent" rates η: EMA momentum
// α at rate ε is heavy ball μ = α at rate ε(1−α), whose steady-state step is
// ε/(1−μ). For B the centre is η(B) = 0.5·√(B/100) (0.5 at B = 100: the
// standard workload's heavy-ball 0.05 with μ = 0.9); the grid is η(B) times
// c.convRateMults; the rate passed to optim is η for none and ema and
// η·(1−0.9) for heavyball and nesterov.
//
// Tuning never looks at the test set: each grid rate trains
// c.convTuneEx examples from the same initial weights, and the rate with the
// lowest mean training loss over the second half of them wins (a diverged
// run scores +Inf). The winner's run then continues — its curve starts at
// example 0 — until test accuracy reaches c.convStop, or c.convMaxEpochs
// epochs, or c.convMaxTime of training wall time. Wall time counts
// fetching batches and Trainer.Step, not the test evaluations.

const convMomentum = 0.9

// convSpec is one configuration of a convergence run.
type convSpec struct {
	Batch    int
	Form     optim.MomentumForm
	Schedule string  // "constant" or "invtime"
	Rate     float64 // ε (ε0 for invtime) as passed to optim
	Tau      float64 // invtime's τ in steps; 0 for constant
}

func (s convSpec) group() string { return s.Form.String() + "/" + s.Schedule }

// convPoint is one test evaluation.
type convPoint struct {
	Examples int
	Steps    int
	TrainSec float64 // training wall time so far, as measured
	// Sec is the noise-robust training time so far: Steps × the run's
	// median step time (see convRun.finish). The report's times use it.
	Sec      float64
	TestAcc  float64
	TestLoss float64
}

// convRun is a training run that can be advanced in pieces.
type convRun struct {
	Spec     convSpec
	Points   []convPoint
	Diverged bool
	Score    float64 // tuning score: mean training loss over the second half
	Winner   bool

	tr       *train.Trainer[float32]
	mdl      train.Model[float32]
	batches  *data.Batcher
	examples int
	elapsed  time.Duration
	nextEval int
	stepSec  []float32 // duration of every step (batch fetch + Trainer.Step)
	lossSum  float64
	lossN    int
}

// centreRate is η(B), the centre of the grid in plain-SGD-equivalent terms.
func centreRate(b int) float64 { return 0.5 * math.Sqrt(float64(b)/100) }

// formRate converts a plain-SGD-equivalent rate η into the rate optim
// takes for form.
func formRate(form optim.MomentumForm, eta float64) float64 {
	if form == optim.HeavyBall || form == optim.Nesterov {
		return eta * (1 - convMomentum)
	}
	return eta
}

func (s convSpec) schedule() (optim.Schedule, error) {
	if s.Schedule == "invtime" {
		return optim.InverseTime(s.Rate, s.Tau)
	}
	return optim.Constant(s.Rate)
}

func newConvRun(trainSet *data.Dataset, spec convSpec, seed uint64, evalEvery int) (*convRun, error) {
	sched, err := spec.schedule()
	if err != nil {
		return nil, err
	}
	tr, model, batches, err := newTrainer(trainSet, spec.Batch, spec.Form, sched, seed)
	if err != nil {
		return nil, err
	}
	return &convRun{Spec: spec, tr: tr, mdl: model, batches: batches, nextEval: evalEvery}, nil
}

// advance trains until `until` examples have been processed, the run
// diverges, its wall time reaches maxTime, or a test evaluation (every
// evalEvery examples) reaches stop (0: never stop early). It reports whether
// the run is finished (diverged or reached stop).
func (r *convRun) advance(ctx context.Context, until int, maxTime time.Duration, evalEvery int, stop float64, eval *train.Evaluator[float32], model train.Model[float32]) (bool, error) {
	for r.examples < until && r.elapsed < maxTime {
		if err := ctx.Err(); err != nil {
			return true, err
		}
		t0 := time.Now()
		b := r.batches.Take()
		loss, err := r.tr.Step(b)
		d := time.Since(t0)
		r.elapsed += d
		r.stepSec = append(r.stepSec, float32(d.Seconds()))
		if errors.Is(err, train.ErrDiverged) {
			r.Diverged = true
			return true, nil
		} else if err != nil {
			return true, err
		}
		r.examples += b.Size()
		r.lossSum += loss * float64(b.Size())
		r.lossN += b.Size()
		if r.examples >= r.nextEval {
			for r.nextEval <= r.examples {
				r.nextEval += evalEvery
			}
			p := r.evaluate(eval, model)
			if stop > 0 && p.TestAcc >= stop {
				return true, nil
			}
		}
	}
	return false, nil
}

// finish sets every point's Sec from the run's median step time and
// releases the run's training state; only its points are kept.
func (r *convRun) finish() {
	med := medianStep(r.stepSec)
	for i := range r.Points {
		r.Points[i].Sec = float64(r.Points[i].Steps) * med
	}
	r.tr, r.mdl, r.batches, r.stepSec = nil, nil, nil, nil
}

// medianStep returns the median of the step durations, in seconds (0 for
// none).
func medianStep(ds []float32) float64 {
	if len(ds) == 0 {
		return 0
	}
	xs := make([]float64, len(ds))
	for i, d := range ds {
		xs[i] = float64(d)
	}
	return median(xs)
}

func (r *convRun) evaluate(eval *train.Evaluator[float32], model train.Model[float32]) convPoint {
	m := eval.Evaluate(model)
	p := convPoint{Examples: r.examples, Steps: r.tr.Steps(), TrainSec: r.elapsed.Seconds(), TestAcc: m.Accuracy, TestLoss: m.Loss}
	r.Points = append(r.Points, p)
	return p
}

// convResult is everything section 3 measured.
type convResult struct {
	Runs    []*convRun // every run, tuning losers included (Winner marks the curves)
	Initial convPoint  // test accuracy of the initial weights (shared by all runs)
}

// runConvergence tunes and runs every (B, form, schedule) of c.
func runConvergence(ctx context.Context, c *config, trainSet, testSet *data.Dataset, stderr io.Writer) (*convResult, error) {
	eval, err := train.NewEvaluator(testSet, 1000, train.CrossEntropy[float32])
	if err != nil {
		return nil, err
	}
	res := &convResult{}
	maxEx := int(c.convMaxEpochs * float64(trainSet.Len()))
	first := true
	for _, form := range c.convForms {
		for _, schedName := range c.convSchedules {
			for _, b := range c.convBatches {
				var cands []*convRun
				for _, m := range c.convRateMults {
					spec := convSpec{Batch: b, Form: form, Schedule: schedName,
						Rate: formRate(form, m*centreRate(b))}
					if schedName == "invtime" {
						spec.Tau = math.Max(1, c.convTauEpochs*float64(trainSet.Len())/float64(b))
					}
					r, err := newConvRun(trainSet, spec, c.seed, c.convEvalEvery)
					if err != nil {
						return nil, fmt.Errorf("convergence: %+v: %w", spec, err)
					}
					if first {
						// All runs start from the same weights (same seed).
						m := eval.Evaluate(r.model())
						res.Initial = convPoint{TestAcc: m.Accuracy, TestLoss: m.Loss}
						first = false
					}
					if _, err := r.advance(ctx, c.convTuneEx/2, c.convMaxTime, c.convEvalEvery, 0, eval, r.model()); err != nil {
						return nil, err
					}
					r.lossSum, r.lossN = 0, 0
					if _, err := r.advance(ctx, c.convTuneEx, c.convMaxTime, c.convEvalEvery, 0, eval, r.model()); err != nil {
						return nil, err
					}
					r.Score = math.Inf(1)
					if !r.Diverged && r.lossN > 0 && !math.IsNaN(r.lossSum) {
						r.Score = r.lossSum / float64(r.lossN)
					}
					cands = append(cands, r)
					res.Runs = append(res.Runs, r)
				}
				w := cands[bestScore(cands)]
				w.Winner = true
				if !w.Diverged && !reached(w.Points, c.convStop) {
					if _, err := w.advance(ctx, maxEx, c.convMaxTime, c.convEvalEvery, c.convStop, eval, w.model()); err != nil {
						return nil, err
					}
				}
				last := w.Points[len(w.Points)-1:]
				acc := math.NaN()
				if len(last) == 1 {
					acc = last[0].TestAcc
				}
				fmt.Fprintf(stderr, "bench: convergence %-19s B=%-4d rate %-8.4g %6d examples %5.1fs  test acc %.4f%s\n",
					w.Spec.group(), b, w.Spec.Rate, w.examples, w.elapsed.Seconds(), acc, divergedNote(w))
				for _, r := range cands {
					r.finish()
				}
			}
		}
	}
	return res, nil
}

func (r *convRun) model() train.Model[float32] { return r.mdl }

func divergedNote(r *convRun) string {
	if r.Diverged {
		return " (diverged)"
	}
	return ""
}

// bestScore returns the index of the run with the lowest tuning score; on
// ties (all +Inf: every rate diverged) the first, the smallest rate.
func bestScore(runs []*convRun) int {
	best := 0
	for i, r := range runs {
		if r.Score < runs[best].Score {
			best = i
		}
	}
	return best
}

// reached reports whether any point has test accuracy ≥ target.
func reached(ps []convPoint, target float64) bool {
	_, ok := firstReach(ps, target)
	return ok
}

// firstReach returns the first point whose test accuracy is ≥ target.
func firstReach(ps []convPoint, target float64) (convPoint, bool) {
	for _, p := range ps {
		if p.TestAcc >= target {
			return p, true
		}
	}
	return convPoint{}, false
}

// reach is when one curve first reached a target.
type reach struct {
	Spec     convSpec
	OK       bool
	Seconds  float64 // noise-robust (convPoint.Sec)
	Measured float64 // as measured (convPoint.TrainSec)
	Examples int
}

// soonest returns, among curves, the one that reaches target first in
// training time (convPoint.Sec; ties: fewer examples, then smaller B), and
// whether any does.
func soonest(curves []*convRun, target float64) (reach, bool) {
	var best reach
	found := false
	for _, r := range curves {
		p, ok := firstReach(r.Points, target)
		if !ok {
			continue
		}
		cand := reach{Spec: r.Spec, OK: true, Seconds: p.Sec, Measured: p.TrainSec, Examples: p.Examples}
		if !found || cand.Seconds < best.Seconds ||
			(cand.Seconds == best.Seconds && (cand.Examples < best.Examples ||
				(cand.Examples == best.Examples && cand.Spec.Batch < best.Spec.Batch))) {
			best, found = cand, true
		}
	}
	return best, found
}

// winners returns the tuned curves, in run order.
func (res *convResult) winners() []*convRun {
	var out []*convRun
	for _, r := range res.Runs {
		if r.Winner {
			out = append(out, r)
		}
	}
	return out
}

// groups returns the winners grouped by "form/schedule", in run order.
func groupCurves(curves []*convRun) (keys []string, byKey map[string][]*convRun) {
	byKey = map[string][]*convRun{}
	for _, r := range curves {
		k := r.Spec.group()
		if _, ok := byKey[k]; !ok {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], r)
	}
	return keys, byKey
}

// convergenceTable lists every evaluation of every tuned curve.
func convergenceTable(res *convResult, n int) *table {
	t := newTable("form", "schedule", "B", "rate", "tau", "examples", "epochs", "steps", "train_s", "measured_s", "test_acc", "test_loss")
	for _, r := range res.winners() {
		s := r.Spec
		t.add(s.Form.String(), s.Schedule, s.Batch, s.Rate, s.Tau, 0, 0.0, 0, 0.0, 0.0, res.Initial.TestAcc, res.Initial.TestLoss)
		for _, p := range r.Points {
			t.add(s.Form.String(), s.Schedule, s.Batch, s.Rate, s.Tau, p.Examples, float64(p.Examples)/float64(n), p.Steps, p.Sec, p.TrainSec, p.TestAcc, p.TestLoss)
		}
	}
	return t
}

// tuningTable lists every grid rate with its score.
func tuningTable(res *convResult) *table {
	t := newTable("form", "schedule", "B", "rate", "eta_equiv", "score_train_loss", "diverged", "chosen")
	for _, r := range res.Runs {
		s := r.Spec
		eta := s.Rate
		if s.Form == optim.HeavyBall || s.Form == optim.Nesterov {
			eta /= 1 - convMomentum
		}
		t.add(s.Form.String(), s.Schedule, s.Batch, s.Rate, eta, r.Score, r.Diverged, r.Winner)
	}
	return t
}

// targetsTable gives, per tuned curve, when it first reached each target.
func targetsTable(curves []*convRun, targets []float64, n int) *table {
	header := []string{"form", "schedule", "B", "rate", "examples_run", "train_s", "measured_s", "final_acc", "best_acc"}
	for _, tg := range targets {
		header = append(header, fmt.Sprintf("s_to_%g", tg*100), fmt.Sprintf("epochs_to_%g", tg*100))
	}
	t := newTable(header...)
	for _, r := range curves {
		final, best := math.NaN(), math.NaN()
		var ex int
		var sec, measured float64
		if len(r.Points) > 0 {
			p := r.Points[len(r.Points)-1]
			final, ex, sec, measured = p.TestAcc, p.Examples, p.Sec, p.TrainSec
			best = 0
			for _, q := range r.Points {
				best = math.Max(best, q.TestAcc)
			}
		}
		row := []any{r.Spec.Form.String(), r.Spec.Schedule, r.Spec.Batch, r.Spec.Rate, ex, sec, measured, final, best}
		for _, tg := range targets {
			if p, ok := firstReach(r.Points, tg); ok {
				row = append(row, p.Sec, float64(p.Examples)/float64(n))
			} else {
				row = append(row, "—", "—")
			}
		}
		t.add(row...)
	}
	return t
}
