package train

import (
	"errors"
	"fmt"
	"math"

	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/optim"
)

// RangeTestConfig controls RangeTest. The zero value of each field means
// its default.
type RangeTestConfig struct {
	// Lo and Hi are the first and last rates; defaults 1e-4 and 10.
	Lo, Hi float64
	// Steps is the number of minibatches (and rates) from Lo to Hi;
	// default 100.
	Steps int
	// Smoothing is β of the exponential moving average of the loss,
	// s_k = (β·a_{k−1} + (1−β)·L_k) / (1 − β^{k+1}) (bias-corrected);
	// default 0.9. Use 0 < β < 1.
	Smoothing float64
	// StopFactor ends the test early once the smoothed loss exceeds
	// StopFactor times its minimum so far (after the first tenth of the
	// steps): the loss has blown up and larger rates add nothing. Default 4.
	StopFactor float64
	// Options configure the test's optimizer (momentum form, momentum,
	// weight decay), as for optim.NewSGD. Use the options of the training
	// run the rate is for: the stable range depends on the momentum form.
	Options []optim.Option
	// From, if not nil, is the optimizer of an ongoing run: the test's
	// optimizer starts from its momentum buffers (From.State), so the test
	// measures from where that run stands. From itself is not stepped; its
	// state is the same afterwards. Its form must match Options' form.
	From *optim.SGD[float32]
}

// RangePoint is one step of the range test: the rate of the step, the
// minibatch loss at the parameters before it, and the smoothed loss.
type RangePoint struct {
	Rate, Loss, Smoothed float64
}

// RangeResult is the curve a range test measured and the rates it reads
// off it.
type RangeResult struct {
	Points []RangePoint
	// MinRate is the rate at which the smoothed loss was smallest.
	MinRate float64
	// SteepestRate is the rate at which the smoothed loss fell fastest per
	// unit of log rate, before MinRate (central differences over ±Steps/20
	// points, which tames the noise of single minibatches).
	SteepestRate float64
	// Suggested is MinRate/10, the rate RangeTest recommends (see there).
	Suggested float64
	// Stop says why the test ended: "reached Hi", "loss above 4× its
	// minimum" or "loss diverged (NaN/Inf)".
	Stop string
}

// RangeTest is the learning-rate range test: it trains model (with loss) on
// minibatches from next for cfg.Steps steps with a rate that grows
// exponentially from Lo to Hi, ε_k = Lo·(Hi/Lo)^{k/(Steps−1)}, records the
// loss of every minibatch and its smoothed value, and stops early when the
// smoothed loss blows up. Then it restores model's parameters bit for bit
// (their Grad matrices hold the last step's gradient).
//
// The curve falls while the rate is too small to matter, falls fastest at
// rates that train well, bottoms out near the edge of stability and rises
// beyond it. The suggestion rule is: one tenth of the rate at the minimum
// of the smoothed loss — the minimum sits just below the rate at which
// training blows up, and a tenth of it lies on the steep, falling part of
// the curve, inside the stable region with room for the curvature to grow
// as training proceeds. SteepestRate is reported too; it is noisier.
//
// next returns the next minibatch; a data.Batcher's Next fits, as does a
// data.Stream (return its Next and true). The batches are drawn from next
// and not given back: use a Batcher of its own, or restore its State.
//
// It returns an error if the configuration is invalid, next runs out
// before the second step, or the first loss is already NaN or infinite.
func RangeTest(model Model[float32], loss Loss[float32], next func() (data.Batch, bool), cfg RangeTestConfig) (RangeResult, error) {
	c := cfg
	if c.Lo == 0 {
		c.Lo = 1e-4
	}
	if c.Hi == 0 {
		c.Hi = 10
	}
	if c.Steps == 0 {
		c.Steps = 100
	}
	if c.Smoothing == 0 {
		c.Smoothing = 0.9
	}
	if c.StopFactor == 0 {
		c.StopFactor = 4
	}
	switch {
	case !(c.Lo > 0 && c.Hi > c.Lo) || math.IsInf(c.Hi, 1):
		return RangeResult{}, fmt.Errorf("train: RangeTest: rates %g to %g (want 0 < Lo < Hi, finite)", c.Lo, c.Hi)
	case c.Steps < 2:
		return RangeResult{}, fmt.Errorf("train: RangeTest: %d steps (want at least 2)", c.Steps)
	case !(c.Smoothing > 0 && c.Smoothing < 1):
		return RangeResult{}, fmt.Errorf("train: RangeTest: smoothing %g outside (0, 1)", c.Smoothing)
	case !(c.StopFactor > 1):
		return RangeResult{}, fmt.Errorf("train: RangeTest: stop factor %g (want > 1)", c.StopFactor)
	}

	params := model.Params()
	saved := make([][]float32, len(params))
	for i, p := range params {
		saved[i] = append([]float32(nil), p.Data().Data()...)
	}
	defer func() {
		for i, p := range params {
			copy(p.Data().Data(), saved[i])
		}
	}()

	sched := rangeSchedule{lo: c.Lo, hi: c.Hi, steps: c.Steps}
	opt, err := optim.NewSGD(params, sched, c.Options...)
	if err != nil {
		return RangeResult{}, fmt.Errorf("train: RangeTest: %w", err)
	}
	if c.From != nil {
		st := c.From.State()
		st.Step = 0 // the test's own schedule starts at Lo
		if err := opt.SetState(st); err != nil {
			return RangeResult{}, fmt.Errorf("train: RangeTest: starting from the given optimizer: %w", err)
		}
	}

	tr := NewTrainer(model, opt, loss)
	res := RangeResult{Stop: "reached Hi"}
	var avg float64
	best, bestAt := math.Inf(1), -1
	warm := max(1, c.Steps/10)
	for k := range c.Steps {
		b, ok := next()
		if !ok {
			if k < 2 {
				return res, fmt.Errorf("train: RangeTest: the batches ran out after %d steps", k)
			}
			res.Stop = "batches ran out"
			break
		}
		rate := sched.Rate(k)
		loss, err := tr.Step(b)
		if err != nil {
			if !errors.Is(err, ErrDiverged) {
				return res, err
			}
			if k == 0 {
				return res, fmt.Errorf("train: RangeTest: the loss is %v before any step", loss)
			}
			res.Stop = "loss diverged (NaN/Inf)"
			break
		}
		avg = c.Smoothing*avg + (1-c.Smoothing)*loss
		s := avg / (1 - math.Pow(c.Smoothing, float64(k+1)))
		res.Points = append(res.Points, RangePoint{Rate: rate, Loss: loss, Smoothed: s})
		if s < best {
			best, bestAt = s, len(res.Points)-1
		}
		if k >= warm && s > c.StopFactor*best {
			res.Stop = fmt.Sprintf("loss above %g× its minimum", c.StopFactor)
			break
		}
	}
	if bestAt < 0 {
		return res, errors.New("train: RangeTest: no finite loss recorded")
	}
	res.MinRate = res.Points[bestAt].Rate
	res.Suggested = res.MinRate / 10
	res.SteepestRate = res.Points[0].Rate
	steepest := math.Inf(1)
	w := max(1, c.Steps/20) // half-width of the difference: smooths the noise
	for i := w; i < bestAt && i+w < len(res.Points); i++ {
		p, q := res.Points[i-w], res.Points[i+w]
		slope := (q.Smoothed - p.Smoothed) / math.Log(q.Rate/p.Rate)
		if slope < steepest {
			steepest, res.SteepestRate = slope, res.Points[i].Rate
		}
	}
	return res, nil
}

// rangeSchedule is ε_k = lo·(hi/lo)^{k/(steps−1)}: exponential growth from
// lo at k = 0 to hi at k = steps − 1 (and on beyond).
type rangeSchedule struct {
	lo, hi float64
	steps  int
}

func (s rangeSchedule) Rate(k int) float64 {
	return s.lo * math.Pow(s.hi/s.lo, float64(k)/float64(s.steps-1))
}

func (s rangeSchedule) String() string {
	return fmt.Sprintf("RangeTest(%g→%g over %d steps)", s.lo, s.hi, s.steps)
}
