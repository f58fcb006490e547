package vec

import "math"

// The optimiser updates. Each is one fused pass over a parameter, written
// once as a loop generic in the element type: that loop is the update's
// definition, run as is for float64 (and for float32 on the generic path);
// on amd64 with AVX2 and FMA the float32 case runs an assembly kernel that
// performs the same operations in the same order, fusing the
// multiply-adds (so it may differ from the loop in the last bits); on
// arm64 with NEON, one that performs them unfused (the loop's bits).
//
// Every product that is added is converted explicitly, T(x*y) + z: Go may
// fuse x*y + z into one FMA on arm64 (not on amd64), and the conversion
// forbids it, so the float64 results are the same bits on every
// architecture — the bits of the plain recurrence that the optim tests
// write out.

// Float is the element type of the optimiser updates.
type Float interface{ ~float32 | ~float64 }

func sqrt[T Float](x T) T { return T(math.Sqrt(float64(x))) }

// Momentum holds the coefficients of MomentumStep (see package optim for
// each momentum form's choice).
type Momentum[T Float] struct{ A, B, C, D, E, WD T }

// MomentumStep is one SGD update with momentum and L2 weight decay, in one
// pass over a parameter, for i < len(theta):
//
//	g := grad[i] + WD·theta[i]
//	buf[i] = A·buf[i] + B·g
//	theta[i] -= C·(D·g + E·buf[i])
//
// Every momentum form is a choice of A…E: EMA (α, 1−α, ε, 0, 1), heavy
// ball (μ, 1, ε, 0, 1), Nesterov (μ, 1, ε, 1, μ); each reproduces its
// form's formula exactly (a zero term adds nothing, a unit factor changes
// nothing). It panics if grad or buf is shorter than theta.
func MomentumStep[T Float](theta, grad, buf []T, k *Momentum[T]) {
	checkLen("MomentumStep", len(theta), len(grad), len(buf))
	if t, ok := any(theta).([]float32); ok {
		cur.momentumStep(t, any(grad).([]float32), any(buf).([]float32), any(k).(*Momentum[float32]))
		return
	}
	momentumStepGeneric(theta, grad, buf, k)
}

func momentumStepGeneric[T Float](theta, grad, buf []T, k *Momentum[T]) {
	grad, buf = grad[:len(theta)], buf[:len(theta)]
	for i, th := range theta {
		g := grad[i] + T(k.WD*th)
		v := T(k.A*buf[i]) + T(k.B*g)
		buf[i] = v
		theta[i] = th - T(k.C*(T(k.D*g)+T(k.E*v)))
	}
}

// PlainStep is one SGD update without momentum: for i < len(theta),
//
//	g := grad[i] + wd·theta[i]
//	theta[i] -= rate·g
//
// It panics if grad is shorter than theta.
func PlainStep[T Float](theta, grad []T, rate, wd T) {
	checkLen("PlainStep", len(theta), len(grad))
	if t, ok := any(theta).([]float32); ok {
		cur.plainStep(t, any(grad).([]float32), float32(rate), float32(wd))
		return
	}
	plainStepGeneric(theta, grad, rate, wd)
}

func plainStepGeneric[T Float](theta, grad []T, rate, wd T) {
	grad = grad[:len(theta)]
	for i, th := range theta {
		g := grad[i] + T(wd*th)
		theta[i] = th - T(rate*g)
	}
}

// Adam holds the coefficients of AdamStep for one step t ≥ 1: B1 = β1,
// C1 = 1−β1, B2 = β2, C2 = 1−β2, BC1 = 1−β1ᵗ, BC2 = 1−β2ᵗ, Rate = γ,
// Eps = ε, WD = λ for Adam's coupled L2 decay (else 0) and DecayRate = γλ
// for AdamW's decoupled decay (else 0).
type Adam[T Float] struct{ B1, C1, B2, C2, BC1, BC2, Rate, Eps, WD, DecayRate T }

// AdamStep is one Adam or AdamW update, for i < len(theta):
//
//	g := grad[i] + WD·theta[i]
//	θ := theta[i] − DecayRate·theta[i]
//	m[i] = B1·m[i] + C1·g
//	v[i] = B2·v[i] + C2·(g·g)
//	m̂ := m[i] / BC1
//	v̂ := v[i] / BC2
//	theta[i] = θ − (Rate·m̂)/(√v̂ + Eps)
//
// It panics if grad, m or v is shorter than theta.
func AdamStep[T Float](theta, grad, m, v []T, k *Adam[T]) {
	checkLen("AdamStep", len(theta), len(grad), len(m), len(v))
	if t, ok := any(theta).([]float32); ok {
		cur.adamStep(t, any(grad).([]float32), any(m).([]float32), any(v).([]float32), any(k).(*Adam[float32]))
		return
	}
	adamStepGeneric(theta, grad, m, v, k)
}

func adamStepGeneric[T Float](theta, grad, m, v []T, k *Adam[T]) {
	grad, m, v = grad[:len(theta)], m[:len(theta)], v[:len(theta)]
	for i, th := range theta {
		g := grad[i] + T(k.WD*th)
		th -= T(k.DecayRate * th)
		mi := T(k.B1*m[i]) + T(k.C1*g)
		vi := T(k.B2*v[i]) + T(k.C2*T(g*g))
		m[i], v[i] = mi, vi
		mhat := mi / k.BC1
		vhat := vi / k.BC2
		theta[i] = th - T(k.Rate*mhat)/(sqrt(vhat)+k.Eps)
	}
}

// RMSProp holds the coefficients of RMSPropStep: Alpha = α, C = 1−α,
// Mu = μ (momentum), Rate = γ, Eps = ε, WD = λ (L2 decay); Centered and
// Momentum select the variants (with Momentum false, Mu is unused).
type RMSProp[T Float] struct {
	Alpha, C, Mu, Rate, Eps, WD T
	Centered, Momentum          bool
}

// RMSPropStep is one RMSProp update, for i < len(theta):
//
//	g := grad[i] + WD·theta[i]
//	sq[i] = Alpha·sq[i] + C·(g·g)
//	ṽ := sq[i]
//	if Centered { avg[i] = Alpha·avg[i] + C·g; ṽ −= avg[i]·avg[i] }
//	if Momentum { buf[i] = Mu·buf[i] + g/(√ṽ + Eps); theta[i] −= Rate·buf[i] }
//	else        { theta[i] −= (Rate·g)/(√ṽ + Eps) }
//
// avg is used only when Centered, buf only with Momentum (either may be
// nil otherwise). It panics if a slice it uses is shorter than theta.
func RMSPropStep[T Float](theta, grad, sq, avg, buf []T, k *RMSProp[T]) {
	checkLen("RMSPropStep", len(theta), len(grad), len(sq))
	if k.Centered {
		checkLen("RMSPropStep", len(theta), len(avg))
	}
	if k.Momentum {
		checkLen("RMSPropStep", len(theta), len(buf))
	}
	if t, ok := any(theta).([]float32); ok {
		cur.rmspropStep(t, any(grad).([]float32), any(sq).([]float32), any(avg).([]float32), any(buf).([]float32), any(k).(*RMSProp[float32]))
		return
	}
	rmspropStepGeneric(theta, grad, sq, avg, buf, k)
}

func rmspropStepGeneric[T Float](theta, grad, sq, avg, buf []T, k *RMSProp[T]) {
	grad, sq = grad[:len(theta)], sq[:len(theta)]
	for i, th := range theta {
		g := grad[i] + T(k.WD*th)
		s := T(k.Alpha*sq[i]) + T(k.C*T(g*g))
		sq[i] = s
		if k.Centered {
			a := T(k.Alpha*avg[i]) + T(k.C*g)
			avg[i] = a
			s -= T(a * a)
		}
		d := sqrt(s) + k.Eps
		if k.Momentum {
			b := T(k.Mu*buf[i]) + g/d
			buf[i] = b
			theta[i] = th - T(k.Rate*b)
		} else {
			theta[i] = th - T(k.Rate*g)/d
		}
	}
}

// Adagrad holds the coefficients of AdagradStep: Rate = γ, Eps = ε,
// WD = λ (L2 decay).
type Adagrad[T Float] struct{ Rate, Eps, WD T }

// AdagradStep is one Adagrad update, for i < len(theta):
//
//	g := grad[i] + WD·theta[i]
//	sum[i] += g·g
//	theta[i] −= (Rate·g)/(√sum[i] + Eps)
//
// It panics if grad or sum is shorter than theta.
func AdagradStep[T Float](theta, grad, sum []T, k *Adagrad[T]) {
	checkLen("AdagradStep", len(theta), len(grad), len(sum))
	if t, ok := any(theta).([]float32); ok {
		cur.adagradStep(t, any(grad).([]float32), any(sum).([]float32), any(k).(*Adagrad[float32]))
		return
	}
	adagradStepGeneric(theta, grad, sum, k)
}

func adagradStepGeneric[T Float](theta, grad, sum []T, k *Adagrad[T]) {
	grad, sum = grad[:len(theta)], sum[:len(theta)]
	for i, th := range theta {
		g := grad[i] + T(k.WD*th)
		s := sum[i] + T(g*g)
		sum[i] = s
		theta[i] = th - T(k.Rate*g)/(sqrt(s)+k.Eps)
	}
}
