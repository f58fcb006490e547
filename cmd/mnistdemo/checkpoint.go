package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/checkpoint"
	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/internal/cli"
	"github.com/flowgrad/flowgrad/optim"
	"github.com/flowgrad/flowgrad/train"
)

// The -checkpoint and -resume flags.
//
// With -checkpoint FILE the run is saved to FILE after every epoch and when
// it is interrupted (Ctrl-C, SIGTERM), always at a step boundary; each save
// replaces FILE atomically. A diverged run is never saved, so FILE keeps the
// last good state. With -resume FILE the run continues from FILE exactly:
// same weights, optimizer state (momentum or moment buffers, a plateau
// scale), step (hence rate), position in the shuffled data, dropout
// generator and early-stopping state, so that stopping and resuming gives
// the bits of an uninterrupted run. The other training flags must be the ones FILE was
// made with; -epochs counts from the start of the first run.

// explodeFactor: a minibatch loss above explodeFactor·ln(classes), that
// many times the loss of a uniform guess, counts as divergence even when
// finite. Training from any sensible start stays within a few ln(classes);
// at a rate far above the stability bound the loss reaches 1e20 or more
// within a few steps, then often settles at a finite plateau of dead ReLUs
// that NaN detection alone never catches.
const explodeFactor = 100

// testHookStep, if set, is called after every completed step (tests use
// it to interrupt a run at an exact step, or to spoil the weights).
var testHookStep func(*checkpointer)

// maxModelBytes bounds the memory the model may take (see checkModelSize).
const maxModelBytes = 8 << 30

// checkData returns an error and exit status 1 if the test set does not fit
// the training set (another image size), and 2 if the model the flags ask
// for is too large (see checkModelSize).
func checkData(trainSet, testSet *data.Dataset, sizes []int, batch int) (int, error) {
	tr, tc := trainSet.ImageShape()
	er, ec := testSet.ImageShape()
	if trainSet.Features() != testSet.Features() {
		return 1, fmt.Errorf("data: the training images are %d×%d, the test images %d×%d: they must have the same size", tr, tc, er, ec)
	}
	if err := checkModelSize(sizes, batch); err != nil {
		return 2, err
	}
	return 0, nil
}

// checkModelSize returns an error if an MLP with these layer sizes trained
// at batch size batch would need more than maxModelBytes: parameters,
// gradients and momentum (three copies of the parameters) and about four
// batch×width activation buffers per layer. It turns an absurd -hidden into
// a message instead of an out-of-memory crash.
func checkModelSize(sizes []int, batch int) error {
	var params, width float64
	for i := 1; i < len(sizes); i++ {
		params += float64(sizes[i-1])*float64(sizes[i]) + float64(sizes[i])
		width += float64(sizes[i])
	}
	need := 4 * (3*params + 4*float64(max(batch, 1000))*width)
	if need > maxModelBytes {
		return fmt.Errorf("-hidden %s with -batch %d: the MLP %s has %.3g parameters and would need about %.0f GB; this demo allows %d GB",
			cli.JoinInts(sizes[1:len(sizes)-1], ","), batch, cli.JoinInts(sizes, "-"), params, need/1e9, maxModelBytes>>30)
	}
	return nil
}

// checkCheckpointPath checks, before any training, that a checkpoint can be
// written at path: its folder exists and accepts a new file, and path is
// not a folder.
func checkCheckpointPath(path string) error {
	if path == "" {
		return nil
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("-checkpoint %s: is a folder (want a file name)", path)
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("-checkpoint %s: folder %s does not exist", path, dir)
	case err != nil:
		return fmt.Errorf("-checkpoint %s: %v", path, err)
	case !fi.IsDir():
		return fmt.Errorf("-checkpoint %s: %s is not a folder", path, dir)
	}
	f, err := os.CreateTemp(dir, ".mnistdemo-probe-*")
	if err != nil {
		return fmt.Errorf("-checkpoint %s: cannot write in folder %s: %v", path, dir, err)
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// checkpointer saves and resumes one run.
type checkpointer struct {
	path    string // -checkpoint, "" for none
	params  []*autograd.Value[float32]
	opt     optim.Optimizer[float32]
	batches *data.Batcher
	extras  checkpoint.Extras[float32] // early stopping, dropout generator
	meta    map[string]string

	resumed string            // the -resume file, if any
	start   data.BatcherState // the position Run starts from
	saved   int               // epochs completed at the last save, 0 for none
}

// newCheckpointer returns the run's checkpointer and, with -resume, restores
// the checkpoint into params, opt and batches. Its errors come with an exit
// status: 1 for a file that cannot be read, 2 for a checkpoint that does
// not fit this run's flags.
func newCheckpointer(c *config, sizes []int, params []*autograd.Value[float32], opt optim.Optimizer[float32], batches *data.Batcher, reg *regularizer) (*checkpointer, int, error) {
	k := &checkpointer{
		path: c.checkpoint, params: params, opt: opt, batches: batches, extras: reg.extras(),
		meta: map[string]string{
			"program":        "mnistdemo",
			"model":          "MLP " + cli.JoinInts(sizes, "-"),
			"batch":          strconv.Itoa(c.batch),
			"optimizer":      opt.String(),
			"regularization": reg.describe(),
		},
	}
	if c.resume != "" {
		st, err := checkpoint.Load[float32](c.resume)
		if err != nil {
			return nil, 1, fmt.Errorf("-resume: %w", err)
		}
		if got, ok := st.Meta["model"]; ok && got != k.meta["model"] {
			err := st.Match(params) // names the first parameter that differs
			return nil, 2, fmt.Errorf("-resume %s: the checkpoint's model is %s, this run's is %s (give the same -hidden): %v",
				c.resume, got, k.meta["model"], err)
		}
		for _, f := range []struct{ key, flags string }{
			{"batch", "-batch"},
			{"optimizer", "-optimizer, -lr, -momentum, -momentum-form, -beta1, -beta2, -eps, -schedule and its parameters, -weight-decay, -plateau, -plateau-patience (and -epochs with -schedule cosine)"},
			{"regularization", "-dropout, -clip and -patience"},
		} {
			if got, ok := st.Meta[f.key]; ok && got != k.meta[f.key] {
				return nil, 2, fmt.Errorf("-resume %s: the checkpoint's %s is %s, this run's is %s: give the same %s to continue the run",
					c.resume, f.key, got, k.meta[f.key], f.flags)
			}
		}
		if err := st.RestoreWith(params, opt, batches, k.extras); err != nil {
			return nil, 2, fmt.Errorf("-resume %s: %w", c.resume, err)
		}
		if err := reg.finished(batches.State().Epoch); err != nil {
			return nil, 2, fmt.Errorf("-resume %s: %w", c.resume, err)
		}
		if done := batches.State().Epoch; done >= c.epochs {
			return nil, 2, fmt.Errorf("-resume %s: the checkpoint has completed %d epochs, and -epochs is %d: nothing to train (raise -epochs)", c.resume, done, c.epochs)
		}
		k.resumed = c.resume
	}
	k.start = batches.State()
	return k, 0, nil
}

// epochs returns the number of epochs Run is to train for a total of total:
// those that remain after the resumed position, the current one included.
func (k *checkpointer) epochs(total int) int { return total - k.start.Epoch }

// report prints where the run starts and where it saves.
func (k *checkpointer) report(w io.Writer) {
	if k.resumed != "" {
		fmt.Fprintf(w, "resumed from %s: epoch %d, %d of %d examples done, step %d, rate %g\n",
			k.resumed, k.start.Epoch+1, k.start.Offset, k.start.N, k.opt.StepCount(), k.opt.Rate())
	}
	if k.path != "" {
		fmt.Fprintf(w, "checkpoint: %s, after every epoch and on interrupt\n", k.path)
	}
}

// wrap returns the context and the config for train.Run. After every
// epoch (following cfg.OnEpoch, also when it ends the run with
// train.ErrStop) the config saves the checkpoint. (A diverged step ends Run
// before OnEpoch, so a diverged state is never saved.) The context is
// cancelled when ctx is (an interrupt), but at the first step boundary
// that is not an epoch's end: after an epoch's last step, only once its
// OnEpoch — evaluation, plateau, early stopping — has run, so the state
// saved on interrupt has seen every epoch it completed. (On the ranks other
// than 0, which call neither OnBatch nor OnEpoch, it is ctx's child.) Call
// cancel when Run returns.
func (k *checkpointer) wrap(ctx context.Context, cfg train.Config) (runCtx context.Context, _ train.Config, cancel context.CancelFunc) {
	if !isRoot() {
		runCtx, cancel = context.WithCancel(ctx)
		return runCtx, cfg, cancel
	}
	runCtx, cancel = context.WithCancel(context.Background())
	onBatch, onEpoch := cfg.OnBatch, cfg.OnEpoch
	cfg.OnBatch = func(loss float64, index, batches int) {
		if testHookStep != nil {
			testHookStep(k)
		}
		if onBatch != nil {
			onBatch(loss, index, batches)
		}
		if ctx.Err() != nil && index+1 < batches {
			cancel()
		}
	}
	cfg.OnEpoch = func(r train.EpochResult) error {
		defer func() {
			if ctx.Err() != nil {
				cancel()
			}
		}()
		var err error
		if onEpoch != nil {
			err = onEpoch(r)
		}
		if k.path == "" || err != nil && !errors.Is(err, train.ErrStop) {
			return err
		}
		if serr := k.save(); serr != nil {
			return serr
		}
		k.saved = r.Epoch
		return err
	}
	if ctx.Err() != nil {
		cancel() // interrupted before the first step
	}
	return runCtx, cfg, cancel
}

// save writes the run's current state.
func (k *checkpointer) save() error {
	st, err := checkpoint.CaptureWith(k.params, k.opt, k.batches, k.extras)
	if err != nil {
		return err
	}
	st.Meta = k.meta
	return checkpoint.Save(k.path, st)
}

// finish handles train.Run's error: on interruption it saves the state after
// the last completed step (train.Run leaves the Batcher there); on
// divergence it saves nothing and says which checkpoint was kept. It returns
// the error for the caller to report (context.Canceled for a saved
// interruption).
func (k *checkpointer) finish(err error, stdout io.Writer) error {
	switch {
	case err == nil || k.path == "":
		return err
	case errors.Is(err, train.ErrDiverged):
		kept := "was not written"
		if k.saved > 0 {
			kept = fmt.Sprintf("keeps epoch %d", k.saved)
		} else if k.resumed == k.path {
			kept = "keeps the state resumed from"
		}
		return fmt.Errorf("%w (checkpoint %s %s)", err, k.path, kept)
	case errors.Is(err, context.Canceled):
		if serr := k.save(); serr != nil {
			return fmt.Errorf("interrupted, and saving failed: %w", serr)
		}
		pos := k.batches.State()
		fmt.Fprintf(stdout, "\ninterrupted: saved %s at epoch %d, %d of %d examples, step %d; continue with -resume %s\n",
			k.path, pos.Epoch+1, pos.Offset, pos.N, k.opt.StepCount(), k.path)
	}
	return err
}
