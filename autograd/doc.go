// Package autograd is flowgrad's flow graph: define-by-run reverse-mode
// differentiation over matrices (package tensor).
//
// Operations record themselves on a [Tape] as they run. [Tape.Backward]
// then computes dL/dv for every value v the scalar loss L depends on, in one
// reverse sweep: an explicit-stack depth-first search from L finds the
// values L depends on in topological order, and each value's local
// derivative rule is applied once, adding (+=) into its inputs' gradients, so
// a value used twice receives both contributions. The sweep visits each node
// once and each edge once: O(nodes + edges). Enumerating the paths from L to
// an input instead, as the chain rule written out naively does, costs
// O(2^n) on the tutorial's graph x_t = f(x_{t-1}, y_{t-1}),
// y_t = g(x_{t-1}, y_{t-1}); the tests count both.
//
// Every value is a matrix; a scalar is 1×1. Parameters ([NewParam]) live
// outside any tape and can be used on many tapes; their gradient after
// Backward is held in [Value.Grad]. Inputs ([Tape.Input]) need no gradient,
// so, for example, the first layer's input gradient is never computed.
//
// The primitive operations, each a forward function with its local
// derivative beside it, are listed in one table (ops.go). Composite
// operations (Sub, Div, MSE) are compositions of primitives. The only
// broadcasting is a documented bias row: b of shape 1×n combined with a of
// shape m×n; its gradient is summed back over the rows in one place
// (broadcast.go).
//
// [Tape.WriteDot] draws the recorded graph in Graphviz's DOT language: each
// node with its operation and shape and, for a 1×1 value, its value and
// ∂L/∂node after Backward.
//
// A tape records training computations unless [Tape.SetTraining] turns it
// to evaluation; [Dropout], the one operation that differs, is the
// identity on an evaluation tape.
//
// Misuse panics with a message that starts with "autograd:" and names the
// operation and the shapes: operands whose shapes do not fit, Backward on a
// non-scalar, values from two different tapes (or from before a Reset).
//
// A Tape and the parameters it uses are not safe for concurrent use.
package autograd
