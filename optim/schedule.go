package optim

import (
	"fmt"
	"math"
)

// Schedule gives the learning rate ε_k of step k = 0, 1, 2, …: a pure
// function of k, so resuming at step k needs only k, and the order of calls
// cannot matter. Rate must return a finite rate ≥ 0 for every k ≥ 0; the
// schedules of this package do so by construction (their constructors
// validate their parameters). String describes the schedule for logs.
type Schedule interface {
	Rate(k int) float64
	String() string
}

// Must returns s, or panics if err is not nil. It is for schedules written
// in code, whose parameters are known to be valid:
//
//	sched := optim.Must(optim.InverseTime(0.05, 5000))
func Must(s Schedule, err error) Schedule {
	if err != nil {
		panic(err)
	}
	return s
}

// checkRate returns an error naming what if x is not a finite number ≥ 0.
func checkRate(what string, x float64) error {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		return fmt.Errorf("optim: %s %v is not finite", what, x)
	case x < 0:
		return fmt.Errorf("optim: %s %v is negative", what, x)
	}
	return nil
}

// checkGamma returns an error unless 0 < γ ≤ 1.
func checkGamma(sched string, gamma float64) error {
	if !(gamma > 0 && gamma <= 1) {
		return fmt.Errorf("optim: %s: gamma %v outside (0, 1]", sched, gamma)
	}
	return nil
}

type constant struct{ eps float64 }

// Constant returns the schedule ε_k = eps. It is an error if eps is
// negative, NaN or infinite.
func Constant(eps float64) (Schedule, error) {
	if err := checkRate("rate", eps); err != nil {
		return nil, err
	}
	return constant{eps}, nil
}

func (s constant) Rate(int) float64 { return s.eps }
func (s constant) String() string   { return fmt.Sprintf("Constant(%v)", s.eps) }

type inverseTime struct{ eps0, tau float64 }

// InverseTime returns the tutorial's 1/k schedule ε_k = ε0·τ/(τ+k): ε0 at
// k = 0, halved at k = τ. Its rates sum to infinity while their squares
// sum to a finite value, the classical conditions for SGD to converge
// (given ε0 small enough not to diverge). It is an error if eps0 is
// negative, NaN or infinite, or tau is not a finite number > 0.
func InverseTime(eps0, tau float64) (Schedule, error) {
	if err := checkRate("InverseTime: eps0", eps0); err != nil {
		return nil, err
	}
	if !(tau > 0) || math.IsInf(tau, 0) {
		return nil, fmt.Errorf("optim: InverseTime: tau %v must be finite and > 0", tau)
	}
	return inverseTime{eps0, tau}, nil
}

func (s inverseTime) Rate(k int) float64 { return s.eps0 * s.tau / (s.tau + float64(k)) }
func (s inverseTime) String() string {
	return fmt.Sprintf("InverseTime(eps0=%v, tau=%v)", s.eps0, s.tau)
}

type stepDecay struct {
	eps0, gamma float64
	every       int
}

// StepDecay returns the schedule ε_k = ε0·γ^⌊k/every⌋: the rate is
// multiplied by γ every `every` steps. It is an error if eps0 is negative,
// NaN or infinite, gamma is outside (0, 1], or every < 1.
func StepDecay(eps0, gamma float64, every int) (Schedule, error) {
	if err := checkRate("StepDecay: eps0", eps0); err != nil {
		return nil, err
	}
	if err := checkGamma("StepDecay", gamma); err != nil {
		return nil, err
	}
	if every < 1 {
		return nil, fmt.Errorf("optim: StepDecay: every %d must be ≥ 1", every)
	}
	return stepDecay{eps0, gamma, every}, nil
}

func (s stepDecay) Rate(k int) float64 { return s.eps0 * math.Pow(s.gamma, float64(k/s.every)) }
func (s stepDecay) String() string {
	return fmt.Sprintf("StepDecay(eps0=%v, gamma=%v, every=%d)", s.eps0, s.gamma, s.every)
}

type exponential struct{ eps0, gamma float64 }

// Exponential returns the schedule ε_k = ε0·γ^k. It is an error if eps0 is
// negative, NaN or infinite, or gamma is outside (0, 1].
func Exponential(eps0, gamma float64) (Schedule, error) {
	if err := checkRate("Exponential: eps0", eps0); err != nil {
		return nil, err
	}
	if err := checkGamma("Exponential", gamma); err != nil {
		return nil, err
	}
	return exponential{eps0, gamma}, nil
}

func (s exponential) Rate(k int) float64 { return s.eps0 * math.Pow(s.gamma, float64(k)) }
func (s exponential) String() string {
	return fmt.Sprintf("Exponential(eps0=%v, gamma=%v)", s.eps0, s.gamma)
}

type cosine struct {
	eps0, floor float64
	steps       int
}

// Cosine returns the cosine annealing schedule from ε0 down to floor over
// `steps` steps, then constant at floor:
//
//	ε_k = floor + (ε0 − floor)·(1 + cos(πk/steps))/2   for k ≤ steps,
//	ε_k = floor                                         for k > steps.
//
// It is an error if eps0 or floor is negative, NaN or infinite,
// floor > eps0, or steps < 1.
func Cosine(eps0, floor float64, steps int) (Schedule, error) {
	if err := checkRate("Cosine: eps0", eps0); err != nil {
		return nil, err
	}
	if err := checkRate("Cosine: floor", floor); err != nil {
		return nil, err
	}
	if floor > eps0 {
		return nil, fmt.Errorf("optim: Cosine: floor %v above eps0 %v", floor, eps0)
	}
	if steps < 1 {
		return nil, fmt.Errorf("optim: Cosine: steps %d must be ≥ 1", steps)
	}
	return cosine{eps0, floor, steps}, nil
}

func (s cosine) Rate(k int) float64 {
	if k >= s.steps {
		return s.floor
	}
	return s.floor + (s.eps0-s.floor)*(1+math.Cos(math.Pi*float64(k)/float64(s.steps)))/2
}
func (s cosine) String() string {
	return fmt.Sprintf("Cosine(eps0=%v, floor=%v, steps=%d)", s.eps0, s.floor, s.steps)
}

type warmup struct {
	n    int
	next Schedule
}

// Warmup returns a linear warm-up over n steps followed by next, shifted by
// n steps:
//
//	ε_k = next.Rate(0)·(k+1)/(n+1)   for k < n,
//	ε_k = next.Rate(k−n)             for k ≥ n,
//
// so the rate climbs in n equal increments from next.Rate(0)/(n+1) and
// joins next where next starts. Warmup(0, next) is next. It is an error if
// n < 0 or next is nil.
func Warmup(n int, next Schedule) (Schedule, error) {
	if n < 0 {
		return nil, fmt.Errorf("optim: Warmup: n %d is negative", n)
	}
	if next == nil {
		return nil, fmt.Errorf("optim: Warmup: next schedule is nil")
	}
	if n == 0 {
		return next, nil
	}
	return warmup{n, next}, nil
}

func (s warmup) Rate(k int) float64 {
	if k < s.n {
		return s.next.Rate(0) * float64(k+1) / float64(s.n+1)
	}
	return s.next.Rate(k - s.n)
}
func (s warmup) String() string { return fmt.Sprintf("Warmup(%d, %v)", s.n, s.next) }
