package cli

import (
	"flag"
	"fmt"
	"slices"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/optim"
)

// OptimizerFlags are the flags that choose an optimiser and its
// hyperparameters, shared by the commands: -optimizer sgd | adam | adamw |
// rmsprop | adagrad; -momentum-form and -momentum for sgd (-momentum also
// gives rmsprop heavy-ball momentum); -beta1, -beta2 for adam and adamw;
// -eps for adam, adamw, rmsprop and adagrad; -weight-decay for all
// (coupled L2, except adamw's decoupled decay, default 0.01). A flag that
// does not apply to the chosen optimiser is a usage error. The rate comes
// from the command (its -lr flag), or DefaultRate.
type OptimizerFlags struct {
	Name         string
	Form         optim.MomentumForm // sgd's momentum form
	Momentum     float64
	WeightDecay  float64
	Beta1, Beta2 float64
	Eps          float64

	form    string
	sgdRate float64
	set     map[string]bool
}

// defaultRates are the adaptive optimisers' default rates: PyTorch's,
// except RMSProp's 0.001 (Keras's and Hinton's) — at PyTorch's 0.01 it
// diverged in the demo's first steps on MNIST.
var defaultRates = map[string]float64{"adam": 0.001, "adamw": 0.001, "rmsprop": 0.001, "adagrad": 0.01}

// optimizerFlags lists the optimisers each specific flag applies to.
var optimizerFlags = []struct {
	flag string
	to   []string
}{
	{"momentum-form", []string{"sgd"}},
	{"momentum", []string{"sgd", "rmsprop"}},
	{"beta1", []string{"adam", "adamw"}},
	{"beta2", []string{"adam", "adamw"}},
	{"eps", []string{"adam", "adamw", "rmsprop", "adagrad"}},
}

// Register defines the flags on fs, with defaultName as -optimizer's
// default and sgdRate as sgd's default rate.
func (o *OptimizerFlags) Register(fs *flag.FlagSet, defaultName string, sgdRate float64) {
	o.sgdRate = sgdRate
	fs.StringVar(&o.Name, "optimizer", defaultName, "optimizer: sgd | adam | adamw | rmsprop | adagrad")
	fs.StringVar(&o.form, "momentum-form", "heavyball", "sgd: momentum form ema | heavyball | nesterov | none")
	fs.Float64Var(&o.Momentum, "momentum", 0.9, "sgd: momentum (α for ema, μ for heavyball and nesterov); rmsprop: heavy-ball momentum (default 0 there)")
	fs.Float64Var(&o.WeightDecay, "weight-decay", 0, "L2 weight decay λ (adamw: decoupled decay, default 0.01)")
	fs.Float64Var(&o.Beta1, "beta1", 0.9, "adam, adamw: β1, the decay of the gradient average")
	fs.Float64Var(&o.Beta2, "beta2", 0.999, "adam, adamw: β2, the decay of the squared-gradient average")
	fs.Float64Var(&o.Eps, "eps", 0, "adam, adamw, rmsprop, adagrad: ε added to the denominator (default 1e-8; adagrad 1e-10)")
}

// Check validates the flags once fs is parsed: the optimiser's name, the
// momentum form, and that every flag given applies to the optimiser. The
// hyperparameters' values are checked by New (the optimisers' own
// validation).
func (o *OptimizerFlags) Check(fs *flag.FlagSet) error {
	o.set = Given(fs)
	if _, ok := defaultRates[o.Name]; !ok && o.Name != "sgd" {
		return Usagef("-optimizer %q: want sgd, adam, adamw, rmsprop or adagrad", o.Name)
	}
	for _, f := range optimizerFlags {
		if o.set[f.flag] && !slices.Contains(f.to, o.Name) {
			return Usagef("-%s does not apply to -optimizer %s (only to %v)", f.flag, o.Name, f.to)
		}
	}
	var err error
	if o.Form, err = optim.ParseMomentumForm(o.form); err != nil {
		return Usagef("-momentum-form: %v", err)
	}
	if o.Form == optim.None {
		o.Momentum = 0
	}
	return nil
}

// NewWithDefaultDecay is New with wd as the L2 weight decay when
// -weight-decay was not given, for a command whose default depends on
// what it learns only after parsing (cmd/flowgrad: the task and the
// training rows); adamw, whose decoupled decay has its own default, keeps
// it. It leaves o as it is, so runs may call it concurrently. Call it
// after Check.
func (o *OptimizerFlags) NewWithDefaultDecay(params []*autograd.Value[float32], sched optim.Schedule, wd float64) (optim.Optimizer[float32], error) {
	c := *o
	if !o.set["weight-decay"] && o.Name != "adamw" {
		c.WeightDecay = wd
	}
	return c.New(params, sched)
}

// DefaultRate returns the rate to use when the command's -lr is not given:
// defaultRates' for the adaptive optimisers, the command's for sgd.
func (o *OptimizerFlags) DefaultRate() float64 {
	if r, ok := defaultRates[o.Name]; ok {
		return r
	}
	return o.sgdRate
}

// SGDOptions are the options of optim.NewSGD the flags give.
func (o *OptimizerFlags) SGDOptions() []optim.Option {
	return []optim.Option{optim.WithMomentum(o.Form, o.Momentum), optim.WithWeightDecay(o.WeightDecay)}
}

// New returns the optimiser the flags ask for over params with the rate
// schedule sched. Its error (a bad hyperparameter, named) is the
// optimiser constructor's.
func (o *OptimizerFlags) New(params []*autograd.Value[float32], sched optim.Schedule) (optim.Optimizer[float32], error) {
	var opts []optim.Option
	if o.Name != "adamw" || o.set["weight-decay"] {
		opts = append(opts, optim.WithWeightDecay(o.WeightDecay))
	}
	if o.set["eps"] {
		opts = append(opts, optim.WithEps(o.Eps))
	}
	switch o.Name {
	case "adam", "adamw":
		opts = append(opts, optim.WithBetas(o.Beta1, o.Beta2))
		if o.Name == "adam" {
			return optim.NewAdam(params, sched, opts...)
		}
		return optim.NewAdamW(params, sched, opts...)
	case "rmsprop":
		if o.set["momentum"] {
			opts = append(opts, optim.WithMomentum(optim.HeavyBall, o.Momentum))
		}
		return optim.NewRMSProp(params, sched, opts...)
	case "adagrad":
		return optim.NewAdagrad(params, sched, opts...)
	}
	return optim.NewSGD(params, sched, o.SGDOptions()...)
}

// Describe names the optimiser for a run's first line.
func (o *OptimizerFlags) Describe(opt optim.Optimizer[float32]) string {
	if o.Name == "sgd" {
		return fmt.Sprintf("%v momentum %g, schedule %v", o.Form, o.Momentum, opt.Schedule())
	}
	return opt.String()
}
