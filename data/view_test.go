package data

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// viewCSV returns a table text of n rows: an ID, a number with blanks, a
// category with blanks and a class.
func viewCSV(n int, rng *rand.Rand) string {
	var b strings.Builder
	b.WriteString("id,x,color,label\n")
	for i := range n {
		x := fmt.Sprintf("%.3f", rng.NormFloat64())
		if i%7 == 3 {
			x = ""
		}
		color := []string{"red", "green", "blue", ""}[rng.IntN(4)]
		fmt.Fprintf(&b, "r%d,%s,%s,%s\n", i, x, color, []string{"cat", "dog"}[rng.IntN(2)])
	}
	return b.String()
}

// A Subset is a view: the same values, lines and missing values as the
// rows it names, of the rows it names when taken of a view, and the same
// preprocessing and dataset as a file of just those rows.
func TestSubsetView(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	text := viewCSV(300, rng)
	opt := &CSVOptions{Missing: true, Text: []string{"id"}}
	tab := readString(t, text, opt)
	idx := rng.Perm(300)[:120]
	sub := tab.Subset(idx)
	idx2 := []int{5, 0, 119, 64, 64}
	sub2 := sub.Subset(idx2)
	for j, c := range tab.Columns() {
		for k, i := range idx {
			if d := sub.Columns()[j]; d.Value(k) != c.Value(i) || d.IsMissing(k) != c.IsMissing(i) || sub.Line(k) != tab.Line(i) {
				t.Fatalf("column %q: view row %d = %q (line %d), row %d = %q (line %d)", c.Name(), k, d.Value(k), sub.Line(k), i, c.Value(i), tab.Line(i))
			}
		}
		for k, i := range idx2 {
			if d := sub2.Columns()[j]; d.Value(k) != c.Value(idx[i]) || sub2.Line(k) != tab.Line(idx[i]) {
				t.Fatalf("column %q: view of a view row %d = %q, want %q", c.Name(), k, d.Value(k), c.Value(idx[i]))
			}
		}
	}
	lines := strings.Split(text, "\n")
	var own strings.Builder
	own.WriteString(lines[0] + "\n")
	for _, i := range idx {
		own.WriteString(lines[i+1] + "\n")
	}
	alone := readString(t, own.String(), opt)
	for j, c := range alone.Columns() {
		if d := sub.Columns()[j]; d.Missing() != c.Missing() {
			t.Errorf("column %q: %d missing in the view, %d in the file of its rows", c.Name(), d.Missing(), c.Missing())
		}
	}
	fit := FitOptions{Ignore: []string{"id"}, FillMissing: true, Scaling: ScaleEach}
	pv, err := Fit(sub, fit)
	if err != nil {
		t.Fatal(err)
	}
	pa, err := Fit(alone, fit)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(pv.Features, pa.Features) || !slices.Equal(pv.Classes, pa.Classes) {
		t.Fatalf("fitted on the view %+v, on the file %+v", pv.Features, pa.Features)
	}
	dv, err := pv.Dataset(sub)
	if err != nil {
		t.Fatal(err)
	}
	da, err := pa.Dataset(alone)
	if err != nil {
		t.Fatal(err)
	}
	for i := range dv.Len() {
		ev, ea := dv.Example(i, make([]float32, dv.Features())), da.Example(i, make([]float32, da.Features()))
		if !slices.Equal(ev, ea) || dv.Label(i) != da.Label(i) {
			t.Fatalf("row %d: view %v label %d, file %v label %d", i, ev, dv.Label(i), ea, da.Label(i))
		}
	}
	wantPanic(t, "out of range", func() { tab.Subset([]int{300}) })
	if e := tab.Subset(nil); e.Len() != 0 || e.Columns()[1].Missing() != 0 {
		t.Errorf("empty view: %d rows", e.Len())
	}
}

// A Subset stores row numbers, not values: a view of all 50 000 rows of
// ten numeric columns (2 MB of values) allocates about its 200 kB of row
// numbers.
func TestSubsetSharesValues(t *testing.T) {
	var b strings.Builder
	b.WriteString("a,b,c,d,e,f,g,h,i,j\n")
	for i := range 50000 {
		fmt.Fprintf(&b, "%d,1,2,3,4,5,6,7,8,%d\n", i, i%3)
	}
	tab := readString(t, b.String(), nil)
	idx := make([]int, tab.Len())
	for i := range idx {
		idx[i] = i
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	sub := tab.Subset(idx)
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 300_000 {
		t.Errorf("Subset of 50 000 rows × 10 columns allocated %d bytes, want ≤ 300 000 (a view)", got)
	}
	if sub.Columns()[0].Float(49999) != 49999 {
		t.Errorf("last row %v", sub.Columns()[0].Float(49999))
	}
}
