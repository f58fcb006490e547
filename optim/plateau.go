package optim

import (
	"fmt"
	"math"
)

// Plateau is reduce-on-plateau rate control as a Schedule: its rate is the
// wrapped schedule's times a scale,
//
//	Rate(k) = Scale · next.Rate(k),
//
// and the scale starts at 1 and changes only when Observe is told a new
// validation metric (once per epoch, say): after more than Patience
// observations in a row without improvement the scale is multiplied by
// Factor (not below MinScale) and the count restarts. This is PyTorch's
// ReduceLROnPlateau (threshold_mode "rel", no cooldown) expressed, as every
// schedule here, through the rate the optimiser asks for: the optimiser
// keeps no rate of its own, and a Plateau's rate is a pure function of k
// and of the observations so far.
//
// Its state (scale, best metric, bad observations) is part of the state of
// the optimiser that uses it ([State].Plateau), so checkpoints store it and
// a resumed run continues exactly. A Plateau serves one optimiser; it is
// not safe for concurrent use.
type Plateau struct {
	next Schedule
	cfg  PlateauConfig
	st   PlateauState
}

// PlateauConfig configures NewPlateau. The zero value of each field but
// Factor is usable.
type PlateauConfig struct {
	// Factor ∈ (0, 1) multiplies the scale on a plateau (PyTorch: 0.1).
	Factor float64
	// Patience ≥ 0 is the number of observations without improvement
	// tolerated; the next one reduces the rate (PyTorch: 10).
	Patience int
	// Threshold ≥ 0 is the relative improvement that counts: a metric m
	// improves on the best b if m < b − Threshold·|b| (PyTorch: 1e-4).
	Threshold float64
	// MinScale ∈ [0, 1] is the lowest scale (0: no limit).
	MinScale float64
	// Maximize makes larger metrics better (accuracy rather than loss):
	// m improves if m > b + Threshold·|b|.
	Maximize bool
}

// PlateauState is a Plateau's state: the scale applied to the wrapped
// schedule, the best metric observed (+Inf, or −Inf when maximising,
// before any), and the number of observations since the last improvement
// or reduction.
type PlateauState struct {
	Scale float64
	Best  float64
	Bad   int
}

// NewPlateau returns a Plateau over next with scale 1. It returns an error
// naming the bad value if next is nil, Factor is outside (0, 1), Patience
// is negative, Threshold is negative or not finite, or MinScale is outside
// [0, 1].
func NewPlateau(next Schedule, cfg PlateauConfig) (*Plateau, error) {
	switch {
	case next == nil:
		return nil, fmt.Errorf("optim: NewPlateau: next schedule is nil")
	case !(cfg.Factor > 0 && cfg.Factor < 1):
		return nil, fmt.Errorf("optim: NewPlateau: factor %v outside (0, 1)", cfg.Factor)
	case cfg.Patience < 0:
		return nil, fmt.Errorf("optim: NewPlateau: patience %d is negative", cfg.Patience)
	case !(cfg.MinScale >= 0 && cfg.MinScale <= 1):
		return nil, fmt.Errorf("optim: NewPlateau: min scale %v outside [0, 1]", cfg.MinScale)
	}
	if err := checkRate("NewPlateau: threshold", cfg.Threshold); err != nil {
		return nil, err
	}
	best := math.Inf(1)
	if cfg.Maximize {
		best = math.Inf(-1)
	}
	return &Plateau{next: next, cfg: cfg, st: PlateauState{Scale: 1, Best: best}}, nil
}

// Rate returns Scale·next.Rate(k).
func (p *Plateau) Rate(k int) float64 { return p.st.Scale * p.next.Rate(k) }

// String describes the schedule and its current scale.
func (p *Plateau) String() string {
	return fmt.Sprintf("Plateau(%v, factor=%v, patience=%d, scale=%v)", p.next, p.cfg.Factor, p.cfg.Patience, p.st.Scale)
}

// Observe records a new value of the validation metric and reports whether
// it reduced the rate. A NaN metric counts as no improvement.
func (p *Plateau) Observe(metric float64) (reduced bool) {
	b, th := p.st.Best, p.cfg.Threshold
	better := metric < b-th*math.Abs(b) || math.IsInf(b, 1) && metric < b
	if p.cfg.Maximize {
		better = metric > b+th*math.Abs(b) || math.IsInf(b, -1) && metric > b
	}
	if better {
		p.st.Best, p.st.Bad = metric, 0
		return false
	}
	p.st.Bad++
	if p.st.Bad <= p.cfg.Patience {
		return false
	}
	p.st.Bad = 0
	next := math.Max(p.st.Scale*p.cfg.Factor, p.cfg.MinScale)
	if next < p.st.Scale {
		p.st.Scale = next
		return true
	}
	return false
}

// State returns the Plateau's state.
func (p *Plateau) State() PlateauState { return p.st }

// SetState restores a state returned by State. It returns an error, and
// changes nothing, if the scale is not in (0, 1], the best metric is NaN or
// the count is negative.
func (p *Plateau) SetState(st PlateauState) error {
	switch {
	case !(st.Scale > 0 && st.Scale <= 1):
		return fmt.Errorf("optim: Plateau.SetState: scale %v outside (0, 1]", st.Scale)
	case math.IsNaN(st.Best):
		return fmt.Errorf("optim: Plateau.SetState: best metric is NaN")
	case st.Bad < 0:
		return fmt.Errorf("optim: Plateau.SetState: %d bad observations", st.Bad)
	}
	p.st = st
	return nil
}
