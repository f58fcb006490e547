package data

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// With CSVOptions.Missing a blank field is a missing value: NaN in a
// numeric column, code −1 in a categorical one, "" as a Value; a column's
// type comes from its first value that is not blank.
func TestReadCSVMissing(t *testing.T) {
	in := "id,x,color,empty,y\n" +
		"1,,,,a\n" +
		"2,2.5,red, ,b\n" +
		"3, ,blue,,a\n" +
		",4,red,,\n"
	tab := readString(t, in, &CSVOptions{Missing: true, Text: []string{"id"}})
	wantType := map[string]ColumnType{"id": Text, "x": Numeric, "color": Categorical, "empty": Numeric, "y": Categorical}
	wantMissing := map[string][]bool{
		"id":    {false, false, false, false}, // text: "" is a value
		"x":     {true, false, true, false},
		"color": {true, false, false, false},
		"empty": {true, true, true, true},
		"y":     {false, false, false, true},
	}
	for name, typ := range wantType {
		c := tab.Column(name)
		if c.Type() != typ {
			t.Errorf("column %q is %v, want %v", name, c.Type(), typ)
		}
		n := 0
		for i, want := range wantMissing[name] {
			if c.IsMissing(i) != want {
				t.Errorf("column %q row %d: missing %v, want %v", name, i, c.IsMissing(i), want)
			}
			if want {
				n++
				if c.Value(i) != "" {
					t.Errorf("column %q row %d: missing value %q, want \"\"", name, i, c.Value(i))
				}
			}
		}
		if c.Missing() != n {
			t.Errorf("column %q: Missing() = %d, want %d", name, c.Missing(), n)
		}
	}
	x, color := tab.Column("x"), tab.Column("color")
	if !math.IsNaN(float64(x.Float(0))) || x.Float(1) != 2.5 || x.Float(3) != 4 {
		t.Errorf("x = %v %v %v", x.Float(0), x.Float(1), x.Float(3))
	}
	if color.Code(0) != -1 || !slices.Equal(color.Levels(), []string{"red", "blue"}) || color.Value(2) != "blue" {
		t.Errorf("color codes %d, levels %v", color.Code(0), color.Levels())
	}
	sub := tab.Subset([]int{3, 0})
	if sub.Column("x").Missing() != 1 || !sub.Column("x").IsMissing(1) || sub.Column("color").Missing() != 1 {
		t.Errorf("subset: x missing %d, color missing %d", sub.Column("x").Missing(), sub.Column("color").Missing())
	}
	// Without the option, the same blanks are errors; so is a category of
	// spaces alone.
	_, err := ReadCSV(strings.NewReader(in), "t.csv", &CSVOptions{Text: []string{"id"}})
	wantErr(t, err, ErrMissing, "t.csv: line 2", `column "x"`, "-missing mean")
	_, err = ReadCSV(strings.NewReader("a,b\nx,1\n  ,2\n"), "t.csv", nil)
	wantErr(t, err, ErrMissing, "line 3", `column "a"`)
}

// FillMissing fits on the values that are there and encodes a missing
// value as the training mean (0) or no category, in every later table too
// (the choice survives JSON).
func TestFitFillMissing(t *testing.T) {
	in := "x,color,y\n1,red,3\n,blue,5\n3,,7\n5,red,9\n"
	opt := &CSVOptions{Missing: true}
	p, err := Fit(readString(t, in, opt), FitOptions{Scaling: ScaleEach, FillMissing: true})
	if err != nil {
		t.Fatal(err)
	}
	// x over 1, 3, 5: mean 3, population std √(8/3).
	if f := p.Features[0]; f.Mean != 3 || math.Abs(f.Std-math.Sqrt(8.0/3)) > 1e-12 {
		t.Errorf("x: mean %v std %v", f.Mean, f.Std)
	}
	if !slices.Equal(p.Features[1].Categories, []string{"blue", "red"}) {
		t.Errorf("categories %v", p.Features[1].Categories)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var q Preprocessor
	if err := json.Unmarshal(b, &q); err != nil {
		t.Fatal(err)
	}
	if err := q.Check(); err != nil {
		t.Fatal(err)
	}
	if !q.FillMissing || !q.CSVOptions(nil).Missing {
		t.Fatalf("after JSON: FillMissing %v, CSVOptions.Missing %v", q.FillMissing, q.CSVOptions(nil).Missing)
	}
	tab := readString(t, "x,color\n,\n3,blue\n", q.CSVOptions(nil))
	got := make([]float32, 2*q.Inputs())
	for i := range got {
		got[i] = 42 // Transform must write every input
	}
	if err := q.Transform(got, tab); err != nil {
		t.Fatal(err)
	}
	if want := []float32{0, 0, 0, 0, 1, 0}; !slices.Equal(got, want) {
		t.Errorf("inputs %v, want %v", got, want)
	}
}

// A missing value stands for the training mean whatever the scaling:
// with ScaleNone (no centring, Mean 0) too, not for 0.
func TestFillMissingEveryScaling(t *testing.T) {
	in := "x,y\n10,a\n,b\n20,a\n30,b\n"
	for _, sc := range []FeatureScaling{ScaleEach, ScaleJoint, ScaleNone} {
		p, err := Fit(readString(t, in, &CSVOptions{Missing: true}), FitOptions{Scaling: sc, FillMissing: true})
		if err != nil {
			t.Fatal(err)
		}
		f := p.Features[0]
		if f.Fill == nil || *f.Fill != 20 {
			t.Fatalf("%v: fill %v, want the mean 20", sc, f.Fill)
		}
		x := make([]float32, 2)
		if err := p.Transform(x, readString(t, "x,y\n,a\n20,b\n", p.CSVOptions(nil))); err != nil {
			t.Fatal(err)
		}
		if x[0] != x[1] {
			t.Errorf("%v: a blank encodes as %v, the mean 20 as %v", sc, x[0], x[1])
		}
	}
	// A decoded preprocessor must say what to fill in, and only then.
	p, err := Fit(readString(t, in, &CSVOptions{Missing: true}), FitOptions{FillMissing: true})
	if err != nil {
		t.Fatal(err)
	}
	p.Features[0].Fill = nil
	if err := p.Check(); err == nil || !strings.Contains(err.Error(), "no fill value") {
		t.Errorf("no fill value: %v", err)
	}
	nan := math.NaN()
	p.Features[0].Fill = &nan
	if err := p.Check(); err == nil || !strings.Contains(err.Error(), "fill value NaN") {
		t.Errorf("NaN fill value: %v", err)
	}
	p.Features[0].Fill, p.FillMissing = new(float64), false
	if err := p.Check(); err == nil || !strings.Contains(err.Error(), "not to be filled in") {
		t.Errorf("a fill value without FillMissing: %v", err)
	}
}

// Missing values that cannot be used are errors naming the row.
func TestMissingErrors(t *testing.T) {
	opt := &CSVOptions{Missing: true}
	in := "x,y\n1,a\n,b\n3,a\n4,b\n"
	_, err := Fit(readString(t, in, opt), FitOptions{})
	wantErr(t, err, ErrMissing, "t.csv: line 3", `column "x"`, "1 missing values", "-missing mean")

	_, err = Fit(readString(t, "x,z,y\n1,,a\n2,,b\n", opt), FitOptions{FillMissing: true})
	wantErr(t, err, ErrMissing, `column "z"`, "no values")

	blankTarget := readString(t, "x,y\n1,a\n2,b\n3,\n4,a\n", opt)
	_, err = Fit(blankTarget, FitOptions{FillMissing: true})
	wantErr(t, err, ErrMissing, "line 4", `column "y"`, "target is missing")
	_, _, err = Split(blankTarget, FitOptions{}, 0.5, rand.New(rand.NewPCG(1, 2)))
	wantErr(t, err, ErrMissing, "line 4", "target is missing")

	p, err := Fit(readString(t, "x,y\n1,2\n2,4\n3,5\n", nil), FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Dataset(readString(t, "x,y\n1,2\n2,\n", opt))
	wantErr(t, err, ErrMissing, "line 3", `column "y"`, "target is missing")
	_, err = p.Dataset(readString(t, "x,y\n1,2\n,3\n", opt))
	wantErr(t, err, ErrMissing, "line 3", `column "x"`, "trained without filling them in")
}

// A validation row whose category is missing stays in validation: missing
// is no unseen category.
func TestSplitKeepsMissingCategories(t *testing.T) {
	in := "c,y\n,a\n,b\n,a\n,b\nu,a\nu,b\nv,a\nv,b\n"
	tab := readString(t, in, &CSVOptions{Missing: true})
	tr, va, err := Split(tab, FitOptions{}, 0.5, rand.New(rand.NewPCG(3, 4)))
	if err != nil {
		t.Fatal(err)
	}
	if tr.Len()+va.Len() != 8 || va.Len() == 0 {
		t.Fatalf("%d training, %d validation rows", tr.Len(), va.Len())
	}
	if _, err := Fit(tr, FitOptions{FillMissing: true}); err != nil {
		t.Fatal(err)
	}
}

// Inputs beyond MaxInputBytes are an error before anything is allocated,
// naming the categorical column that makes them so many.
func TestCheckSize(t *testing.T) {
	var b strings.Builder
	b.WriteString("x,city,y\n")
	for i := range 400 {
		fmt.Fprintf(&b, "%d,c%d,%d\n", i, i%150, i%2)
	}
	tab := readString(t, b.String(), nil)
	p, err := Fit(tab, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer func(m int64) { MaxInputBytes = m }(MaxInputBytes)
	MaxInputBytes = 400 * 151 * 4 // exactly fits
	if _, err := p.Dataset(tab); err != nil {
		t.Fatalf("at the bound: %v", err)
	}
	MaxInputBytes--
	ds, err := p.Dataset(tab)
	if ds != nil {
		t.Error("a dataset and an error")
	}
	wantErr(t, err, ErrTooLarge, "400 rows × 151 inputs", `feature "city" has 150 categories`, "-ignore city")

	numeric, err := Fit(readString(t, "a,b,y\n1,2,x\n3,5,y\n", nil), FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	MaxInputBytes = 8
	_, err = numeric.Dataset(readString(t, "a,b,y\n1,2,x\n3,5,y\n", nil))
	wantErr(t, err, ErrTooLarge, "2 rows × 2 inputs", "raise data.MaxInputBytes")
}

// A file of another separator read with commas has one column: errors
// about missing columns say which separator it seems to have.
func TestSeparatorHint(t *testing.T) {
	tab := readString(t, "a;b;y\n1;2;x\n3;4;y\n", nil)
	_, err := Fit(tab, FitOptions{Target: "y"})
	wantErr(t, err, ErrColumns, `no target column "y"`, `separated by ";"`, "-sep ';'")
	p, err := Fit(readString(t, "a,b,y\n1,2,x\n3,4,y\n", nil), FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Dataset(readString(t, "a\tb\ty\n1\t2\tx\n", nil))
	wantErr(t, err, ErrColumns, `missing column "a", "b"`, `separated by "\t"`, `-sep '\t'`)
	if h := readString(t, "a b\n1\n", nil).SeparatorHint(); h != "" {
		t.Errorf("a single column without a separator in its name: hint %q", h)
	}
}
