package optim

import (
	"fmt"
	"math"
)

// Option configures an optimiser's constructor. Each constructor accepts
// the options that apply to it and returns an error naming any other (say
// WithBetas given to NewSGD), so a hyperparameter is never silently
// ignored.
type Option func(*config)

type config struct {
	form         MomentumForm
	momentum     float64
	decay        float64
	beta1, beta2 float64
	eps          float64
	alpha        float64
	centered     bool
	set          map[string]bool // names of the options given
}

func (c *config) mark(name string) {
	if c.set == nil {
		c.set = make(map[string]bool)
	}
	c.set[name] = true
}

// WithMomentum selects the momentum form and its coefficient (α for EMA, μ
// for HeavyBall and Nesterov), which must lie in [0, 1). With form None,
// momentum must be 0. Without this option SGD uses no momentum. For
// RMSProp only HeavyBall (PyTorch's RMSprop momentum) and None apply.
func WithMomentum(form MomentumForm, momentum float64) Option {
	return func(c *config) { c.form, c.momentum = form, momentum; c.mark("WithMomentum") }
}

// WithWeightDecay sets the weight decay λ ≥ 0. For SGD, Adam, RMSProp and
// Adagrad it is PyTorch's coupled L2 decay, g ← g + λθ before the update;
// for AdamW it is the decoupled decay θ ← θ − γλθ. Without this option
// λ = 0, except for AdamW (0.01, PyTorch's default).
func WithWeightDecay(lambda float64) Option {
	return func(c *config) { c.decay = lambda; c.mark("WithWeightDecay") }
}

// WithBetas sets Adam's and AdamW's moment decay rates β1, β2 ∈ [0, 1)
// (default 0.9, 0.999).
func WithBetas(beta1, beta2 float64) Option {
	return func(c *config) { c.beta1, c.beta2 = beta1, beta2; c.mark("WithBetas") }
}

// WithEps sets the ε > 0 added to the denominator of Adam, AdamW, RMSProp
// and Adagrad (default 1e-8, and 1e-10 for Adagrad, PyTorch's defaults).
// It must be positive: with ε = 0 a coordinate whose gradients have all
// been zero (a dead unit) would get 0/0 = NaN.
func WithEps(eps float64) Option {
	return func(c *config) { c.eps = eps; c.mark("WithEps") }
}

// WithAlpha sets RMSProp's smoothing constant α ∈ [0, 1) (default 0.99).
func WithAlpha(alpha float64) Option {
	return func(c *config) { c.alpha = alpha; c.mark("WithAlpha") }
}

// WithCentered makes RMSProp centred: it divides by an estimate of the
// gradient's variance instead of its second moment.
func WithCentered() Option {
	return func(c *config) { c.centered = true; c.mark("WithCentered") }
}

// configure applies opts over the defaults and returns an error naming the
// first option given that is not in allowed.
func configure(ctor string, defaults config, opts []Option, allowed ...string) (config, error) {
	c := defaults
	for _, o := range opts {
		o(&c)
	}
	for name := range c.set {
		ok := false
		for _, a := range allowed {
			ok = ok || a == name
		}
		if !ok {
			return c, fmt.Errorf("optim: %s: option %s does not apply (it takes %v)", ctor, name, allowed)
		}
	}
	if err := checkRate("weight decay", c.decay); err != nil {
		return c, err
	}
	return c, nil
}

// checkUnit returns an error naming what unless 0 ≤ x < 1.
func checkUnit(what string, x float64) error {
	if !(x >= 0 && x < 1) {
		return fmt.Errorf("optim: %s %v outside [0, 1)", what, x)
	}
	return nil
}

// checkEps returns an error unless ε is finite and > 0.
func checkEps(eps float64) error {
	if !(eps > 0) || math.IsInf(eps, 1) {
		return fmt.Errorf("optim: eps %v must be finite and > 0", eps)
	}
	return nil
}
