package main

// The -optimizer flag and its hyperparameters: sgd (with -momentum-form
// and -momentum), adam and adamw (-beta1, -beta2, -eps), rmsprop (-eps,
// and -momentum for heavy-ball momentum), adagrad (-eps); -weight-decay
// for all (coupled L2, except adamw's decoupled decay, default 0.01).
// Without -lr each starts at PyTorch's default rate (sgd: this demo's
// 0.1). A flag that does not apply to the chosen optimizer is an error.

import (
	"flag"
	"fmt"
	"slices"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/optim"
)

// optFlags are the -optimizer flags.
type optFlags struct {
	name         string
	beta1, beta2 float64
	eps          float64
	set          map[string]bool // the flags given on the command line
}

// defaultRates are the rates used without -lr.
var defaultRates = map[string]float64{"sgd": 0.1, "adam": 0.001, "adamw": 0.001, "rmsprop": 0.01, "adagrad": 0.01}

// optimizerFlags lists the optimizers each optimizer-specific flag applies
// to.
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

func (o *optFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&o.name, "optimizer", "sgd", "optimizer: sgd | adam | adamw | rmsprop | adagrad")
	fs.Float64Var(&o.beta1, "beta1", 0.9, "adam, adamw: β1, the decay of the gradient average")
	fs.Float64Var(&o.beta2, "beta2", 0.999, "adam, adamw: β2, the decay of the squared-gradient average")
	fs.Float64Var(&o.eps, "eps", 0, "adam, adamw, rmsprop, adagrad: ε added to the denominator (default 1e-8; adagrad 1e-10)")
}

// check validates the flags once parsed (fs has been parsed into c) and
// sets the default rate of the chosen optimizer.
func (o *optFlags) check(fs *flag.FlagSet, c *config) error {
	o.set = make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
	if _, ok := defaultRates[o.name]; !ok {
		return usageError{fmt.Sprintf("-optimizer %q: want sgd, adam, adamw, rmsprop or adagrad", o.name)}
	}
	for _, f := range optimizerFlags {
		if o.set[f.flag] && !slices.Contains(f.to, o.name) {
			return usageError{fmt.Sprintf("-%s does not apply to -optimizer %s (only to %v)", f.flag, o.name, f.to)}
		}
	}
	if !o.set["lr"] {
		c.lr = defaultRates[o.name]
	}
	if o.name != "sgd" && c.lrt.find {
		return usageError{fmt.Sprintf("-find-lr runs the range test with sgd, not %s: choose -lr directly (default %g)", o.name, defaultRates[o.name])}
	}
	return nil
}

// newOptimizer returns the optimizer the flags ask for over params.
func (c *config) newOptimizer(params []*autograd.Value[float32], sched optim.Schedule) (optim.Optimizer[float32], error) {
	o := &c.opt
	var opts []optim.Option
	if o.name != "adamw" || o.set["weight-decay"] {
		opts = append(opts, optim.WithWeightDecay(c.weightDecay))
	}
	if o.set["eps"] {
		opts = append(opts, optim.WithEps(o.eps))
	}
	switch o.name {
	case "adam", "adamw":
		opts = append(opts, optim.WithBetas(o.beta1, o.beta2))
		if o.name == "adam" {
			return optim.NewAdam(params, sched, opts...)
		}
		return optim.NewAdamW(params, sched, opts...)
	case "rmsprop":
		if o.set["momentum"] {
			opts = append(opts, optim.WithMomentum(optim.HeavyBall, c.momentum))
		}
		return optim.NewRMSProp(params, sched, opts...)
	case "adagrad":
		return optim.NewAdagrad(params, sched, opts...)
	}
	return optim.NewSGD(params, sched, c.optimOptions()...)
}

// describe names the optimizer for the run's first line.
func (c *config) describe(opt optim.Optimizer[float32]) string {
	if c.opt.name == "sgd" {
		return fmt.Sprintf("%v momentum %g, schedule %v", c.form, c.momentum, opt.Schedule())
	}
	return opt.String()
}
