package autograd

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/flowgrad/flowgrad/tensor"
)

// DefaultMaxDotNodes is WriteDot's node cap when DotOptions.MaxNodes is 0:
// Graphviz lays out a few hundred nodes legibly, not a hundred thousand.
const DefaultMaxDotNodes = 500

// DotOptions configures WriteDot. A nil *DotOptions means the defaults.
type DotOptions struct {
	// MaxNodes is the most nodes WriteDot writes (0: DefaultMaxDotNodes);
	// a larger graph is an error.
	MaxNodes int
	// Digits is the number of significant digits of the values and
	// partial derivatives shown (0: 6).
	Digits int
	// Title, if not empty, labels the drawing.
	Title string
}

// ErrDotTooLarge is returned (wrapped) by WriteDot for a graph with more
// nodes than DotOptions.MaxNodes.
var ErrDotTooLarge = errors.New("graph too large to draw")

// dotStyle is the Graphviz node style of each kind of value: leaves are
// boxes (parameters gold, variables blue, inputs grey, constants dashed),
// operations ellipses.
func dotStyle(op opKind) string {
	switch op {
	case opParameter:
		return `shape=box, style=filled, fillcolor="#f6d581"`
	case opVar:
		return `shape=box, style=filled, fillcolor="#b3d4f5"`
	case opInput:
		return `shape=box, style=filled, fillcolor="#e4e4e4"`
	case opConst:
		return `shape=box, style=dashed`
	}
	return `shape=ellipse`
}

// WriteDot writes the flow graph recorded on t to w in Graphviz's DOT
// language, for `dot -Tsvg`: the values root depends on, or, if root is
// nil, every value recorded since the last Reset (with the parameters
// they use). Edges run forward, from each operand to the value computed
// from it, in operand order; root is drawn with a double outline.
//
// Each node shows its name (parameters, values given one by Named), its
// operation (or, for a leaf, Parameter, Var, Input or Const, each drawn
// in its own style: see the package's tests for the exact attributes) and
// its shape; a 1×1 value also shows its value and, after a Backward on t
// that reached it, its partial derivative ∂L/∂v, L being that Backward's
// loss. Nodes are numbered n0, n1, … in topological order, so the output
// is the same for the same computation.
//
// A graph with more than opt.MaxNodes nodes is not written: WriteDot
// returns an error wrapping ErrDotTooLarge. Other errors are w's. It
// panics if root is not a value on t recorded since its last Reset.
func (t *Tape[T]) WriteDot(w io.Writer, root *Value[T], opt *DotOptions) error {
	o := DotOptions{}
	if opt != nil {
		o = *opt
	}
	if o.MaxNodes == 0 {
		o.MaxNodes = DefaultMaxDotNodes
	}
	if o.Digits == 0 {
		o.Digits = 6
	}
	var roots []*Value[T]
	if root != nil {
		if root.tape != t || root.gen != t.gen {
			panic("autograd: WriteDot: the root was not recorded on this tape (or was recorded before its last Reset)")
		}
		roots = []*Value[T]{root}
	} else {
		roots = t.nodes[:t.used]
	}
	order, ok := dotOrder(roots, o.MaxNodes)
	if !ok {
		return fmt.Errorf("autograd: WriteDot: the graph has more than %d nodes (DotOptions.MaxNodes): %w; draw a smaller part (a value nearer the inputs as root), a smaller model, or raise MaxNodes", o.MaxNodes, ErrDotTooLarge)
	}
	id := make(map[*Value[T]]int, len(order))
	for i, v := range order {
		id[v] = i
	}

	var b strings.Builder
	b.WriteString("digraph flowgraph {\n\trankdir=LR;\n")
	if o.Title != "" {
		fmt.Fprintf(&b, "\tlabel=%s;\n\tlabelloc=t;\n", dotQuote(o.Title))
	}
	for i, v := range order {
		fmt.Fprintf(&b, "\tn%d [label=%s, %s", i, dotQuote(t.dotLabel(v, o.Digits)), dotStyle(v.op))
		if v == root {
			b.WriteString(", peripheries=2")
		}
		b.WriteString("];\n")
	}
	for i, v := range order {
		for _, in := range v.in {
			if in != nil {
				fmt.Fprintf(&b, "\tn%d -> n%d;\n", id[in], i)
			}
		}
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// dotOrder returns the values roots depend on, roots included, in
// topological order (depth-first post-order, operands in order), or false
// once there are more than limit of them.
func dotOrder[T tensor.Float](roots []*Value[T], limit int) ([]*Value[T], bool) {
	seen := make(map[*Value[T]]bool)
	var order []*Value[T]
	var stack []frame[T]
	for _, r := range roots {
		if seen[r] {
			continue
		}
		seen[r] = true
		stack = append(stack[:0], frame[T]{v: r})
		for len(stack) > 0 {
			f := &stack[len(stack)-1]
			if f.next < len(f.v.in) {
				c := f.v.in[f.next]
				f.next++
				if c != nil && !seen[c] {
					seen[c] = true
					stack = append(stack, frame[T]{v: c})
				}
				continue
			}
			if len(order) == limit {
				return nil, false
			}
			order = append(order, f.v)
			stack = stack[:len(stack)-1]
		}
	}
	return order, true
}

// dotLabel is v's node label: name, operation and shape, and for a 1×1
// value its value and partial derivative.
func (t *Tape[T]) dotLabel(v *Value[T], digits int) string {
	var lines []string
	if v.name != "" {
		lines = append(lines, v.name)
	}
	op := v.op.String()
	if v.op == opPow {
		op = fmt.Sprintf("Pow(%g)", v.k)
	}
	lines = append(lines, op+" "+v.Shape().String())
	if v.Shape() == (tensor.Shape{Rows: 1, Cols: 1}) {
		sym := v.name
		if sym == "" {
			sym = "v"
		}
		f := func(x T) string { return strconv.FormatFloat(float64(x), 'g', digits, 64) }
		lines = append(lines, sym+" = "+f(v.data.Data()[0]))
		if t.lastEpoch != 0 && v.gradEpoch == t.lastEpoch {
			lines = append(lines, "∂L/∂"+sym+" = "+f(v.grad.Data()[0]))
		}
	}
	return strings.Join(lines, "\n")
}

// dotQuote returns s as a DOT string: quoted, with quotes and backslashes
// escaped and line breaks as \n (centred lines).
func dotQuote(s string) string {
	s = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
	return `"` + s + `"`
}
