package onnx

import (
	"bytes"
	"flag"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/flowgrad/flowgrad/layers"
)

var update = flag.Bool("update", false, "rewrite testdata/flowgrad_*.onnx")

// goldenNetworks returns the networks of testdata/flowgrad_*.onnx, the
// files that docs/onnx.md has onnx.checker check. Their values are drawn
// here, not by package layers' initialisers, so that the files change only
// when the encoding does.
func goldenNetworks() map[string]*Network {
	rng := rand.New(rand.NewPCG(15, 4))
	vs := variants(rng, 4, 3)
	for _, name := range slices.Sorted(maps.Keys(vs)) {
		for _, l := range vs[name].Net.Layers {
			if l, ok := l.(*layers.Linear[float32]); ok {
				for _, p := range l.Params() {
					copy(p.Data().Data(), randomRows(rng, 1, p.Data().Len(), 0, 0.5).Data())
				}
			}
		}
	}
	return vs
}

// TestGoldenFiles: the committed example exports are what Encode writes
// today (go test -run TestGoldenFiles -update rewrites them).
func TestGoldenFiles(t *testing.T) {
	for name, n := range goldenNetworks() {
		var buf bytes.Buffer
		if err := Encode(&buf, n); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", "flowgrad_"+name+".onnx")
		if *update {
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, buf.Bytes()) {
			t.Errorf("%s differs from what Encode writes now: check the change, rewrite it with go test -run TestGoldenFiles -update ./model/onnx and run the checker of docs/onnx.md", path)
		}
	}
}
