package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// -graph writes the model's flow graph and exits without training.
func TestGraphFlagWritesDot(t *testing.T) {
	file := filepath.Join(t.TempDir(), "model.dot")
	code, stdout, stderr := runDemo(t, "-data", fakeMNIST(t, 50, 20), "-batch", "10", "-hidden", "16,8", "-graph", file)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if strings.Contains(stdout, "epoch") || !strings.Contains(stdout, "wrote the flow graph") {
		t.Fatalf("stdout %q: want the graph written and no training", stdout)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	dot := string(b)
	for _, want := range []string{"digraph flowgraph {", "MLP 784-16-8-10", `"x\nInput 2×784"`, `"fc1.W\nParameter 784×16"`,
		`"fc3.b\nParameter 1×10"`, "LinearReLU 2×16", "LinearReLU 2×8", "Linear 2×10", "SoftmaxCrossEntropy 1×1", "∂L/∂L = 1"} {
		if !strings.Contains(dot, want) {
			t.Errorf("graph lacks %q:\n%s", want, dot)
		}
	}
	if n := strings.Count(dot, " -> "); n != 10 {
		t.Errorf("%d edges, want 10 (3 per layer, 1 to the loss)", n)
	}
}

func TestGraphFlagUnwritableExitsOne(t *testing.T) {
	file := filepath.Join(t.TempDir(), "no-such-folder", "model.dot")
	code, _, stderr := runDemo(t, "-data", fakeMNIST(t, 50, 20), "-batch", "10", "-graph", file)
	if code != 1 || !strings.HasPrefix(stderr, "mnistdemo: -graph: ") || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("exit %d, stderr %q; want exit 1 and one line naming -graph", code, stderr)
	}
}
