package checkpoint

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/optim"
	"github.com/flowgrad/flowgrad/tensor"
	"github.com/flowgrad/flowgrad/train"
)

// regRun is a run with every regularisation and control of the demo:
// dropout after the hidden layer (masks from its own PCG), global-norm
// clipping, reduce-on-plateau and early stopping on the held-out loss.
type regRun struct {
	model   *layers.Sequential[float32]
	opt     optim.Optimizer[float32]
	batches *data.Batcher
	tr      *train.Trainer[float32]
	plateau *optim.Plateau
	early   *train.EarlyStopping[float32]
	pcg     *rand.PCG
	stopped int // the epoch early stopping ended the run after, 0 for none
}

func newRegRun(t testing.TB, ds *data.Dataset, seed uint64) *regRun {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 3))
	r := &regRun{pcg: rand.NewPCG(seed, 4)}
	fc1 := layers.NewLinear[float32](rng, "fc1", ds.Features(), 16, layers.He)
	fc1.ReLU = true
	r.model = layers.NewSequential(fc1, layers.NewDropout[float32](rand.New(r.pcg), 0.3),
		layers.NewLinear[float32](rng, "fc2", 16, ds.Classes(), layers.He))
	var err error
	if r.plateau, err = optim.NewPlateau(optim.Must(optim.Constant(0.05)), optim.PlateauConfig{Factor: 0.5}); err != nil {
		t.Fatal(err)
	}
	r.opt = newOptimizer(t, "adam", r.model.Params(), r.plateau)
	if r.batches, err = data.NewBatcher(ds, 10, rng); err != nil {
		t.Fatal(err)
	}
	r.tr = train.NewTrainer(r.model, r.opt, train.CrossEntropy)
	params := r.model.Params()
	r.tr.BeforeUpdate = append(r.tr.BeforeUpdate, func() error { optim.ClipGlobalNorm(params, 0.5); return nil })
	if r.early, err = train.NewEarlyStopping(params, 3, 0, train.MonitorLoss); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *regRun) extras() Extras[float32] {
	return Extras[float32]{Early: r.early, RNG: map[string]Generator{"dropout": r.pcg}}
}

// epochs trains up to n epochs, observing the held-out loss after each.
func (r *regRun) epochs(t testing.TB, eval *train.Evaluator[float32], n int) {
	t.Helper()
	_, err := train.Run(context.Background(), r.tr, r.batches, eval, train.Config{Epochs: n, OnEpoch: func(res train.EpochResult) error {
		r.plateau.Observe(res.Eval.Loss)
		err := r.early.Observe(res)
		if errors.Is(err, train.ErrStop) {
			r.stopped = res.Epoch
		}
		return err
	}})
	if err != nil {
		t.Fatal(err)
	}
}

// A run with dropout, clipping, reduce-on-plateau and early stopping,
// saved to a file after k epochs and continued in a fresh run (other
// seeds) from the file, ends with the parameters, optimizer state,
// plateau state, early-stopping state and dropout generator of the
// uninterrupted run, having stopped after the same epoch.
func TestExactResumeEarlyStoppingPlateauDropout(t *testing.T) {
	ds := synthetic(t, 5, 103, 30, 5)
	held, err := train.NewEvaluator(synthetic(t, 6, 40, 30, 5), 100, train.CrossEntropy[float32])
	if err != nil {
		t.Fatal(err)
	}
	const maxEpochs = 40
	ref := newRegRun(t, ds, 1)
	ref.epochs(t, held, maxEpochs)
	if ref.stopped == 0 || ref.stopped == maxEpochs || ref.plateau.State().Scale == 1 {
		t.Fatalf("the reference run stopped after epoch %d with plateau scale %v: the test needs an early stop and a rate cut",
			ref.stopped, ref.plateau.State().Scale)
	}
	best, bestEpoch := ref.early.BestMetric()
	t.Logf("reference: stopped after epoch %d, best held-out loss %.4f at epoch %d, plateau %+v", ref.stopped, best, bestEpoch, ref.plateau.State())
	for _, k := range []int{1, 2, bestEpoch, ref.stopped - 1} {
		a := newRegRun(t, ds, 1)
		a.epochs(t, held, k)
		st, err := CaptureWith(a.model.Params(), a.opt, a.batches, a.extras())
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "run.ckpt")
		if err := Save(path, st); err != nil {
			t.Fatal(err)
		}
		read, err := Load[float32](path)
		if err != nil {
			t.Fatal(err)
		}
		b := newRegRun(t, ds, 77)
		if err := read.RestoreWith(b.model.Params(), b.opt, b.batches, b.extras()); err != nil {
			t.Fatal(err)
		}
		b.epochs(t, held, maxEpochs-k)
		what := "resumed after epoch " + itoa(k)
		if b.stopped != ref.stopped {
			t.Fatalf("%s: stopped after epoch %d, the uninterrupted run after %d", what, b.stopped, ref.stopped)
		}
		sameBits(t, what, &run{ref.model, ref.opt, ref.batches, ref.tr}, &run{b.model, b.opt, b.batches, b.tr})
		if b.early.State() != ref.early.State() || *b.pcg != *ref.pcg {
			t.Fatalf("%s: early stopping %+v, generator %v; want %+v, %v", what, b.early.State(), *b.pcg, ref.early.State(), *ref.pcg)
		}
	}
}

// trainedWithExtras returns a run after 2 epochs with early stopping and
// dropout, and its checkpoint bytes.
func trainedWithExtras(t testing.TB) (*regRun, []byte) {
	t.Helper()
	ds := synthetic(t, 5, 53, 30, 5)
	held, err := train.NewEvaluator(synthetic(t, 6, 20, 30, 5), 100, train.CrossEntropy[float32])
	if err != nil {
		t.Fatal(err)
	}
	r := newRegRun(t, ds, 1)
	r.epochs(t, held, 2)
	r.tr.Step(r.batches.Take()) // mid-epoch
	st, err := CaptureWith(r.model.Params(), r.opt, r.batches, r.extras())
	if err != nil {
		t.Fatal(err)
	}
	st.Meta = map[string]string{"k": "v"}
	var buf bytes.Buffer
	if err := Write(&buf, st); err != nil {
		t.Fatal(err)
	}
	return r, buf.Bytes()
}

// withExtras is a version 3 checkpoint with early stopping and a
// generator (a seed of FuzzRead).
func withExtras(t testing.TB) []byte {
	_, file := trainedWithExtras(t)
	return file
}

// downgrade turns a version 3 checkpoint without extras into the version 2
// file of the same state.
func downgrade(file []byte) []byte {
	f := bytes.Clone(file[:len(file)-5])
	binary.LittleEndian.PutUint32(f[8:], 2)
	binary.LittleEndian.PutUint64(f[12:], uint64(len(f)-headerSize))
	return resum(f)
}

func TestExtrasRoundTrip(t *testing.T) {
	r, file := trainedWithExtras(t)
	st, err := Read[float32](bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if st.Early == nil || st.Early.State != r.early.State() || st.Early.State.BestEpoch == 0 {
		t.Fatalf("early stopping read back as %+v, want %+v", st.Early, r.early.State())
	}
	for name, w := range r.early.Best() {
		if !slices.Equal(st.Early.Weights[name].Data(), w.Data()) {
			t.Fatalf("best weights of %s differ", name)
		}
	}
	pcg, _ := r.pcg.MarshalBinary()
	if !reflect.DeepEqual(st.RNG, map[string][]byte{"dropout": pcg}) {
		t.Fatalf("generators read back as %q, want dropout: %q", st.RNG, pcg)
	}
	var again bytes.Buffer
	if err := Write(&again, st); err != nil || !bytes.Equal(again.Bytes(), file) {
		t.Fatalf("rewrite differs (err %v)", err)
	}
	// Every truncation is corrupt, every bit flip caught.
	for n := 0; n < len(file); n++ {
		if _, err := Read[float32](bytes.NewReader(file[:n])); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d bytes: %v", n, err)
		}
	}
}

// Version 2 files (no extras) still read, and resume a run without extras.
func TestReadsVersion2(t *testing.T) {
	r, file := trained(t, optim.HeavyBall)
	v2 := downgrade(file)
	if binary.LittleEndian.Uint32(file[8:]) != 3 || file[len(file)-5] != 0 {
		t.Fatal("the test expects a version 3 file ending in empty extras")
	}
	st, err := Read[float32](bytes.NewReader(v2))
	if err != nil {
		t.Fatal(err)
	}
	if st.Early != nil || st.RNG != nil {
		t.Fatalf("a version 2 file read with extras: %+v, %q", st.Early, st.RNG)
	}
	fresh := newRun(t, r.batches.Dataset(), 10, 99, optim.Must(optim.InverseTime(0.1, 20)), optim.HeavyBall, 20, 8, 4)
	if err := st.Restore(fresh.model.Params(), fresh.opt, fresh.batches); err != nil {
		t.Fatal(err)
	}
	sameBits(t, "version 2", r, fresh)
}

// snapshot is everything RestoreWith may change, for the all-or-nothing
// checks.
func snapshot(r *regRun) string {
	var b bytes.Buffer
	st, _ := CaptureWith(r.model.Params(), r.opt, r.batches, r.extras())
	Write(&b, st)
	return b.String()
}

// RestoreWith refuses a checkpoint whose extras do not fit the run and
// changes nothing then.
func TestRestoreExtrasMismatch(t *testing.T) {
	_, file := trainedWithExtras(t)
	ds := synthetic(t, 5, 53, 30, 5)
	read := func() State[float32] {
		st, err := Read[float32](bytes.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	for _, c := range []struct {
		name   string
		spoil  func(*State[float32])
		extras func(*regRun) Extras[float32]
		want   string
	}{
		{"no early stopping in the run", nil, func(r *regRun) Extras[float32] { x := r.extras(); x.Early = nil; return x },
			"the checkpoint has early-stopping state, the run has no early stopping"},
		{"no early stopping in the checkpoint", func(st *State[float32]) { st.Early = nil }, (*regRun).extras,
			"the run stops early, the checkpoint has no early-stopping state"},
		{"no generator in the run", nil, func(r *regRun) Extras[float32] { x := r.extras(); x.RNG = nil; return x },
			`the checkpoint has the state of generator "dropout", the run has no such generator`},
		{"another generator in the run", nil, func(r *regRun) Extras[float32] {
			x := r.extras()
			x.RNG["noise"] = rand.NewPCG(1, 1)
			return x
		}, `the run's generator "noise" has no state in the checkpoint`},
		{"plain Restore", nil, nil, "the checkpoint has early-stopping state, the run has no early stopping"},
		// The failures below happen after the optimizer and the position
		// are set: they must be rolled back.
		{"bad generator state", func(st *State[float32]) { st.RNG["dropout"] = []byte("pcg:short") }, (*regRun).extras,
			`generator "dropout": `},
		{"best weights of another model", func(st *State[float32]) {
			st.Early.Weights = map[string]*tensor.Dense[float32]{"other": tensor.FromSlice(1, 1, []float32{1})}
		}, (*regRun).extras, `no best weights of shape`},
	} {
		st := read()
		if c.spoil != nil {
			c.spoil(&st)
		}
		r := newRegRun(t, ds, 9)
		before := snapshot(r)
		var err error
		if c.extras == nil {
			err = st.Restore(r.model.Params(), r.opt, r.batches)
		} else {
			err = st.RestoreWith(r.model.Params(), r.opt, r.batches, c.extras(r))
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "checkpoint: ") {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
		if snapshot(r) != before {
			t.Errorf("%s: the run changed", c.name)
		}
	}
}

func TestWriteRefusesExtras(t *testing.T) {
	w := tensor.FromSlice(1, 2, []float32{1, 2})
	params := []Param[float32]{{"w", w}}
	plain := optim.State[float32]{Kind: "sgd/none"}
	early := func(st train.EarlyState, weights map[string]*tensor.Dense[float32]) State[float32] {
		return State[float32]{Params: params, Optim: plain, Early: &Early[float32]{State: st, Weights: weights}}
	}
	for _, c := range []struct {
		name string
		st   State[float32]
		want string
	}{
		{"negative epoch", early(train.EarlyState{BestEpoch: -1}, nil), "early stopping at best epoch -1"},
		{"negative count", early(train.EarlyState{Bad: -2}, nil), "2 epochs since"},
		{"weights before the first epoch", early(train.EarlyState{}, map[string]*tensor.Dense[float32]{"w": w}), "best weights but no best epoch"},
		{"no weights", early(train.EarlyState{BestEpoch: 1}, nil), "best weights for 0 parameters, the checkpoint has 1"},
		{"other shape", early(train.EarlyState{BestEpoch: 1}, map[string]*tensor.Dense[float32]{"w": tensor.FromSlice(2, 1, []float32{1, 2})}), `no best weights of shape 1×2 for parameter "w"`},
		{"NaN weights", early(train.EarlyState{BestEpoch: 1}, map[string]*tensor.Dense[float32]{"w": tensor.FromSlice(1, 2, []float32{1, float32(math.NaN())})}), "refusing to save a diverged state"},
		{"unnamed generator", State[float32]{Params: params, Optim: plain, RNG: map[string][]byte{"": nil}}, "generator name"},
	} {
		var buf bytes.Buffer
		err := Write(&buf, c.st)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: wrote %d bytes", c.name, buf.Len())
		}
	}
}
