package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowgrad/flowgrad/checkpoint"
)

// small is the flags of a quick run on fakeMNIST(t, 230, 40): B = 20 gives
// 12 batches per epoch, the last of 10 examples.
var small = []string{"-hidden", "16", "-batch", "20", "-target", "0", "-progress", "off", "-lr", "0.1", "-schedule", "constant"}

func args(dir string, extra ...string) []string {
	return append(append([]string{"-data", dir}, small...), extra...)
}

// interruptAt runs the demo and cancels it after step k, as Ctrl-C would.
func interruptAt(t *testing.T, k int, a ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	testHookStep = func(ck *checkpointer) {
		if ck.opt.StepCount() == k {
			cancel()
		}
	}
	defer func() { testHookStep = nil }()
	var out, errb bytes.Buffer
	code = run(ctx, a, &out, &errb)
	return code, out.String(), errb.String()
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// noPanic fails if stderr shows a panic or a stack trace or more than one
// line.
func noPanic(t *testing.T, what, stderr string) {
	t.Helper()
	if strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "panic") || strings.Count(stderr, "\n") > 1 {
		t.Errorf("%s: stderr %q; want one line, no panic", what, stderr)
	}
}

// Interrupting a run (mid-epoch, at an epoch's end, in its first step) and
// resuming it gives a final checkpoint byte for byte equal to the one of an
// uninterrupted run, for momentum forms and schedules that carry state and
// for every adaptive optimizer (their moment buffers).
func TestInterruptResumeIsExact(t *testing.T) {
	dir := fakeMNIST(t, 230, 40)
	for _, opts := range [][]string{
		{"-momentum-form", "nesterov", "-schedule", "cosine"},
		{"-momentum-form", "ema", "-schedule", "invtime", "-tau", "10", "-weight-decay", "1e-3"},
		{"-optimizer", "adam", "-lr", "0.003", "-schedule", "cosine"},
		{"-optimizer", "adamw", "-lr", "0.003", "-beta1", "0.8"},
		{"-optimizer", "rmsprop", "-lr", "0.003", "-momentum", "0.5"},
		{"-optimizer", "adagrad", "-lr", "0.03", "-weight-decay", "1e-3"},
	} {
		out := t.TempDir()
		ref := filepath.Join(out, "ref.ckpt")
		code, _, stderr := runDemo(t, args(dir, append(opts, "-epochs", "3", "-checkpoint", ref)...)...)
		if code != 0 {
			t.Fatalf("%v: uninterrupted run: exit %d, %s", opts, code, stderr)
		}
		want := readFile(t, ref)
		for _, k := range []int{5, 12, 13, 30, 1} {
			ck := filepath.Join(out, "run.ckpt")
			a := args(dir, append(opts, "-epochs", "3", "-checkpoint", ck)...)
			code, stdout, stderr := interruptAt(t, k, a...)
			if code != 1 || stderr != "mnistdemo: interrupted\n" || !strings.Contains(stdout, "interrupted: saved "+ck) {
				t.Fatalf("%v: interrupted at %d: exit %d, stdout %q, stderr %q", opts, k, code, stdout, stderr)
			}
			code, stdout, stderr = runDemo(t, append(a, "-resume", ck)...)
			if code != 0 || !strings.Contains(stdout, "resumed from "+ck) {
				t.Fatalf("%v: resumed after %d: exit %d, stdout %q, stderr %q", opts, k, code, stdout, stderr)
			}
			if !bytes.Equal(readFile(t, ck), want) {
				t.Errorf("%v: interrupted after step %d and resumed: the final checkpoint differs from the uninterrupted run's", opts, k)
			}
			os.Remove(ck)
		}
	}
}

// The same with dropout, clipping, reduce-on-plateau and early stopping
// on: the dropout generator, the plateau's scale and the early stopping's
// best epoch, weights and count travel in the checkpoint. The run stops
// early (after epoch 5; best epoch 3) and cuts the rate twice; it is
// interrupted before, at and after the best epoch, and a resumed run
// stops after the same epoch, with the same final checkpoint.
func TestInterruptResumeRegularization(t *testing.T) {
	dir := fakeMNIST(t, 230, 40)
	out := t.TempDir()
	ref := filepath.Join(out, "ref.ckpt")
	reg := []string{"-epochs", "8", "-dropout", "0.3", "-clip", "1", "-plateau", "0.5", "-plateau-patience", "0", "-patience", "2"}
	code, stdout, stderr := runDemo(t, args(dir, append(reg, "-checkpoint", ref)...)...)
	const stop = "early stopping: no better test loss for 2 epochs: restored the weights of epoch 3"
	if code != 0 || !strings.Contains(stdout, stop) || strings.Count(stdout, "plateau: no better test loss: rate ×0.5") != 2 ||
		!strings.Contains(stdout, "\n    5 ") || strings.Contains(stdout, "\n    6 ") {
		t.Fatalf("uninterrupted run: exit %d, stdout %q, stderr %q; want an early stop after epoch 5 and two rate cuts", code, stdout, stderr)
	}
	want := readFile(t, ref)
	st, err := checkpoint.Load[float32](ref)
	if err != nil || st.Early == nil || st.Early.State.BestEpoch != 3 || st.Early.State.Bad != 2 || len(st.RNG["dropout"]) == 0 ||
		st.Optim.Plateau == nil || st.Optim.Plateau.Scale != 0.25 || st.Batcher.Epoch != 5 {
		t.Fatalf("final checkpoint: %v; early %+v, generators %q, plateau %+v, position %+v", err, st.Early, st.RNG, st.Optim.Plateau, st.Batcher)
	}
	if fresh, _ := rand.NewPCG(1, dropoutStream).MarshalBinary(); bytes.Equal(st.RNG["dropout"], fresh) {
		t.Fatal("the dropout generator was never used")
	}
	for _, k := range []int{1, 12, 17, 36, 37, 50} {
		ck := filepath.Join(out, "run.ckpt")
		a := args(dir, append(reg, "-checkpoint", ck)...)
		code, stdout, stderr := interruptAt(t, k, a...)
		if code != 1 || stderr != "mnistdemo: interrupted\n" || !strings.Contains(stdout, "interrupted: saved "+ck) {
			t.Fatalf("interrupted at %d: exit %d, stdout %q, stderr %q", k, code, stdout, stderr)
		}
		code, stdout, stderr = runDemo(t, append(a, "-resume", ck)...)
		if code != 0 || !strings.Contains(stdout, "resumed from "+ck) || !strings.Contains(stdout, stop) || strings.Contains(stdout, "\n    6 ") {
			t.Fatalf("resumed after %d: exit %d, stdout %q, stderr %q", k, code, stdout, stderr)
		}
		if !bytes.Equal(readFile(t, ck), want) {
			t.Errorf("interrupted after step %d and resumed: the final checkpoint differs from the uninterrupted run's", k)
		}
	}
	// The stopped run has nothing left to do; other regularisation flags
	// do not fit it.
	for _, c := range []struct {
		flags []string
		want  string
	}{
		{nil, "the run stopped early after epoch 5 (the best was epoch 3): nothing to train"},
		{[]string{"-dropout", "0.2"}, "the checkpoint's regularization is dropout 0.3, clip 1, patience 2, this run's is dropout 0.2, clip 1, patience 2: give the same -dropout, -clip and -patience"},
		{[]string{"-plateau", "0.1"}, "factor=0.1"},
	} {
		code, _, stderr := runDemo(t, args(dir, append(append(reg, "-resume", ref), c.flags...)...)...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("resume %v: exit %d, stderr %q; want exit 2 and %q", c.flags, code, stderr, c.want)
		}
		noPanic(t, fmt.Sprint(c.flags), stderr)
	}
}

// Stopping after whole epochs (-epochs 1, then -epochs 3 with -resume)
// equals running 3 epochs.
func TestResumeAfterEpochs(t *testing.T) {
	dir := fakeMNIST(t, 230, 40)
	out := t.TempDir()
	ref, ck := filepath.Join(out, "ref.ckpt"), filepath.Join(out, "run.ckpt")
	if code, _, stderr := runDemo(t, args(dir, "-epochs", "3", "-checkpoint", ref)...); code != 0 {
		t.Fatal(stderr)
	}
	if code, _, stderr := runDemo(t, args(dir, "-epochs", "1", "-checkpoint", ck)...); code != 0 {
		t.Fatal(stderr)
	}
	code, stdout, stderr := runDemo(t, args(dir, "-epochs", "3", "-checkpoint", ck, "-resume", ck)...)
	if code != 0 || !strings.Contains(stdout, "resumed from "+ck+": epoch 2, 0 of 230 examples done, step 12") ||
		!strings.Contains(stdout, "\n    2 ") || !strings.Contains(stdout, "\n    3 ") || strings.Contains(stdout, "\n    1 ") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if !bytes.Equal(readFile(t, ck), readFile(t, ref)) {
		t.Fatal("1 epoch + resume for 2 more differs from 3 epochs")
	}
	// Nothing left to do.
	code, _, stderr = runDemo(t, args(dir, "-epochs", "3", "-resume", ck)...)
	if code != 2 || !strings.Contains(stderr, "the checkpoint has completed 3 epochs, and -epochs is 3: nothing to train (raise -epochs)") {
		t.Fatalf("finished run: exit %d, stderr %q", code, stderr)
	}
}

// A diverging run stops with a message suggesting a lower rate and leaves
// the previous checkpoint untouched.
func TestDivergenceKeepsCheckpoint(t *testing.T) {
	dir := fakeMNIST(t, 230, 40)
	ck := filepath.Join(t.TempDir(), "run.ckpt")
	if code, _, stderr := runDemo(t, args(dir, "-epochs", "1", "-checkpoint", ck)...); code != 0 {
		t.Fatal(stderr)
	}
	good := readFile(t, ck)
	for _, lr := range []string{"100", "1e30"} {
		code, _, stderr := runDemo(t, args(dir, "-epochs", "2", "-checkpoint", ck, "-lr", lr)...)
		if code != 1 || !strings.Contains(stderr, "loss diverged") || !strings.Contains(stderr, "lower it") ||
			!strings.Contains(stderr, "at learning rate "+strings.Replace(lr, "e", "e+", 1)) || !strings.Contains(stderr, "checkpoint "+ck+" was not written") {
			t.Errorf("-lr %s: exit %d, stderr %q", lr, code, stderr)
		}
		noPanic(t, "-lr "+lr, stderr)
		if !bytes.Equal(readFile(t, ck), good) {
			t.Fatalf("-lr %s: the good checkpoint was overwritten", lr)
		}
	}
	// Diverging after a saved epoch keeps that epoch.
	// Diverging after a saved epoch keeps that epoch: weights spoilt at
	// step 15 make the loss explode at step 16.
	testHookStep = func(k *checkpointer) {
		if k.opt.StepCount() == 15 {
			k.params[0].Data().Fill(1e15)
		}
	}
	defer func() { testHookStep = nil }()
	code, _, stderr := runDemo(t, args(dir, "-epochs", "3", "-checkpoint", ck)...)
	if code != 1 || !strings.Contains(stderr, "train: step 16: loss ") || !strings.Contains(stderr, "is above the limit 230.3") ||
		!strings.Contains(stderr, "checkpoint "+ck+" keeps epoch 1") {
		t.Errorf("divergence in epoch 2: exit %d, stderr %q", code, stderr)
	}
	st, err := checkpoint.Load[float32](ck)
	if err != nil || st.Batcher.Epoch != 1 || st.Optim.Step != 12 {
		t.Errorf("the checkpoint after divergence in epoch 2: %+v, step %d, %v", st.Batcher, st.Optim.Step, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(ck))
	if len(entries) != 1 {
		t.Errorf("%d files beside the checkpoint", len(entries)-1)
	}
}

// -resume with flags that do not fit the checkpoint, or a bad checkpoint
// file: a clear error, no panic, nothing written.
func TestResumeErrors(t *testing.T) {
	dir := fakeMNIST(t, 230, 40)
	out := t.TempDir()
	ck := filepath.Join(out, "run.ckpt")
	if code, _, stderr := runDemo(t, args(dir, "-epochs", "1", "-checkpoint", ck)...); code != 0 {
		t.Fatal(stderr)
	}
	good := readFile(t, ck)
	write := func(name string, b []byte) string {
		p := filepath.Join(out, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 1
	version := bytes.Clone(good)
	binary.LittleEndian.PutUint32(version[8:], 9)

	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"other -hidden", []string{"-resume", ck, "-hidden", "32"}, 2,
			`the checkpoint's model is MLP 784-16-10, this run's is MLP 784-32-10 (give the same -hidden): checkpoint: the model does not match: parameter "fc1.W" is 784×16 in the checkpoint but 784×32 in the model (and 2 more differences)`},
		{"deeper -hidden", []string{"-resume", ck, "-hidden", "16,16"}, 2, `this run's is MLP 784-16-16-10 (give the same -hidden): checkpoint: the model does not match: parameter "fc2.W" is 16×10 in the checkpoint but 16×16 in the model`},
		{"other -lr", []string{"-resume", ck, "-lr", "0.2"}, 2,
			"the checkpoint's optimizer is SGD(rate=Constant(0.1), momentum=heavyball 0.9, weight decay=0), this run's is SGD(rate=Constant(0.2), "},
		{"other -momentum-form", []string{"-resume", ck, "-momentum-form", "ema"}, 2, "momentum=ema 0.9"},
		{"other -optimizer", []string{"-resume", ck, "-optimizer", "adam"}, 2, "this run's is Adam(rate="},
		{"other -batch", []string{"-resume", ck, "-batch", "10"}, 2, "the checkpoint's batch is 20, this run's is 10: give the same -batch"},
		{"other data", []string{"-resume", ck, "-data", fakeMNIST(t, 100, 40)}, 2, "the state is for a dataset of 230 examples, this one has 100"},
		{"missing", []string{"-resume", filepath.Join(out, "nothing.ckpt")}, 1, "-resume: checkpoint: open " + filepath.Join(out, "nothing.ckpt") + ": no such file or directory"},
		{"empty", []string{"-resume", write("empty.ckpt", nil)}, 1, "empty.ckpt: corrupt checkpoint: empty input"},
		{"truncated", []string{"-resume", write("short.ckpt", good[:len(good)-7])}, 1, "short.ckpt: corrupt checkpoint: truncated: the header announces a payload of"},
		{"bit flip", []string{"-resume", write("flip.ckpt", flipped)}, 1, "flip.ckpt: corrupt checkpoint: checksum mismatch"},
		{"version", []string{"-resume", write("v9.ckpt", version)}, 1, "v9.ckpt: format version 9 is not supported (this flowgrad reads versions 1 to 3)"},
		{"IDX file", []string{"-resume", filepath.Join(dir, "train-labels-idx1-ubyte.gz")}, 1, `not a flowgrad checkpoint (it starts with "\x1f\x8b`},
		{"folder", []string{"-resume", out}, 1, "-resume: checkpoint: " + out + ": read " + out + ": is a directory"},
	} {
		code, stdout, stderr := runDemo(t, args(dir, append([]string{"-epochs", "2", "-checkpoint", ck}, c.args...)...)...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and %q", c.name, code, stderr, c.code, c.want)
		}
		noPanic(t, c.name, stderr)
		if strings.Contains(stdout, "epoch  train loss") {
			t.Errorf("%s: trained anyway", c.name)
		}
		if !bytes.Equal(readFile(t, ck), good) {
			t.Fatalf("%s: the checkpoint changed", c.name)
		}
	}
}

// Unwritable -checkpoint paths are refused before any training, and a
// failed save leaves nothing behind.
func TestCheckpointPathErrors(t *testing.T) {
	dir := fakeMNIST(t, 50, 20)
	out := t.TempDir()
	file := filepath.Join(out, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	cases := []struct{ path, want string }{
		{filepath.Join(out, "no", "such", "run.ckpt"), "folder " + filepath.Join(out, "no", "such") + " does not exist"},
		{filepath.Join(file, "run.ckpt"), file + " is not a folder"},
		{out, "-checkpoint " + out + ": is a folder (want a file name)"},
	}
	if os.Geteuid() != 0 { // root may write anywhere
		ro := filepath.Join(out, "ro")
		os.Mkdir(ro, 0o555)
		cases = append(cases, struct{ path, want string }{filepath.Join(ro, "run.ckpt"), "cannot write in folder " + ro})
	}
	for _, c := range cases {
		code, stdout, stderr := runDemo(t, args(dir, "-checkpoint", c.path)...)
		if code != 2 || !strings.Contains(stderr, c.want) || stdout != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 and %q", c.path, code, stdout, stderr, c.want)
		}
		noPanic(t, c.path, stderr)
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 1+len(cases)-3 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("the folder holds %q", names)
	}
}

// Bad data and absurd flags at the level of the demo: one clear line on
// stderr, a non-zero exit, no panic and no checkpoint written.
func TestBadInputBattery(t *testing.T) {
	const trainImages, trainLabels = "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"
	const testImages, testLabels = "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"
	cases := []struct {
		name  string
		file  string // replaced in a fresh fakeMNIST folder
		data  func(orig []byte) []byte
		flags []string
		code  int
		wants []string
	}{
		{"truncated images", trainImages, func(b []byte) []byte { return b[:len(b)/2] }, nil, 1, []string{"train-images-idx3-ubyte.gz"}},
		{"truncated labels (gzip intact)", trainLabels, func([]byte) []byte { return gzippedIDX(0x801, []uint32{50}, make([]byte, 20)) }, nil, 1, []string{"train-labels-idx1-ubyte.gz", "50"}},
		{"corrupted gzip", trainImages, func(b []byte) []byte { b = bytes.Clone(b); b[len(b)-6] ^= 0xff; return b }, nil, 1, []string{"train-images-idx3-ubyte.gz"}},
		{"labels file as images", trainImages, func([]byte) []byte { return gzippedIDX(0x801, []uint32{50}, make([]byte, 50)) }, nil, 1, []string{"train-images-idx3-ubyte.gz", "magic"}},
		{"not IDX at all", testLabels, func([]byte) []byte { return []byte("<html>404 not found</html>") }, nil, 1, []string{"t10k-labels-idx1-ubyte.gz"}},
		{"label count disagrees", trainLabels, func([]byte) []byte { return gzippedIDX(0x801, []uint32{49}, make([]byte, 49)) }, nil, 1, []string{"49", "50"}},
		{"label out of range", testLabels, func([]byte) []byte { return gzippedIDX(0x801, []uint32{20}, bytes.Repeat([]byte{10}, 20)) }, nil, 1, []string{"t10k-labels-idx1-ubyte.gz", "10"}},
		{"empty training set", trainImages, func([]byte) []byte { return gzippedIDX(0x803, []uint32{0, 28, 28}, nil) }, nil, 1, []string{"train-images-idx3-ubyte.gz"}},
		{"empty test set", testLabels, func([]byte) []byte { return gzippedIDX(0x801, []uint32{0}, nil) }, nil, 1, []string{"t10k-labels-idx1-ubyte.gz"}},
		{"test images of another size", testImages, func([]byte) []byte { return gzippedIDX(0x803, []uint32{20, 14, 14}, make([]byte, 20*196)) }, nil, 1, []string{"the training images are 28×28, the test images 14×14"}},
		{"batch larger than the data", "", nil, []string{"-batch", "51"}, 2, []string{"-batch 51", "1 ≤ B ≤ 50"}},
		{"batch absurd", "", nil, []string{"-batch", "1000000000000"}, 2, []string{"-batch 1000000000000"}},
		{"hidden absurd", "", nil, []string{"-hidden", "1000000000"}, 2, []string{"-hidden 1000000000", "this demo allows 8 GB"}},
		{"hidden zero", "", nil, []string{"-hidden", "16,0"}, 2, []string{"-hidden"}},
		{"lr infinite", "", nil, []string{"-lr", "Inf"}, 2, []string{"Inf"}},
		{"weight decay NaN", "", nil, []string{"-weight-decay", "NaN"}, 2, []string{"weight decay"}},
		{"step-every zero", "", nil, []string{"-schedule", "step", "-step-every", "0"}, 2, []string{"-schedule step"}},
		{"gamma above one", "", nil, []string{"-schedule", "exponential", "-gamma", "2"}, 2, []string{"-schedule exponential"}},
	}
	for _, c := range cases {
		dir := fakeMNIST(t, 50, 20)
		if c.file != "" {
			p := filepath.Join(dir, c.file)
			if err := os.WriteFile(p, c.data(readFile(t, p)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		ck := filepath.Join(t.TempDir(), "run.ckpt")
		a := append([]string{"-data", dir, "-hidden", "16", "-batch", "10", "-checkpoint", ck, "-progress", "off", "-epochs", "1"}, c.flags...)
		code, _, stderr := runDemo(t, a...)
		ok := code == c.code && strings.HasPrefix(stderr, "mnistdemo: ")
		for _, w := range c.wants {
			ok = ok && strings.Contains(stderr, w)
		}
		if !ok {
			t.Errorf("%s: exit %d, stderr %q; want exit %d mentioning %q", c.name, code, stderr, c.code, c.wants)
		} else {
			t.Logf("%s: exit %d: %s", c.name, code, strings.TrimSpace(stderr))
		}
		noPanic(t, c.name, stderr)
		if entries, _ := os.ReadDir(filepath.Dir(ck)); len(entries) != 0 {
			t.Errorf("%s: %d files written", c.name, len(entries))
		}
	}
}
