package main

import (
	"strings"
	"testing"

	"github.com/flowgrad/flowgrad/dist"
)

// ranks2 is a dist.Comm of two ranks, this one rank 0, that makes no
// collectives.
type ranks2 struct{}

func (ranks2) Rank() int                   { return 0 }
func (ranks2) Size() int                   { return 2 }
func (ranks2) SumFloat32([]float32) error  { panic("unused") }
func (ranks2) SumFloat64([]float64) error  { panic("unused") }
func (ranks2) Broadcast([]byte, int) error { panic("unused") }

// On several ranks -cv and -plateau are refused with exit status 2
// before anything is read.
func TestFlagsRefusedOnRanks(t *testing.T) {
	defer func(c dist.Comm) { comm = c }(comm)
	comm = ranks2{}
	for _, c := range []struct{ flag, value, want string }{
		{"-cv", "5", "-cv is not supported on 2 ranks"},
		{"-plateau", "0.5", "-plateau is not supported on 2 ranks"},
	} {
		code, _, errOut := flowgrad(t, "train", "-data", "no-such.csv", c.flag, c.value)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%s %s on 2 ranks: exit %d, %s", c.flag, c.value, code, errOut)
		}
	}
}
