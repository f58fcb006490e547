package tutorial_test

import (
	"bytes"
	"io"
	"os"
	"testing"

	"github.com/flowgrad/flowgrad/docs/tutorial"
)

// The DOT files behind docs/tutorial.md's flow-graph figures are what
// `go run ./docs/tutorial/cmd/graphs` writes today.
func TestGraphsUpToDate(t *testing.T) {
	for _, g := range []struct {
		file  string
		write func(io.Writer) error
	}{{"img/flowgraph.dot", tutorial.FlowGraph}, {"img/mlp-graph.dot", tutorial.MLPGraph}} {
		var buf bytes.Buffer
		if err := g.write(&buf); err != nil {
			t.Fatal(err)
		}
		committed, err := os.ReadFile(g.file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), committed) {
			t.Errorf("%s is out of date: run go run ./docs/tutorial/cmd/graphs\ngenerated:\n%s", g.file, buf.String())
		}
	}
}
