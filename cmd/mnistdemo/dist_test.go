package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/flowgrad/flowgrad/dist"
)

// rank is a dist.Comm that only knows its rank (no collectives are made
// here).
type rank struct{ r, n int }

func (c rank) Rank() int                       { return c.r }
func (c rank) Size() int                       { return c.n }
func (rank) SumFloat32([]float32) error        { panic("unused") }
func (rank) SumFloat64([]float64) error        { panic("unused") }
func (rank) Broadcast(buf []byte, _ int) error { panic("unused") }

// TestRanksOtherThanZeroAreSilent: under mpirun, rank 0 keeps the output
// and the file flags; the other ranks print nothing, drop -checkpoint and
// -resume, sit out -find-lr and -graph, and report only their own errors.
func TestRanksOtherThanZeroAreSilent(t *testing.T) {
	defer func(c dist.Comm) { comm = c }(comm)
	var stdout bytes.Buffer
	for _, c := range []struct {
		rank       int
		find       bool
		graph      string
		wantSilent bool
		wantIdle   bool
	}{
		{0, false, "", false, false},
		{0, true, "g.dot", false, false},
		{1, false, "", true, false},
		{1, true, "", true, true},
		{2, false, "g.dot", true, true},
	} {
		comm = rank{c.rank, 3}
		cfg := &config{checkpoint: "ck", resume: "ck", graph: c.graph}
		cfg.lrt.find = c.find
		out, idle := rankOutput(cfg, &stdout)
		if silent := out == io.Discard; silent != c.wantSilent || idle != c.wantIdle {
			t.Errorf("rank %d, -find-lr %v, -graph %q: silent %v, idle %v; want %v, %v", c.rank, c.find, c.graph, silent, idle, c.wantSilent, c.wantIdle)
		}
		if files := cfg.checkpoint != "" && cfg.resume != ""; files != (c.rank == 0) {
			t.Errorf("rank %d: -checkpoint %q, -resume %q", c.rank, cfg.checkpoint, cfg.resume)
		}
	}

	peer := fmt.Errorf("step 3: rank 2 diverged: %w", dist.ErrPeer)
	own := errors.New("data: no such file")
	for _, c := range []struct {
		rank int
		err  error
		want string
	}{
		{0, peer, "mnistdemo: step 3: rank 2 diverged: another rank stopped\n"},
		{1, peer, ""},
		{1, own, "mnistdemo: rank 1: data: no such file\n"},
	} {
		comm = rank{c.rank, 3}
		var stderr bytes.Buffer
		reportError(&stderr, c.err)
		if stderr.String() != c.want {
			t.Errorf("rank %d reports %q, want %q", c.rank, stderr.String(), c.want)
		}
	}
}

// On several ranks -dropout and -plateau are refused (their state would be
// per rank, and only rank 0's saved or updated); -clip and -patience run.
func TestRegularizationOnRanks(t *testing.T) {
	defer func(c dist.Comm) { comm = c }(comm)
	comm = rank{0, 2}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-dropout", "0.2"}, "-dropout on 2 ranks: not supported"},
		{[]string{"-plateau", "0.5"}, "-plateau on 2 ranks: not supported"},
		{[]string{"-clip", "1", "-patience", "3"}, ""},
	} {
		_, err := parseFlags(c.args, io.Discard)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%v on 2 ranks: error %v, want %q", c.args, err, c.want)
		}
	}
}
