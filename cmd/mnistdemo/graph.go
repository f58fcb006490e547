package main

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/internal/cli"
	"github.com/flowgrad/flowgrad/layers"
)

// graphUsage is the -graph flag's help text.
const graphUsage = "write the model's flow graph (one forward and backward step on the first 2 training images) " +
	"as Graphviz DOT to this file and exit without training; render it with: dot -Tsvg FILE > graph.svg"

// graphBatch is the number of images in the -graph step: the graph's
// shape does not depend on it, only the nodes' labels.
const graphBatch = 2

// writeGraph records one training step of model — forward, softmax
// cross-entropy, Backward — on the first examples of ds on a training
// tape, and writes its flow graph to file (autograd.Tape.WriteDot). It
// returns the exit status and the error.
func writeGraph(file string, model layers.Layer[float32], sizes []int, ds *data.Dataset, stdout io.Writer) (int, error) {
	batches, err := data.NewBatcher(ds, min(graphBatch, ds.Len()), nil) // nil: dataset order
	if err != nil {
		return 1, err
	}
	b, _ := batches.Next()
	tape := autograd.NewTape[float32]()
	loss := autograd.SoftmaxCrossEntropy(model.Forward(tape.Input(b.X).Named("x")), b.Labels).Named("L")
	tape.Backward(loss)
	var buf bytes.Buffer
	title := fmt.Sprintf("mnistdemo: MLP %s, one training step on %d images", cli.JoinInts(sizes, "-"), b.Size())
	if err := tape.WriteDot(&buf, loss, &autograd.DotOptions{Title: title}); err != nil {
		return 1, fmt.Errorf("-graph %s: %w", file, err)
	}
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		return 1, fmt.Errorf("-graph: %w", err)
	}
	fmt.Fprintf(stdout, "wrote the flow graph of one training step (%d values) to %s; render it with: dot -Tsvg %s > graph.svg\n",
		tape.Len()+len(model.Params()), file, file)
	return 0, nil
}
