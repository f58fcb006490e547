package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowgrad/flowgrad/data"
)

func runDemo(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestBadFlagsExitTwoWithOneMessage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-batch", "0"}, "-batch 0: the batch size must be at least 1"},
		{[]string{"-batch", "-5"}, "-batch -5"},
		{[]string{"-lr", "0"}, "-lr 0: the learning rate must be positive"},
		{[]string{"-lr", "-1"}, "the learning rate must be positive"},
		{[]string{"-lr", "NaN"}, "the learning rate must be positive"},
		{[]string{"-momentum-form", "adam"}, "-momentum-form"},
		{[]string{"-momentum", "1.5"}, "momentum"},
		{[]string{"-hidden", "256,x"}, "-hidden"},
		{[]string{"-epochs", "0"}, "-epochs 0"},
		{[]string{"-target", "98"}, "-target 98"},
		{[]string{"-schedule", "sometimes"}, "unknown schedule"},
		{[]string{"-tau", "0", "-schedule", "invtime"}, "tau"},
		{[]string{"-nosuchflag"}, "flag provided but not defined"},
		{[]string{"-optimizer", "lion"}, `-optimizer "lion": want sgd, adam, adamw, rmsprop or adagrad`},
		{[]string{"-beta1", "0.8"}, "-beta1 does not apply to -optimizer sgd (only to [adam adamw])"},
		{[]string{"-optimizer", "adam", "-momentum-form", "nesterov"}, "-momentum-form does not apply to -optimizer adam"},
		{[]string{"-optimizer", "adagrad", "-momentum", "0.5"}, "-momentum does not apply to -optimizer adagrad"},
		{[]string{"-optimizer", "adam", "-beta1", "1"}, "optim: beta1 1 outside [0, 1)"},
		{[]string{"-optimizer", "adamw", "-beta2", "-0.5"}, "optim: beta2 -0.5 outside [0, 1)"},
		{[]string{"-optimizer", "rmsprop", "-eps", "0"}, "optim: eps 0 must be finite and > 0"},
		{[]string{"-optimizer", "rmsprop", "-momentum", "1"}, "optim: momentum 1 outside [0, 1)"},
		{[]string{"-optimizer", "adam", "-weight-decay", "-1"}, "optim: weight decay -1 is negative"},
		{[]string{"-optimizer", "adam", "-lr", "auto"}, "-lr auto: optim: no stability bound for Adam: the bound 2(1+μ)/λmax is for SGD's constant step"},
		{[]string{"-optimizer", "adagrad", "-find-lr"}, "-find-lr runs the range test with sgd, not adagrad"},
		{[]string{"stray"}, "unexpected argument"},
		{[]string{"-dropout", "1"}, "-dropout 1: want a probability in [0, 1)"},
		{[]string{"-dropout", "-0.1"}, "-dropout -0.1: want a probability in [0, 1)"},
		{[]string{"-dropout", "NaN"}, "-dropout NaN"},
		{[]string{"-clip", "-1"}, "-clip -1: want a finite norm > 0, or 0 for no clipping"},
		{[]string{"-clip", "Inf"}, "-clip +Inf"},
		{[]string{"-patience", "-1"}, "-patience -1: want 0 (off) or more epochs"},
		{[]string{"-plateau", "1"}, "-plateau 1: want a factor in (0, 1), or 0 for off"},
		{[]string{"-plateau", "-0.5"}, "-plateau -0.5"},
		{[]string{"-plateau", "0.5", "-plateau-patience", "-2"}, "-plateau-patience -2: want ≥ 0"},
	} {
		dir := fakeMNIST(t, 50, 20)
		code, _, stderr := runDemo(t, append([]string{"-data", dir}, c.args...)...)
		if code != 2 || !strings.Contains(stderr, c.want) || strings.Contains(stderr, "goroutine") {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 mentioning %q", c.args, code, stderr, c.want)
		}
	}
}

// -h explains every flag, the regularisation ones included, and exits 0.
func TestHelp(t *testing.T) {
	code, _, stderr := runDemo(t, "-h")
	if code != 0 {
		t.Fatalf("-h: exit %d", code)
	}
	for _, want := range []string{"-optimizer", "-graph", "-dropout", "dropout probability after each hidden layer",
		"-clip", "clip the gradients' global norm", "-patience", "restore the best epoch's weights",
		"-plateau ", "multiply the rate by this factor", "-plateau-patience", "epochs without improvement"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("-h does not mention %q", want)
		}
	}
}

func TestBatchLargerThanTrainingSet(t *testing.T) {
	code, _, stderr := runDemo(t, "-data", fakeMNIST(t, 50, 20), "-batch", "51")
	if code != 2 || !strings.Contains(stderr, "-batch 51") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func TestMissingDataExitsOne(t *testing.T) {
	code, _, stderr := runDemo(t, "-data", filepath.Join(t.TempDir(), "nothing-here"))
	if code != 1 || !strings.Contains(stderr, "mnistdemo: data:") || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("exit %d, stderr %q; want exit 1 and one line from the data package", code, stderr)
	}
}

func TestTrainsOnSmallData(t *testing.T) {
	code, stdout, stderr := runDemo(t, "-data", fakeMNIST(t, 200, 50), "-epochs", "2", "-batch", "20",
		"-hidden", "16", "-target", "0", "-progress", "off")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{"kernel ", "MLP 784-16-10", "epoch  train loss", "\n    1 ", "\n    2 ", "final test accuracy"} {
		if !strings.Contains(stdout, want) {
			t.Fatalf("output lacks %q:\n%s", want, stdout)
		}
	}
}

// fakeMNIST writes gzipped IDX files of random images in MNIST's format
// and names into a temporary folder.
func fakeMNIST(t *testing.T, nTrain, nTest int) string {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 1))
	for _, set := range []struct {
		prefix string
		n      int
	}{{"train", nTrain}, {"t10k", nTest}} {
		pixels := make([]byte, set.n*784)
		labels := make([]byte, set.n)
		for i := range labels {
			labels[i] = byte(rng.IntN(10))
			for j := 0; j < 784; j++ {
				if j%10 == int(labels[i]) {
					pixels[i*784+j] = byte(128 + rng.IntN(128))
				}
			}
		}
		writeIDX(t, dir, set.prefix+"-images-idx3-ubyte", 0x803, []uint32{uint32(set.n), 28, 28}, pixels)
		writeIDX(t, dir, set.prefix+"-labels-idx1-ubyte", 0x801, []uint32{uint32(set.n)}, labels)
	}
	return dir
}

// writeIDX writes a gzipped IDX file name.gz into dir.
func writeIDX(t *testing.T, dir, name string, magic uint32, dims []uint32, payload []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name+".gz"), gzippedIDX(magic, dims, payload), 0o644); err != nil {
		t.Fatal(err)
	}
}

// gzippedIDX returns a gzipped IDX file: magic, dims, payload.
func gzippedIDX(magic uint32, dims []uint32, payload []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	binary.Write(zw, binary.BigEndian, magic)
	binary.Write(zw, binary.BigEndian, dims)
	zw.Write(payload)
	zw.Close()
	return buf.Bytes()
}

// realMNISTHead writes the first nTrain training and nTest test images of
// the real MNIST (found as the demo finds it) as IDX files into a
// temporary folder.
func realMNISTHead(t *testing.T, nTrain, nTest int) string {
	t.Helper()
	dir, err := data.FindMNIST()
	if err != nil {
		t.Fatal(err)
	}
	tr, te, err := data.LoadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	for _, set := range []struct {
		prefix string
		ds     *data.Dataset
		n      int
	}{{"train", tr, nTrain}, {"t10k", te, nTest}} {
		var pixels, labels []byte
		for i := range set.n {
			pixels = append(pixels, set.ds.Image(i)...)
			labels = append(labels, byte(set.ds.Label(i)))
		}
		writeIDX(t, out, set.prefix+"-images-idx3-ubyte", 0x803, []uint32{uint32(set.n), 28, 28}, pixels)
		writeIDX(t, out, set.prefix+"-labels-idx1-ubyte", 0x801, []uint32{uint32(set.n)}, labels)
	}
	return out
}

// Every -optimizer trains the default network at its default rate on
// real digits without diverging (RMSProp at PyTorch's 0.01 did, at step 3;
// its default is now 0.001).
func TestOptimizersAtDefaultRates(t *testing.T) {
	digits := realMNISTHead(t, 1000, 100)
	for _, opt := range []string{"sgd", "adam", "adamw", "rmsprop", "adagrad"} {
		code, stdout, stderr := runDemo(t, "-data", digits, "-epochs", "1", "-optimizer", opt, "-target", "0", "-progress", "off")
		if code != 0 || !strings.Contains(stdout, "final test accuracy") {
			t.Errorf("-optimizer %s: exit %d, %s", opt, code, stderr)
		}
	}
}
