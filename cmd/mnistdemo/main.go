// Command mnistdemo trains a multilayer perceptron on real MNIST with
// flowgrad and reports, after every epoch, the training loss, the held-out
// (test) loss and accuracy, the throughput and the elapsed time.
//
// Run it with no flags for MLP 784-256-256-10, B = 100, heavy-ball
// momentum 0.9 and the tutorial's 1/k schedule ε_k = ε0·τ/(τ+k) with
// ε0 = 0.1, τ = 3000, until 98 % test accuracy (at most 15 epochs). The
// standard workload of the benchmarks is the same with -schedule constant
// -lr 0.05. The MNIST files are found without setup (see data.LoadMNIST).
//
//	go run ./cmd/mnistdemo [flags]
//
// With -checkpoint FILE the run is saved after every epoch and on Ctrl-C;
// -resume FILE continues it exactly (see checkpoint.go). -graph FILE
// writes the model's flow graph as Graphviz DOT and exits (see graph.go).
// -dropout, -clip, -patience and -plateau add regularisation and rate
// control (see regul.go).
//
// Exit status: 0 on success, 1 when training or the data fails, 2 for bad
// flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/internal/cli"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/optim"
	"github.com/flowgrad/flowgrad/tensor"
	"github.com/flowgrad/flowgrad/train"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	endDist, err := initDist() // see dist.go
	if err != nil {
		fmt.Fprintln(os.Stderr, "mnistdemo:", err)
		os.Exit(1)
	}
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	endDist()
	os.Exit(code)
}

// config is the demo's flags, parsed and checked.
type config struct {
	batch, epochs      int
	lr, tau            float64
	schedule           string
	stepEvery          int
	gamma              float64
	hidden             []int
	seed               uint64
	dataDir            string
	target             float64
	progress           string
	checkpoint, resume string // see checkpoint.go
	graph              string // -graph: see graph.go

	lrt lrFlags                 // -lr auto, -find-lr: see lrtools.go
	opt cli.OptimizerFlags      // -optimizer, -momentum, -momentum-form, -weight-decay, -beta1, -beta2, -eps
	reg cli.RegularizationFlags // -dropout, -clip, -patience, -plateau, -plateau-patience: see regul.go
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("mnistdemo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &config{}
	fs.IntVar(&c.batch, "batch", 100, "minibatch size B: 1 is online SGD, 60000 is batch gradient descent")
	fs.IntVar(&c.epochs, "epochs", 15, "maximum number of passes over the training set")
	c.lrt.register(fs, &c.lr) // -lr (a rate or auto) and the rate tools' flags
	c.opt.Register(fs, "sgd", 0.1)
	fs.StringVar(&c.schedule, "schedule", "invtime", "learning-rate schedule: constant | invtime | step | exponential | cosine")
	fs.Float64Var(&c.tau, "tau", 3000, "τ of the invtime schedule ε0·τ/(τ+k), in steps")
	fs.IntVar(&c.stepEvery, "step-every", 3000, "steps between rate cuts of the step schedule")
	fs.Float64Var(&c.gamma, "gamma", 0.5, "decay factor of the step schedule (per cut) and exponential schedule (per 1000 steps)")
	hidden := fs.String("hidden", "256,256", "hidden layer sizes, comma-separated (empty: a linear model)")
	fs.Uint64Var(&c.seed, "seed", 1, "random seed for weights and shuffling")
	fs.StringVar(&c.dataDir, "data", "", "folder with the MNIST IDX files (default: find them; see $"+data.EnvMNIST+")")
	fs.Float64Var(&c.target, "target", 0.98, "stop once test accuracy reaches this fraction (0: run all epochs)")
	fs.StringVar(&c.progress, "progress", "auto", "progress bar: auto (when stdout is a terminal) | on | off")
	fs.StringVar(&c.checkpoint, "checkpoint", "", "save the run to this file after every epoch and on Ctrl-C (atomically; never a diverged state)")
	fs.StringVar(&c.graph, "graph", "", graphUsage)
	c.reg.Register(fs, 0, 0, patienceUsage, 2)
	fs.StringVar(&c.resume, "resume", "", "continue exactly from this checkpoint (give the same training flags; -epochs counts from the start)")
	if err := cli.Parse(fs, args); err != nil {
		return nil, err
	}
	if err := c.opt.Check(fs); err != nil {
		return nil, cli.UsageError{Msg: err.Error()}
	}
	if err := c.reg.Check(); err != nil {
		return nil, cli.UsageError{Msg: err.Error()}
	}
	if err := c.checkRanks(ranks()); err != nil {
		return nil, err
	}
	if !cli.Given(fs)["lr"] {
		c.lr = c.opt.DefaultRate()
	}
	if c.opt.Name != "sgd" && c.lrt.find {
		return nil, cli.UsageError{Msg: fmt.Sprintf("-find-lr runs the range test with sgd, not %s: choose -lr directly (default %g)", c.opt.Name, c.opt.DefaultRate())}
	}
	var err error
	if c.hidden, err = cli.Ints("hidden", *hidden, 1); err != nil {
		return nil, err
	}
	switch {
	case c.batch < 1:
		return nil, cli.UsageError{Msg: fmt.Sprintf("-batch %d: the batch size must be at least 1", c.batch)}
	case c.epochs < 1:
		return nil, cli.UsageError{Msg: fmt.Sprintf("-epochs %d: must be at least 1", c.epochs)}
	case !(c.lr > 0):
		return nil, cli.UsageError{Msg: fmt.Sprintf("-lr %v: the learning rate must be positive", c.lr)}
	case !(c.target >= 0 && c.target <= 1):
		return nil, cli.UsageError{Msg: fmt.Sprintf("-target %v: must be a fraction in [0, 1]", c.target)}
	}
	if err := cli.CheckProgress(c.progress); err != nil {
		return nil, cli.UsageError{Msg: err.Error()}
	}
	if err := checkCheckpointPath(c.checkpoint); err != nil {
		return nil, cli.UsageError{Msg: err.Error()}
	}
	// Check the schedule and optimizer hyperparameters now, before the data
	// is loaded (the cosine schedule's length is set once it is).
	sched, err := c.scheduleFor(1)
	if err != nil {
		return nil, cli.UsageError{Msg: "-schedule " + c.schedule + ": " + err.Error()}
	}
	opt, err := c.opt.New(nil, sched)
	if err != nil {
		return nil, cli.UsageError{Msg: err.Error()}
	}
	if _, err := optim.StabilityBound(opt, 1); c.lrt.auto && err != nil {
		return nil, cli.UsageError{Msg: "-lr auto: " + err.Error()}
	}
	return c, nil
}

// schedule builds the -schedule flag's schedule starting at c.lr.
func (c *config) scheduleFor(epochSteps int) (optim.Schedule, error) {
	switch c.schedule {
	case "constant":
		return optim.Constant(c.lr)
	case "invtime":
		return optim.InverseTime(c.lr, c.tau)
	case "step":
		return optim.StepDecay(c.lr, c.gamma, c.stepEvery)
	case "exponential":
		return optim.Exponential(c.lr, math.Pow(c.gamma, 1.0/1000))
	case "cosine":
		return optim.Cosine(c.lr, 0, c.epochs*epochSteps)
	}
	return nil, fmt.Errorf("unknown schedule %q (want constant, invtime, step, exponential or cosine)", c.schedule)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, cli.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "mnistdemo:", err)
		return 2
	}
	stdout, idle := rankOutput(c, stdout) // see dist.go
	if idle {
		return 0
	}
	code, err := train1(ctx, c, stdout)
	if err != nil {
		reportError(stderr, err)
	}
	return code
}

func train1(ctx context.Context, c *config, stdout io.Writer) (int, error) {
	trainSet, testSet, err := data.LoadMNIST(c.dataDir)
	if err != nil {
		return 1, err
	}
	rng := rand.New(rand.NewPCG(c.seed, 0x5eed))
	batches, err := data.NewBatcher(trainSet, c.batch, rng)
	if err != nil {
		return 2, fmt.Errorf("-batch %d: %w", c.batch, err)
	}
	sizes := append(append([]int{trainSet.Features()}, c.hidden...), trainSet.Classes())
	if code, err := checkData(trainSet, testSet, sizes, c.batch); err != nil {
		return code, err
	}
	model := layers.MLP[float32](rng, sizes...)
	reg, err := newRegularizer(c, model) // dropout layers, early stopping
	if err != nil {
		return 2, err
	}
	if c.graph != "" {
		return writeGraph(c.graph, model, sizes, trainSet, stdout)
	}
	sched, err := c.lrt.apply(c, model, trainSet, batches.BatchesPerEpoch(), stdout)
	if err != nil {
		return lrExit(err)
	}
	if sched, err = reg.schedule(sched); err != nil { // -plateau
		return 2, err
	}
	opt, err := c.opt.New(model.Params(), sched)
	if err != nil {
		return 2, err
	}
	eval, err := train.NewEvaluator(testSet, 1000, train.CrossEntropy[float32])
	if err != nil {
		return 1, err
	}
	ck, code, err := newCheckpointer(c, sizes, model.Params(), opt, batches, reg)
	if err != nil {
		return code, err
	}

	fmt.Fprintf(stdout, "flowgrad mnistdemo: kernel %s, MLP %s, B=%d, %s%s, seed %d%s\n",
		tensor.KernelPath(), cli.JoinInts(sizes, "-"), c.batch, c.opt.Describe(opt), prefixed(", ", reg.describe()), c.seed, distBanner())
	if err := tensor.KernelError(); err != nil {
		fmt.Fprintf(stdout, "note: %v\n", err)
	}
	fmt.Fprintf(stdout, "data: %d training, %d test examples\n", trainSet.Len(), testSet.Len())
	ck.report(stdout)
	fmt.Fprintf(stdout, "%5s  %10s  %9s  %8s  %10s  %8s\n", "epoch", "train loss", "test loss", "test acc", "examples/s", "elapsed")

	bar := cli.NewBar(stdout, c.progress, batches.BatchesPerEpoch(), "")
	cfg := train.Config{
		Epochs: ck.epochs(c.epochs),
		Target: c.target,
		OnEpoch: func(r train.EpochResult) error {
			bar.Clear()
			fmt.Fprintf(stdout, "%5d  %10.4f  %9.4f  %7.2f%%  %10.0f  %7.1fs\n",
				r.Epoch, r.TrainLoss, r.Eval.Loss, 100*r.Eval.Accuracy, r.ExamplesPerSecond(), r.Elapsed.Seconds())
			return reg.observe(r, stdout)
		},
	}
	if bar != nil {
		cfg.OnBatch = func(_ float64, index, _ int) { bar.Set(index + 1) }
	}
	runCtx, cfg, cancel := ck.wrap(ctx, cfg)
	defer cancel()
	tr := train.NewTrainer(model, opt, train.CrossEntropy)
	tr.MaxLoss = explodeFactor * math.Log(float64(trainSet.Classes()))
	results, err := runTraining(runCtx, tr, batches, eval, cfg, c.reg.ClipHook(model.Params()))
	if err = ck.finish(err, stdout); err != nil {
		if errors.Is(err, context.Canceled) {
			return 1, errors.New("interrupted")
		}
		return 1, err
	}
	var trainTime time.Duration
	for _, r := range results {
		trainTime += r.TrainTime
	}
	last := results[len(results)-1]
	if reg.stopped {
		last.Eval = eval.Evaluate(model) // the best epoch's weights
	}
	if c.target > 0 && last.Eval.Accuracy >= c.target {
		fmt.Fprintf(stdout, "reached %.2f%% test accuracy (target %.2f%%) after %d epochs: %.1fs of training, %.1fs in all\n",
			100*last.Eval.Accuracy, 100*c.target, last.Epoch, trainTime.Seconds(), last.Elapsed.Seconds())
	} else {
		fmt.Fprintf(stdout, "final test accuracy %.2f%% after %d epochs: %.1fs of training, %.1fs in all", 100*last.Eval.Accuracy, last.Epoch, trainTime.Seconds(), last.Elapsed.Seconds())
		if c.target > 0 {
			fmt.Fprintf(stdout, " (target %.2f%% not reached)", 100*c.target)
		}
		fmt.Fprintln(stdout)
	}
	return 0, nil
}

// prefixed returns prefix+s, or "" for an empty s.
func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}
