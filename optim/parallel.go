package optim

import (
	"github.com/flowgrad/flowgrad/internal/parallel"
	"github.com/flowgrad/flowgrad/internal/vec"
	"github.com/flowgrad/flowgrad/tensor"
)

// minParallel is the number of parameter elements below which a Step runs
// on one core. Measured on the 2-core Zen 4 VM with MLP 784-256-256-10
// (269k parameters): splitting its update across the cores made the whole
// training step 38 % slower at B = 1 and 7 % slower at B = 10, and changed
// nothing measurable at B = 100 and 1000 — waking a blocked worker costs
// tens of microseconds there, as much as the pass itself. So only models
// several times larger are split.
var minParallel = 1 << 21 // a variable so that tests can split small models

// stepJob is one Step's update over all parameters, split into equal
// element ranges across cores (each element is updated by exactly one part,
// so the result does not depend on the number of cores).
type stepJob[T tensor.Float] struct {
	s     *SGD[T]
	rate  T
	total int // elements over all parameters
	g     parallel.Group
}

func (j *stepJob[T]) run(rate T) {
	j.rate = rate
	j.g.Run(j, parallel.Parts(j.total, minParallel))
}

// Part updates elements [lo, hi) of part i of n, counted across the
// parameters in order.
func (j *stepJob[T]) Part(i, n int) {
	lo, hi := parallel.Range(i, n, j.total, 16)
	off := 0
	for k, p := range j.s.params {
		size := p.Data().Len()
		if a, b := max(lo, off), min(hi, off+size); a < b {
			j.s.updateRange(k, a-off, b-off, j.rate)
		}
		off += size
	}
}

// updateRange updates elements [a, b) of parameter k: with the assembly
// kernels for float32 (every form is vec.MomentumStep with the form's
// coefficients), with the form's plain update function otherwise.
func (s *SGD[T]) updateRange(k, a, b int, rate T) {
	p := s.params[k]
	theta, grad := p.Data().Data()[a:b], p.Grad().Data()[a:b]
	var buf []T
	if s.bufs[k] != nil {
		buf = s.bufs[k][a:b]
	}
	th32, ok := any(theta).([]float32)
	if !ok {
		s.update(theta, grad, buf, rate, s.m, s.wd)
		return
	}
	g32, b32 := any(grad).([]float32), any(buf).([]float32)
	r, m, wd := float32(rate), float32(s.m), float32(s.wd)
	switch s.form {
	case None:
		vec.PlainStep(th32, g32, r, wd)
	case EMA: // Δ ← αΔ + (1−α)g; θ ← θ − εΔ
		vec.MomentumStep(th32, g32, b32, m, 1-m, r, 0, wd)
	case HeavyBall: // v ← μv + g; θ ← θ − εv
		vec.MomentumStep(th32, g32, b32, m, 1, r, 0, wd)
	case Nesterov: // v ← μv + g; θ ← θ − ε(g + μv)
		vec.MomentumStep(th32, g32, b32, m, 1, r*m, r, wd)
	}
}
