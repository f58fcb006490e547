package autograd

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/flowgrad/flowgrad/tensor"
)

// dotGraph is WriteDot's output parsed: node attributes by id, and edges.
type dotGraph struct {
	nodes map[string]string // id → attribute list
	order []string
	edges [][2]string
}

var (
	dotNode  = regexp.MustCompile(`^\t(n\d+) \[(.*)\];$`)
	dotEdge  = regexp.MustCompile(`^\t(n\d+) -> (n\d+);$`)
	dotLabel = regexp.MustCompile(`label="((?:[^"\\]|\\.)*)"`)
)

// parseDot parses WriteDot's output line by line and fails on any line it
// does not recognise or any edge to an undeclared node.
func parseDot(t *testing.T, s string) dotGraph {
	t.Helper()
	g := dotGraph{nodes: map[string]string{}}
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if lines[0] != "digraph flowgraph {" || lines[len(lines)-1] != "}" {
		t.Fatalf("not a digraph:\n%s", s)
	}
	for _, l := range lines[1 : len(lines)-1] {
		if m := dotNode.FindStringSubmatch(l); m != nil {
			g.nodes[m[1]] = m[2]
			g.order = append(g.order, m[1])
		} else if m := dotEdge.FindStringSubmatch(l); m != nil {
			for _, id := range m[1:] {
				if _, ok := g.nodes[id]; !ok {
					t.Fatalf("edge %q before or without node %s", l, id)
				}
			}
			g.edges = append(g.edges, [2]string{m[1], m[2]})
		} else if !strings.HasPrefix(l, "\trankdir=") && !strings.HasPrefix(l, "\tlabel") {
			t.Fatalf("unexpected line %q", l)
		}
	}
	return g
}

// label returns node id's label lines.
func (g dotGraph) label(id string) []string {
	m := dotLabel.FindStringSubmatch(g.nodes[id])
	return strings.Split(m[1], `\n`)
}

// byFirstLine maps each node's label's first line (a name, or the
// operation and shape) to its id.
func (g dotGraph) byFirstLine() map[string]string {
	ids := map[string]string{}
	for id := range g.nodes {
		ids[g.label(id)[0]] = id
	}
	return ids
}

// number returns the number after "prefix" in node id's label, or NaN.
func (g dotGraph) number(id, prefix string) float64 {
	for _, l := range g.label(id) {
		if s, ok := strings.CutPrefix(l, prefix); ok {
			x, err := strconv.ParseFloat(s, 64)
			if err == nil {
				return x
			}
		}
	}
	return math.NaN()
}

// The tutorial's graph L = sin(a² + b/a): seven nodes and seven edges,
// each node labelled with its value and ∂L/∂node, all equal to the
// closed forms (u = a² + b/a).
func TestWriteDotTutorial(t *testing.T) {
	for _, p := range [][2]float64{{1.5, 0.5}, {2, -3}, {-0.7, 0.25}} {
		av, bv := p[0], p[1]
		tape := NewTape[float64]()
		a, b := tape.Scalar(av).Named("a"), tape.Scalar(bv).Named("b")
		L := Sin(Add(Square(a), Div(b, a))).Named("L")
		tape.Backward(L)
		var buf bytes.Buffer
		if err := tape.WriteDot(&buf, L, &DotOptions{Digits: 15}); err != nil {
			t.Fatal(err)
		}
		g := parseDot(t, buf.String())
		ids := g.byFirstLine()
		u := av*av + bv/av
		c := math.Cos(u)
		want := []struct {
			first, sym   string
			value, deriv float64
		}{
			{"a", "a", av, c * (2*av - bv/(av*av))},
			{"b", "b", bv, c / av},
			{"Square 1×1", "v", av * av, c},
			{"Pow(-1) 1×1", "v", 1 / av, c * bv},
			{"Mul 1×1", "v", bv / av, c},
			{"Add 1×1", "v", u, c},
			{"L", "L", math.Sin(u), 1},
		}
		if len(g.nodes) != len(want) || len(ids) != len(want) {
			t.Fatalf("a=%g b=%g: nodes %v, want %d distinct", av, bv, g.nodes, len(want))
		}
		for _, w := range want {
			id, ok := ids[w.first]
			if !ok {
				t.Fatalf("a=%g b=%g: no node %q in\n%s", av, bv, w.first, buf.String())
			}
			got, gotD := g.number(id, w.sym+" = "), g.number(id, "∂L/∂"+w.sym+" = ")
			if math.Abs(got-w.value) > 1e-12*(1+math.Abs(w.value)) || math.Abs(gotD-w.deriv) > 1e-12*(1+math.Abs(w.deriv)) {
				t.Errorf("a=%g b=%g: %s: value %v ∂ %v, want %v and %v", av, bv, w.first, got, gotD, w.value, w.deriv)
			}
		}
		name := func(id string) string { return g.label(id)[0] }
		var edges []string
		for _, e := range g.edges {
			edges = append(edges, name(e[0])+" → "+name(e[1]))
		}
		wantEdges := []string{"a → Square 1×1", "a → Pow(-1) 1×1", "b → Mul 1×1", "Pow(-1) 1×1 → Mul 1×1",
			"Square 1×1 → Add 1×1", "Mul 1×1 → Add 1×1", "Add 1×1 → L"}
		slices.Sort(edges)
		slices.Sort(wantEdges)
		if !slices.Equal(edges, wantEdges) {
			t.Errorf("edges %q, want %q", edges, wantEdges)
		}
		if !strings.Contains(g.nodes[ids["L"]], "peripheries=2") {
			t.Errorf("the root is not drawn with a double outline: %s", g.nodes[ids["L"]])
		}
	}
}

// Before Backward (and after a Reset) no partial derivatives are shown;
// with a nil root every recorded value and the parameters it uses are
// drawn, each kind of leaf in its own style, nodes in topological order.
func TestWriteDotKindsAndNilRoot(t *testing.T) {
	w := NewParam("fc.W", tensor.FromSlice(2, 1, []float64{0.5, -1}))
	tape := NewTape[float64]()
	x := tape.Input(tensor.FromSlice(3, 2, []float64{1, 2, 3, 4, 5, 6}))
	loss := Mul(Sum(MatMul(x, w)), tape.Const(0.5))
	var buf bytes.Buffer
	if err := tape.WriteDot(&buf, nil, nil); err != nil {
		t.Fatal(err)
	}
	g := parseDot(t, buf.String())
	styles := map[string]string{
		"fc.W":       `fillcolor="#f6d581"`,
		"Input 3×2":  `fillcolor="#e4e4e4"`,
		"Const 1×1":  `style=dashed`,
		"MatMul 3×1": `shape=ellipse`,
		"Sum 1×1":    `shape=ellipse`,
		"Mul 1×1":    `shape=ellipse`,
	}
	ids := g.byFirstLine()
	if len(g.nodes) != len(styles) || len(g.edges) != 5 {
		t.Fatalf("%d nodes and %d edges, want %d and 5:\n%s", len(g.nodes), len(g.edges), len(styles), buf.String())
	}
	for first, style := range styles {
		if !strings.Contains(g.nodes[ids[first]], style) {
			t.Errorf("%s: %s, want %s", first, g.nodes[ids[first]], style)
		}
	}
	if strings.Contains(buf.String(), "∂") || strings.Contains(buf.String(), "peripheries") {
		t.Errorf("partials or a root drawn before Backward, with no root:\n%s", buf.String())
	}
	pos := map[string]int{}
	for i, id := range g.order {
		pos[id] = i
	}
	for _, e := range g.edges {
		if pos[e[0]] >= pos[e[1]] {
			t.Errorf("edge %v runs backward in the node order", e)
		}
	}
	if v := g.number(ids["Sum 1×1"], "v = "); v != -7.5 {
		t.Errorf("Sum = %v, want -7.5", v)
	}

	tape.Backward(loss)
	buf.Reset()
	if err := tape.WriteDot(&buf, loss, nil); err != nil {
		t.Fatal(err)
	}
	g = parseDot(t, buf.String())
	if d := g.number(g.byFirstLine()["Sum 1×1"], "∂L/∂v = "); d != 0.5 {
		t.Errorf("∂L/∂Sum = %v, want 0.5:\n%s", d, buf.String())
	}
	if d := g.number(g.byFirstLine()["Const 1×1"], "∂L/∂v = "); !math.IsNaN(d) {
		t.Errorf("a constant shows a partial derivative %v", d)
	}
}

// A graph over the cap is not written: the error says so and wraps
// ErrDotTooLarge; the cap is configurable and has a default.
func TestWriteDotCap(t *testing.T) {
	for _, c := range []struct {
		n, max int // chain length (3n + 3 nodes), cap
		ok     bool
	}{{10, 33, true}, {10, 32, false}, {200, 0, false}, {150, 0, true}} {
		tape := NewTape[float64]()
		_, _, L := chain(tape, 0.3, 0.7, c.n)
		var buf bytes.Buffer
		err := tape.WriteDot(&buf, L, &DotOptions{MaxNodes: c.max})
		if c.ok {
			if err != nil {
				t.Fatalf("n=%d cap %d: %v", c.n, c.max, err)
			}
			if got := len(parseDot(t, buf.String()).nodes); got != 3*c.n+3 {
				t.Fatalf("n=%d: %d nodes, want %d", c.n, got, 3*c.n+3)
			}
			continue
		}
		limit := c.max
		if limit == 0 {
			limit = DefaultMaxDotNodes
		}
		if !errors.Is(err, ErrDotTooLarge) || !strings.Contains(err.Error(), fmt.Sprintf("more than %d nodes", limit)) || buf.Len() != 0 {
			t.Fatalf("n=%d cap %d: error %v, %d bytes written; want ErrDotTooLarge naming the cap, nothing written", c.n, c.max, err, buf.Len())
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteDotErrorsAndMisuse(t *testing.T) {
	tape := NewTape[float64]()
	a := tape.Scalar(1)
	if err := tape.WriteDot(failWriter{}, Square(a), nil); err == nil || err.Error() != "disk full" {
		t.Fatalf("error %v, want the writer's", err)
	}
	other := NewTape[float64]()
	expectPanic(t, "autograd: WriteDot: the root was not recorded on this tape", func() {
		other.WriteDot(failWriter{}, a, nil)
	})
	expectPanic(t, `autograd: Named("w"): p 1×1 is a parameter`, func() {
		NewParam("p", tensor.New[float64](1, 1)).Named("w")
	})
	var buf bytes.Buffer
	x := tape.Scalar(2).Named(`say "hi"\`)
	if err := tape.WriteDot(&buf, x, &DotOptions{Title: "t"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `label="say \"hi\"\\\nVar 1×1`) {
		t.Fatalf("name not escaped:\n%s", buf.String())
	}
}

// A float32 minibatch on a float64 tape is drawn as an input.
func TestWriteDotInputFloat32(t *testing.T) {
	tape := NewTape[float64]()
	x := InputFloat32(tape, tensor.New[float32](2, 3))
	var buf bytes.Buffer
	if err := tape.WriteDot(&buf, x, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `label="Input 2×3", shape=box, style=filled, fillcolor="#e4e4e4"`) {
		t.Fatalf("not drawn as an input:\n%s", buf.String())
	}
}
