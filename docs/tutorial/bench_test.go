package tutorial_test

import (
	"fmt"
	"testing"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/docs/tutorial"
)

// Backpropagation on the 2^n-paths graph: time linear in n.
func BenchmarkBackprop(b *testing.B) {
	for _, n := range []int{4, 8, 16, 20, 24} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			tape := autograd.NewTape[float64]()
			for b.Loop() {
				tape.Reset()
				_, _, L := tutorial.Chain(tape, 0.7, -0.4, n)
				tape.Backward(L)
			}
		})
	}
}

// The chain rule as a sum over paths on the same graph: time ∝ 2^n.
func BenchmarkPathSum(b *testing.B) {
	for _, n := range []int{4, 8, 16, 20, 24} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			for b.Loop() {
				tutorial.PathSum(0.7, -0.4, n)
			}
		})
	}
}
