// Command bench measures how the minibatch size B trades hardware
// efficiency against convergence on flowgrad's standard workload (MLP
// 784-256-256-10 on real MNIST, see DESIGN.md) and writes a report
// directory: report.md, CSV files and PNG plots. Its four sections:
//
//  1. gemm: one (B×784)·(784×256) product against B (1×784)·(784×256)
//     products, per kernel path of this CPU (the tutorial: 2–10× faster);
//  2. throughput: training examples/s and allocations per step against B,
//     on 1 and 2 threads;
//  3. convergence: test accuracy against examples and wall time for
//     several B, each momentum form and the constant and 1/k schedules, at
//     tuned rates; which B reaches 97 % and 98 % first in wall time;
//  4. gorgonia: the same MLP in Gorgonia v0.9.18, from the nested module
//     bench/gorgonia;
//  5. pytorch: flowgrad and PyTorch side by side in fresh processes, by one
//     protocol (bench/pytorch/step.py), when Python can import torch;
//     skipped with a note otherwise.
//
// Usage, from the module's folder:
//
//	go run ./bench [-out DIR] [-quick | -full] [-only gemm,throughput,convergence,gorgonia,pytorch]
//
// The default mode takes about seven minutes on a quiet 2-core machine;
// -quick about one, -full about 35 minutes. Exit status: 0 on success, 1
// when the data or a measurement fails, 2 for bad flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/flowgrad/flowgrad/data"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// results is everything one run measured, for the report.
type results struct {
	gemm        []gemmResult
	tp          []tpResult
	conv        *convResult
	gorg        *gorgReport
	pt          *ptReport
	trainN      int
	sectionDur  map[string]time.Duration
	sectionLoad map[string]string // /proc/loadavg's 1-minute load when the section started
	total       time.Duration
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		fmt.Fprintln(stderr, "run 'go run ./bench -h' for the flags")
		return 2
	}
	if c.worker != "" {
		if err := gemmWorker(c, c.worker, stdout); err != nil {
			fmt.Fprintln(stderr, "bench: gemm worker:", err)
			return 1
		}
		return 0
	}
	if c.stepWorker > 0 {
		trainSet, _, err := data.LoadMNIST(c.dataDir)
		if err == nil {
			err = stepWorker(c, trainSet, stdout)
		}
		if err != nil {
			fmt.Fprintln(stderr, "bench: step worker:", err)
			return 1
		}
		return 0
	}
	if err := measureAll(ctx, c, args, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	return 0
}

// measureAll runs the chosen sections and writes the report.
func measureAll(ctx context.Context, c *config, args []string, stdout, stderr io.Writer) error {
	start := time.Now()
	m := detectMachine(args)
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return fmt.Errorf("cannot create the report directory: %w", err)
	}
	res := &results{sectionDur: map[string]time.Duration{}, sectionLoad: map[string]string{}}

	var trainSet, testSet *data.Dataset
	mnistDir := c.dataDir
	if c.has(secThroughput) || c.has(secConvergence) || c.has(secGorgonia) || c.has(secPyTorch) {
		if mnistDir == "" {
			dir, err := data.FindMNIST()
			if err != nil {
				return err
			}
			mnistDir = dir
		}
		var err error
		if trainSet, testSet, err = data.LoadMNIST(mnistDir); err != nil {
			return err
		}
		res.trainN = trainSet.Len()
		fmt.Fprintf(stderr, "bench: MNIST from %s: %d training, %d test examples\n", mnistDir, trainSet.Len(), testSet.Len())
	}
	fmt.Fprintf(stderr, "bench: %s mode, sections %v, kernel %s, %s, %s\n", c.mode, c.sections, m.Kernel, m.CPU, m.GoVersion)

	for _, sec := range runOrder {
		if !c.has(sec) {
			continue
		}
		t0 := time.Now()
		res.sectionLoad[sec] = loadAverage()
		var err error
		switch sec {
		case secGemm:
			res.gemm, err = runGemm(ctx, c, stderr)
		case secThroughput:
			res.tp, err = runThroughput(ctx, c, trainSet, m.Kernel, stderr)
		case secConvergence:
			res.conv, err = runConvergence(ctx, c, trainSet, testSet, stderr)
		case secGorgonia:
			res.gorg, err = runGorgonia(ctx, c, mnistDir, stderr)
		case secPyTorch:
			res.pt, err = runPyTorch(ctx, c, trainSet, mnistDir, stderr)
		}
		if err != nil {
			return err
		}
		res.sectionDur[sec] = time.Since(t0)
		fmt.Fprintf(stderr, "bench: section %s took %s\n", sec, res.sectionDur[sec].Round(time.Second))
	}
	res.total = time.Since(start)
	if err := writeReport(c, m, res); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	fmt.Fprintf(stdout, "bench: report written to %s (%s in all)\n", c.out, time.Since(start).Round(time.Second))
	return nil
}
