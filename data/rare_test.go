package data

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// rareTable has a colour column with red in 4 rows, blue in 3, and
// green and pink in one each, and a numeric x.
const rareTable = "x,colour,y\n" +
	"1,red,a\n2,red,b\n3,red,a\n4,red,b\n" +
	"5,blue,a\n6,blue,b\n7,blue,a\n" +
	"8,green,b\n9,pink,a\n"

// TestMinCategoryRows: categories in fewer than MinCategoryRows training
// rows share the other input, which also takes unseen ones; the common
// ones keep their own.
func TestMinCategoryRows(t *testing.T) {
	tab := readString(t, rareTable, nil)
	p, err := Fit(tab, FitOptions{MinCategoryRows: 3, Scaling: ScaleNone})
	if err != nil {
		t.Fatal(err)
	}
	f := p.Features[1]
	if !slices.Equal(f.Categories, []string{"blue", "red"}) || !f.Other || f.Inputs() != 3 || p.Inputs() != 4 {
		t.Fatalf("feature %+v, %d inputs", f, p.Inputs())
	}
	if got, want := f.InputNames(), []string{"colour=blue", "colour=red", "colour (other)"}; !slices.Equal(got, want) {
		t.Errorf("input names %q, want %q", got, want)
	}
	later := readString(t, "x,colour\n1,red\n2,blue\n3,green\n4,violet\n", p.CSVOptions(nil))
	x := make([]float32, later.Len()*p.Inputs())
	if err := p.Transform(x, later); err != nil {
		t.Fatal(err)
	}
	want := []float32{
		1, 0, 1, 0, // red
		2, 1, 0, 0, // blue
		3, 0, 0, 1, // green: rare in training
		4, 0, 0, 1, // violet: never seen
	}
	if !slices.Equal(x, want) {
		t.Errorf("inputs\n%v, want\n%v", x, want)
	}

	// Nothing rare: no other input, and an unseen value is no category.
	p, err = Fit(tab, FitOptions{MinCategoryRows: 1, Scaling: ScaleNone})
	if err != nil {
		t.Fatal(err)
	}
	if f := p.Features[1]; f.Other || len(f.Categories) != 4 {
		t.Fatalf("feature %+v", f)
	}
	x = make([]float32, later.Len()*p.Inputs())
	if err := p.Transform(x, later); err != nil {
		t.Fatal(err)
	}
	if got := x[3*5 : 4*5]; !slices.Equal(got, []float32{4, 0, 0, 0, 0}) {
		t.Errorf("an unseen value with nothing grouped: %v, want no category", got)
	}

	// Without grouping an unseen value is an error that lists what the
	// model knows, at most 20 of them.
	p, err = Fit(tab, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Transform(make([]float32, later.Len()*p.Inputs()), later)
	wantErr(t, err, ErrUnseen, "line 5", `"violet"`, "known: blue, green, pink, red", "-min-category")
}

// With every value rare, grouping leaves one constant input: an error
// that names the column — unless blanks set the values apart (the input
// says "a value" against "blank").
func TestMinCategoryRowsAllRare(t *testing.T) {
	_, err := Fit(readString(t, rareTable, nil), FitOptions{MinCategoryRows: 5})
	wantErr(t, err, ErrDegenerate, `"colour"`, "4 values", "fewer than 5 training rows")

	withBlanks := strings.Replace(rareTable, "5,blue", "5,", 1)
	tab := readString(t, withBlanks, &CSVOptions{Missing: true})
	p, err := Fit(tab, FitOptions{MinCategoryRows: 5, FillMissing: true, Scaling: ScaleNone})
	if err != nil {
		t.Fatal(err)
	}
	if f := p.Features[1]; len(f.Categories) != 0 || !f.Other || f.Inputs() != 1 {
		t.Fatalf("feature %+v", f)
	}
	x := make([]float32, tab.Len()*p.Inputs())
	if err := p.Transform(x, tab); err != nil {
		t.Fatal(err)
	}
	if got := []float32{x[3], x[9], x[11]}; !slices.Equal(got, []float32{1, 0, 1}) { // rows 2 (red), 5 (blank), 6 (blue)
		t.Errorf("other inputs %v, want 1 for a value, 0 for the blank", got)
	}
	jsonRoundTrip(t, p, tab, `"other":true`)
}

// An unseen category's error lists the first 20 known ones and the count.
func TestUnseenErrorIsShort(t *testing.T) {
	var b strings.Builder
	b.WriteString("k,y\n")
	for i := range 200 {
		fmt.Fprintf(&b, "v%03d,%d\n", i/2, i%2) // 100 values, two rows each
	}
	p, err := Fit(readString(t, b.String(), nil), FitOptions{Task: ClassTask})
	if err != nil {
		t.Fatal(err)
	}
	later := readString(t, "k\nnew\n", p.CSVOptions(nil))
	err = p.Transform(make([]float32, p.Inputs()), later)
	wantErr(t, err, ErrUnseen, "v000, v001", "v019, … (100 in all)")
	if strings.Contains(err.Error(), "v020") {
		t.Errorf("the error lists more than 20 categories: %v", err)
	}
}

// The grouping survives JSON; Check refuses an other input without
// grouping, a negative minimum and a lone other input.
func TestMinCategoryRowsJSON(t *testing.T) {
	tab := readString(t, rareTable, nil)
	p, err := Fit(tab, FitOptions{MinCategoryRows: 3})
	if err != nil {
		t.Fatal(err)
	}
	jsonRoundTrip(t, p, tab, `"min_category_rows":3`, `"other":true`)
	const target = `"target":"y","target_type":"numeric","kind":"regression"`
	for _, bad := range []string{
		`{"features":[{"name":"x","type":"categorical","categories":["a","b"],"other":true}],` + target + `}`,
		`{"features":[{"name":"x","type":"categorical","categories":["a"],"other":true}],"min_category_rows":-1,` + target + `}`,
		`{"features":[{"name":"x","type":"categorical","categories":["a"]}],"min_category_rows":2,` + target + `}`,
	} {
		var r Preprocessor
		if err := json.Unmarshal([]byte(bad), &r); err != nil {
			t.Fatal(err)
		}
		if err := r.Check(); err == nil {
			t.Errorf("Check accepts %s", bad)
		}
	}
	ok := `{"features":[{"name":"x","type":"categorical","categories":["a"],"other":true}],"min_category_rows":2,` + target + `}`
	var r Preprocessor
	if err := json.Unmarshal([]byte(ok), &r); err != nil {
		t.Fatal(err)
	}
	if err := r.Check(); err != nil || r.Inputs() != 2 {
		t.Errorf("one category and other: %v, %d inputs", err, r.Inputs())
	}
}

// Split moves a validation row with a category no training row has to
// training only when the categories are not grouped.
func TestSplitWithGrouping(t *testing.T) {
	var b strings.Builder
	b.WriteString("k,y\n")
	for i := range 100 {
		fmt.Fprintf(&b, "u%d,%d\n", i, i%2) // every value once
	}
	tab := readString(t, b.String(), nil)
	_, va, err := Split(tab, FitOptions{Task: ClassTask}, 0.2, rand.New(rand.NewPCG(1, 2)))
	if err == nil || va != nil {
		t.Fatalf("without grouping every validation row has an unseen value and moves: %d rows, %v", va.Len(), err)
	}
	tr, va, err := Split(tab, FitOptions{Task: ClassTask, MinCategoryRows: 2}, 0.2, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if tr.Len() != 80 || va.Len() != 20 {
		t.Errorf("with grouping: %d training, %d validation rows; want 80, 20", tr.Len(), va.Len())
	}
}

// Counts counts a view's own rows.
func TestColumnCounts(t *testing.T) {
	tab := readString(t, rareTable, nil)
	c := tab.Column("colour")
	if got := c.Counts(); !slices.Equal(got, []int{4, 3, 1, 1}) || !slices.Equal(c.Levels(), []string{"red", "blue", "green", "pink"}) {
		t.Errorf("counts %v of %v", got, c.Levels())
	}
	sub := tab.Subset([]int{0, 4, 8})
	if got := sub.Column("colour").Counts(); !slices.Equal(got, []int{1, 1, 0, 1}) {
		t.Errorf("subset counts %v", got)
	}
	wantPanic(t, "Counts on the numeric column", func() { tab.Column("x").Counts() })
}
