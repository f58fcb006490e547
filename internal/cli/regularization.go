package cli

import (
	"flag"
	"math"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/optim"
)

// RegularizationFlags are the flags of regularisation and rate control
// shared by the commands: -dropout P (after each hidden layer), -clip NORM
// (global-norm gradient clipping), -patience N (early stopping on the
// held-out score, keeping the best weights), -plateau FACTOR and
// -plateau-patience N (reduce-on-plateau on the held-out loss). Zero turns
// each off.
type RegularizationFlags struct {
	Dropout         float64
	Clip            float64
	Patience        int
	Plateau         float64
	PlateauPatience int
}

// Register defines the flags on fs with the command's defaults of
// -dropout, -patience and -plateau-patience and its help text for
// -patience (which names the score watched).
func (r *RegularizationFlags) Register(fs *flag.FlagSet, dropout float64, patience int, patienceUsage string, plateauPatience int) {
	fs.Float64Var(&r.Dropout, "dropout", dropout, "dropout probability after each hidden layer, in [0, 1) (0: no dropout)")
	fs.Float64Var(&r.Clip, "clip", 0, "clip the gradients' global norm to this value before each update (0: no clipping)")
	fs.IntVar(&r.Patience, "patience", patience, patienceUsage)
	fs.Float64Var(&r.Plateau, "plateau", 0, "multiply the rate by this factor in (0, 1) when the held-out loss stalls (0: off)")
	fs.IntVar(&r.PlateauPatience, "plateau-patience", plateauPatience, "epochs without improvement of the held-out loss before -plateau lowers the rate")
}

// Check validates the flags once parsed; its error is a UsageError naming
// the flag and the bad value.
func (r *RegularizationFlags) Check() error {
	switch {
	case !(r.Dropout >= 0 && r.Dropout < 1):
		return Usagef("-dropout %v: want a probability in [0, 1)", r.Dropout)
	case !(r.Clip >= 0) || math.IsInf(r.Clip, 1):
		return Usagef("-clip %v: want a finite norm > 0, or 0 for no clipping", r.Clip)
	case r.Patience < 0:
		return Usagef("-patience %d: want 0 (off) or more epochs", r.Patience)
	case r.Plateau != 0 && !(r.Plateau > 0 && r.Plateau < 1):
		return Usagef("-plateau %v: want a factor in (0, 1), or 0 for off", r.Plateau)
	case r.PlateauPatience < 0:
		return Usagef("-plateau-patience %d: want ≥ 0", r.PlateauPatience)
	}
	return nil
}

// ClipHook returns the Trainer.BeforeUpdate hook of -clip over params:
// optim.ClipGlobalNorm to the flag's norm (nil when -clip is 0).
func (r *RegularizationFlags) ClipHook(params []*autograd.Value[float32]) func() error {
	if r.Clip == 0 {
		return nil
	}
	return func() error { optim.ClipGlobalNorm(params, r.Clip); return nil }
}

// PlateauConfig returns the reduce-on-plateau rate control of -plateau
// and -plateau-patience (relative threshold 10⁻⁴, PyTorch's default), or
// nil when -plateau is 0.
func (r *RegularizationFlags) PlateauConfig() *optim.PlateauConfig {
	if r.Plateau == 0 {
		return nil
	}
	return &optim.PlateauConfig{Factor: r.Plateau, Patience: r.PlateauPatience, Threshold: 1e-4}
}

// NewPlateau returns sched wrapped in the rate control of PlateauConfig,
// or nil and sched itself when -plateau is 0.
func (r *RegularizationFlags) NewPlateau(sched optim.Schedule) (*optim.Plateau, optim.Schedule, error) {
	cfg := r.PlateauConfig()
	if cfg == nil {
		return nil, sched, nil
	}
	pl, err := optim.NewPlateau(sched, *cfg)
	if err != nil {
		return nil, nil, err
	}
	return pl, pl, nil
}
