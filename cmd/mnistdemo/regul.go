package main

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"

	"github.com/flowgrad/flowgrad/checkpoint"
	"github.com/flowgrad/flowgrad/internal/cli"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/optim"
	"github.com/flowgrad/flowgrad/train"
)

// Regularisation and rate control: -dropout, -clip, -patience, -plateau
// and -plateau-patience (cli.RegularizationFlags; all off by default).
//
// -dropout P puts inverted dropout after each hidden layer; its masks come
// from a generator of their own seeded from -seed, so the weights and the
// data order are those of a run without dropout. -clip NORM scales each
// step's gradients to a global norm of at most NORM (on several ranks,
// after their sum). -patience N ends training once the test loss has not
// improved for N epochs and puts back the weights of the best epoch;
// -plateau F multiplies the rate by F once the test loss has not improved
// for more than -plateau-patience epochs. (The held-out set is the test
// set, as for -target.) Every checkpoint holds their state — the dropout
// generator, the best epoch, its loss and weights and the epochs since, the
// plateau's scale — so -resume continues exactly.

// patienceUsage is the -patience flag's help text.
const patienceUsage = "stop once the test loss has not improved for this many epochs, and restore the best epoch's weights (0: off)"

// dropoutStream is the PCG stream of the dropout masks (the weights and the
// data order use stream 0x5eed of the same seed).
const dropoutStream = 0xd20

// regularizer holds a run's dropout generator, plateau and early stopping.
type regularizer struct {
	c       *config
	pcg     *rand.PCG // the dropout masks' source, nil without dropout
	plateau *optim.Plateau
	early   *train.EarlyStopping[float32]
	stopped bool // early stopping ended the run
}

// newRegularizer inserts the dropout layers into model (an MLP, so the
// dropout comes after each layer but the last) and sets up the early
// stopping over its parameters.
func newRegularizer(c *config, model *layers.Sequential[float32]) (*regularizer, error) {
	g := &regularizer{c: c}
	if p := c.reg.Dropout; p > 0 {
		g.pcg = rand.NewPCG(c.seed, dropoutStream)
		layers.WithDropout(model, rand.New(g.pcg), p)
	}
	if c.reg.Patience > 0 {
		var err error
		if g.early, err = train.NewEarlyStopping(model.Params(), c.reg.Patience, 0, train.MonitorLoss); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// schedule returns sched under the -plateau rate control (sched itself
// without -plateau).
func (g *regularizer) schedule(sched optim.Schedule) (optim.Schedule, error) {
	var err error
	g.plateau, sched, err = g.c.reg.NewPlateau(sched)
	return sched, err
}

// checkRanks refuses, on several ranks, what keeps a state per rank that
// only rank 0 would save or update: the dropout generators and the plateau.
func (c *config) checkRanks(ranks int) error {
	switch {
	case ranks <= 1:
		return nil
	case c.reg.Dropout > 0:
		return cli.UsageError{Msg: fmt.Sprintf("-dropout on %d ranks: not supported (each rank's masks would need their own checkpointed generator); train on one process", ranks)}
	case c.reg.Plateau > 0:
		return cli.UsageError{Msg: fmt.Sprintf("-plateau on %d ranks: not supported (rank 0 alone sees the test loss); use a -schedule", ranks)}
	}
	return nil
}

// extras is what the checkpoints carry besides the weights, the optimizer
// and the data order.
func (g *regularizer) extras() checkpoint.Extras[float32] {
	x := checkpoint.Extras[float32]{Early: g.early}
	if g.pcg != nil {
		x.RNG = map[string]checkpoint.Generator{"dropout": g.pcg}
	}
	return x
}

// describe names the regularisation for the banner and the checkpoint's
// metadata ("" for none; the plateau is part of the optimizer's schedule).
func (g *regularizer) describe() string {
	var s []string
	if p := g.c.reg.Dropout; p > 0 {
		s = append(s, fmt.Sprintf("dropout %g", p))
	}
	if n := g.c.reg.Clip; n > 0 {
		s = append(s, fmt.Sprintf("clip %g", n))
	}
	if n := g.c.reg.Patience; n > 0 {
		s = append(s, fmt.Sprintf("patience %d", n))
	}
	return strings.Join(s, ", ")
}

// observe is the end of an epoch: the plateau and the early stopping see
// the test loss, and say what they did. It returns train.ErrStop when
// early stopping ends the run (the best weights are back then).
func (g *regularizer) observe(r train.EpochResult, stdout io.Writer) error {
	if g.plateau != nil && g.plateau.Observe(r.Eval.Loss) {
		fmt.Fprintf(stdout, "plateau: no better test loss: rate ×%g, now %g\n", g.c.reg.Plateau, g.plateau.Rate(r.Steps))
	}
	if g.early == nil {
		return nil
	}
	err := g.early.Observe(r)
	if errors.Is(err, train.ErrStop) {
		g.stopped = true
		loss, epoch := g.early.BestMetric()
		fmt.Fprintf(stdout, "early stopping: no better test loss for %d epochs: restored the weights of epoch %d (test loss %.4f)\n",
			g.c.reg.Patience, epoch, loss)
	}
	return err
}

// finished returns an error if the restored early stopping has already
// ended the run.
func (g *regularizer) finished(epoch int) error {
	if g.early == nil || g.early.State().Bad < g.c.reg.Patience {
		return nil
	}
	_, best := g.early.BestMetric()
	return fmt.Errorf("the run stopped early after epoch %d (the best was epoch %d): nothing to train", epoch, best)
}
