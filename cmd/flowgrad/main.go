// Command flowgrad trains, evaluates and serves small neural networks on
// tables of your own: CSV in, a model file out, predictions back.
//
//	flowgrad train   -data train.csv [-target price] [-model model.fgm] [flags]
//	flowgrad eval    -model model.fgm -data test.csv
//	flowgrad predict -model model.fgm -data new.csv [-id id] > predictions.csv
//	flowgrad export  -model model.fgm -onnx model.onnx
//	flowgrad import  -onnx model.onnx [-data table.csv] [-model model.fgm]
//
// train reads the CSV (plain or gzip; header row; the target is the last
// column unless -target names it), holds out a seeded validation split
// (stratified for classes), fits the preprocessing on the training rows
// (scaled numeric features, one-hot categories, class names, a
// standardised regression target), trains an MLP with early stopping on
// a validation score, and writes one model file holding the architecture,
// the weights and the preprocessing. eval scores a model on a labelled
// CSV (metrics in the target's units, and a confusion matrix for classes);
// predict writes a CSV of predictions to stdout, carrying an ID column
// through; export writes the model as ONNX and import reads an ONNX MLP
// (flowgrad's, or one exported by PyTorch) back into a model file. `flowgrad CMD -h` lists the
// flags of each.
//
// Exit status: 0 on success, 1 when the data, a model file or training
// fails, 2 for bad flags.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/flowgrad/flowgrad/dist"
	"github.com/flowgrad/flowgrad/internal/cli"
)

func main() {
	var err error
	if comm, err = dist.Init(); err != nil { // MPI under -tags mpi; else one process
		fmt.Fprintln(os.Stderr, "flowgrad:", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	dist.Finalize()
	os.Exit(code)
}

const usage = `flowgrad trains small neural networks on CSV tables.

usage:
  flowgrad describe -data table.csv
  flowgrad train    -data train.csv [-target COLUMN] [-model model.fgm] [flags]
  flowgrad eval     -model model.fgm -data test.csv [-importance]
  flowgrad predict  -model model.fgm -data new.csv [-id COLUMN] > predictions.csv
  flowgrad serve    -model model.fgm [-addr localhost:8080]
  flowgrad export   -model model.fgm -onnx model.onnx
  flowgrad import   -onnx model.onnx [-data table.csv -target COLUMN] [-model model.fgm]

Run 'flowgrad COMMAND -h' for the flags of a command.
`

// commands maps a command name to its function: it parses args and runs,
// returning an exit status and an error to print.
var commands = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) error{
	"train":    trainCmd,
	"eval":     evalCmd,
	"predict":  predictCmd,
	"export":   exportCmd,
	"import":   importCmd,
	"serve":    serveCmd,
	"describe": describeCmd,
}

// run executes the command line args and returns the exit status; errors
// are printed to stderr as one line.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "flowgrad: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	out, errOut := rankWriters(stdout, stderr)
	err := cmd(ctx, args[1:], out, errOut)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, cli.ErrHelp):
		return 0
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(stderr, "flowgrad %s: interrupted (no model written)\n", args[0])
		return 1
	}
	var u cli.UsageError
	usage := errors.As(err, &u)
	switch {
	case isRoot():
		fmt.Fprintf(stderr, "flowgrad %s: %v\n", args[0], err)
	case !usage && !errors.Is(err, dist.ErrPeer): // rank 0 reports those
		fmt.Fprintf(stderr, "flowgrad %s: rank %d: %v\n", args[0], comm.Rank(), err)
	}
	if usage {
		return 2
	}
	return 1
}
