package data

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func iris(t *testing.T) *Table {
	t.Helper()
	tab, err := LoadCSV(filepath.Join("testdata", "tables", "iris.csv"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func TestFitClassification(t *testing.T) {
	tab := readString(t, "id,x,color,label\na,1,red,cat\nb,3,blue,dog\nc,5,red,cat\nd,7,green,bird\n", nil)
	p, err := Fit(tab, FitOptions{Ignore: []string{"id"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind != Classification || p.Target != "label" || !slices.Equal(p.Classes, []string{"bird", "cat", "dog"}) ||
		!slices.Equal(p.Ignored, []string{"id"}) {
		t.Fatalf("%+v", p)
	}
	// x: mean 4, population std √5; color: blue, green, red one-hot.
	if p.Inputs() != 4 || p.Outputs() != 3 {
		t.Fatalf("%d inputs, %d outputs", p.Inputs(), p.Outputs())
	}
	ds, err := p.Dataset(tab)
	if err != nil {
		t.Fatal(err)
	}
	s5 := math.Sqrt(5)
	want := []float32{
		float32(-3 / s5), 0, 0, 1,
		float32(-1 / s5), 1, 0, 0,
		float32(1 / s5), 0, 0, 1,
		float32(3 / s5), 0, 1, 0,
	}
	if ds.Kind() != Classification || ds.Len() != 4 || ds.Features() != 4 {
		t.Fatalf("%v dataset of %d×%d", ds.Kind(), ds.Len(), ds.Features())
	}
	for i := range 4 {
		if got := ds.Example(i, make([]float32, 4)); !slices.Equal(got, want[4*i:4*i+4]) {
			t.Errorf("row %d = %v, want %v", i, got, want[4*i:4*i+4])
		}
	}
	if got := []int{ds.Label(0), ds.Label(1), ds.Label(2), ds.Label(3)}; !slices.Equal(got, []int{1, 2, 1, 0}) {
		t.Errorf("labels %v", got)
	}
}

// TestFitRawFeatures checks that ScaleNone passes numeric features
// through unchanged (mean 0, standard deviation 1), still one-hot encodes
// categories, and still rejects a constant feature.
func TestFitRawFeatures(t *testing.T) {
	tab := readString(t, "x,color,label\n1.5,red,cat\n3,blue,dog\n-5,red,cat\n7.25,green,bird\n", nil)
	p, err := Fit(tab, FitOptions{Scaling: ScaleNone})
	if err != nil {
		t.Fatal(err)
	}
	if f := p.Features[0]; f.Mean != 0 || f.Std != 1 {
		t.Fatalf("raw feature x has mean %v, std %v; want 0, 1", f.Mean, f.Std)
	}
	ds, err := p.Dataset(tab)
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{1.5, 0, 0, 1, 3, 1, 0, 0, -5, 0, 0, 1, 7.25, 0, 1, 0}
	for i := range 4 {
		if got := ds.Example(i, make([]float32, 4)); !slices.Equal(got, want[4*i:4*i+4]) {
			t.Errorf("row %d = %v, want %v", i, got, want[4*i:4*i+4])
		}
	}
	constant := readString(t, "x,y,label\n1,2,a\n1,3,b\n", nil)
	if _, err := Fit(constant, FitOptions{Scaling: ScaleNone}); !errors.Is(err, ErrDegenerate) {
		t.Errorf("a constant raw feature: err %v, want ErrDegenerate", err)
	}
}

// TestFitScaling checks each FeatureScaling's means and scales against
// the columns' own statistics, and that ScaleAuto scales jointly exactly
// when the numeric spreads are within JointSpreadRatio of each other
// (categorical features do not count).
func TestFitScaling(t *testing.T) {
	// a: values 0, 2 (mean 1, std 1); b: 10, 10+2r (mean 10+r, std r).
	table := func(r float64) *Table {
		return readString(t, fmt.Sprintf("a,color,b,label\n0,red,10,x\n2,blue,%v,y\n", 10+2*r), nil)
	}
	type want struct {
		scaling                  FeatureScaling
		meanA, stdA, meanB, stdB float64
	}
	joint := func(r float64) float64 { return math.Sqrt((1 + r*r) / 2) }
	for _, tc := range []struct {
		s FeatureScaling
		r float64
		w want
	}{
		{ScaleEach, 3, want{ScaleEach, 1, 1, 13, 3}},
		{ScaleJoint, 3, want{ScaleJoint, 1, joint(3), 13, joint(3)}},
		{ScaleNone, 3, want{ScaleNone, 0, 1, 0, 1}},
		{ScaleAuto, 3, want{ScaleJoint, 1, joint(3), 13, joint(3)}},
		{ScaleAuto, JointSpreadRatio, want{ScaleJoint, 1, joint(JointSpreadRatio), 10 + JointSpreadRatio, joint(JointSpreadRatio)}},
		{ScaleAuto, 1.01 * JointSpreadRatio, want{ScaleEach, 1, 1, 10 + 1.01*JointSpreadRatio, 1.01 * JointSpreadRatio}},
		{ScaleAuto, 1 / (1.01 * JointSpreadRatio), want{ScaleEach, 1, 1, 10 + 1/(1.01*JointSpreadRatio), 1 / (1.01 * JointSpreadRatio)}},
	} {
		p, err := Fit(table(tc.r), FitOptions{Scaling: tc.s})
		if err != nil {
			t.Fatal(err)
		}
		a, b := p.Features[0], p.Features[2]
		got := want{p.Scaling(), a.Mean, a.Std, b.Mean, b.Std}
		close := func(x, y float64) bool { return math.Abs(x-y) <= 1e-5*math.Max(1, math.Abs(y)) }
		if got.scaling != tc.w.scaling || !close(got.meanA, tc.w.meanA) || !close(got.stdA, tc.w.stdA) ||
			!close(got.meanB, tc.w.meanB) || !close(got.stdB, tc.w.stdB) {
			t.Errorf("%v, spread ratio %v: got %+v, want %+v", tc.s, tc.r, got, tc.w)
		}
		if c := p.Features[1]; c.Type != Categorical || c.Mean != 0 || c.Std != 0 {
			t.Errorf("%v: the categorical feature became %+v", tc.s, c)
		}
	}
	if s, err := ParseFeatureScaling("joint"); err != nil || s != ScaleJoint {
		t.Errorf(`ParseFeatureScaling("joint") = %v, %v`, s, err)
	}
	if _, err := ParseFeatureScaling("true"); err == nil {
		t.Error(`ParseFeatureScaling("true"): no error`)
	}
}

func TestFitIntegerClassesAndRegression(t *testing.T) {
	tab := readString(t, "x,y\n1,10\n2,2\n3,10\n4,2\n", nil)
	p, err := Fit(tab, FitOptions{Task: RegressionTask})
	if err != nil || p.Kind != Regression || p.TargetStd != 0 {
		t.Fatalf("regression on a numeric target: %+v, %v", p, err)
	}
	ds, _ := p.Dataset(tab)
	if ds.Kind() != Regression || ds.Outputs() != 1 || ds.Targets()[1] != 2 {
		t.Errorf("%v, %v", ds.Kind(), ds.Targets())
	}
	// Auto: two whole numbers are classes (a yes/no outcome); more values,
	// or a fraction, are regression.
	for _, c := range []struct {
		ys   string
		want Kind
	}{
		{"10,2,10,2", Classification},
		{"1,0,,0", Classification}, // a blank is no value
		{"1,0,2,0", Regression},
		{"1,0.5,1,0.5", Regression},
		{"3,3,3,3", Regression},
	} {
		in := "x,y\n"
		for i, y := range strings.Split(c.ys, ",") {
			in += fmt.Sprintf("%d,%s\n", i, y)
		}
		tab := readString(t, in, &CSVOptions{Missing: true})
		target, kind, err := (&FitOptions{}).resolve(tab)
		if err != nil || target.Name() != "y" || kind != c.want {
			t.Errorf("auto on y = %s: %v, %v; want %v", c.ys, kind, err, c.want)
		}
	}

	p, err = Fit(tab, FitOptions{Task: RegressionTask, ScaleTarget: true})
	if err != nil || p.TargetMean != 6 || p.TargetStd != 4 {
		t.Fatalf("scaled: %+v, %v", p, err)
	}
	ds, _ = p.Dataset(tab)
	y := slices.Clone(ds.Targets())
	if !slices.Equal(y, []float32{1, -1, 1, -1}) {
		t.Errorf("scaled targets %v", y)
	}
	p.Unscale(y)
	if !slices.Equal(y, []float32{10, 2, 10, 2}) {
		t.Errorf("unscaled %v", y)
	}

	// Integer labels as classes, sorted by number (2 before 10).
	p, err = Fit(tab, FitOptions{Task: ClassTask})
	if err != nil || !slices.Equal(p.Classes, []string{"2", "10"}) {
		t.Fatalf("classes %v, %v", p.Classes, err)
	}
	ds, _ = p.Dataset(tab)
	if ds.Label(0) != 1 || ds.Label(1) != 0 {
		t.Errorf("labels %d %d", ds.Label(0), ds.Label(1))
	}
}

func TestFitErrors(t *testing.T) {
	cases := []struct {
		name, in string
		opt      FitOptions
		kind     error
		parts    []string
	}{
		{"no target", "a,b\n1,2\n2,3\n", FitOptions{Target: "price"}, ErrColumns, []string{`no target column "price"`, `"a", "b"`}},
		{"no ignored", "a,b\n1,2\n2,3\n", FitOptions{Ignore: []string{"id"}}, ErrColumns, []string{`no column "id" to ignore`}},
		{"ignore target", "a,b\n1,2\n2,3\n", FitOptions{Ignore: []string{"b"}}, ErrColumns, []string{"cannot be ignored"}},
		{"one class", "a,b\n1,x\n2,x\n", FitOptions{}, ErrDegenerate, []string{`single class "x"`, `"b"`}},
		{"constant", "a,c,b\n1,5,x\n2,5,y\n", FitOptions{}, ErrDegenerate, []string{`column "c"`, "same value 5", "ignore the column"}},
		{"constant category", "a,c,b\n1,k,x\n2,k,y\n", FitOptions{}, ErrDegenerate, []string{`column "c"`, `"k"`}},
		{"constant target", "a,b\n1,3\n2,3\n", FitOptions{ScaleTarget: true}, ErrDegenerate, []string{`target column "b"`}},
		{"string regression", "a,b\n1,x\n2,y\n", FitOptions{Task: RegressionTask}, ErrBadValue, []string{"line 2", `"x" is not a number`}},
		{"identifier", "name,x,y\n" + idRows(25), FitOptions{}, ErrDegenerate, []string{`column "name"`, "identifier", "ignore the column"}},
		{"no features", "id,b\n1,x\n2,y\n", FitOptions{Ignore: []string{"id"}}, ErrColumns, []string{"no feature columns"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Fit(readString(t, c.in, nil), c.opt)
			if p != nil {
				t.Error("a preprocessor and an error")
			}
			wantErr(t, err, c.kind, c.parts...)
		})
	}
}

func TestApplyErrors(t *testing.T) {
	train := readString(t, "id,x,color,label\na,1,red,cat\nb,3,blue,dog\nc,5,red,cat\n", nil)
	p, err := Fit(train, FitOptions{Ignore: []string{"id"}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, in string
		kind     error
		parts    []string
	}{
		{"unseen category", "id,x,color,label\na,1,red,cat\nb,2,purple,dog\n", ErrUnseen, []string{"t.csv: line 3", `column "color"`, `"purple"`, "blue, red"}},
		{"unseen class", "id,x,color,label\na,1,red,cat\nb,2,blue,cow\n", ErrUnseen, []string{"line 3", `column "label"`, `class "cow"`}},
		{"missing column", "id,color,label\na,red,cat\n", ErrColumns, []string{`missing column "x"`}},
		{"missing target", "id,x,color\na,1,red\n", ErrColumns, []string{`"label" (the target)`}},
		{"extra column", "id,x,color,label,z\na,1,red,cat,3\n", ErrColumns, []string{`column "z" was not in the training data`}},
		{"type changed", "id,x,color,label\na,one,red,cat\n", ErrColumns, []string{`column "x" is categorical here`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tab := readString(t, c.in, p.CSVOptions(nil))
			ds, err := p.Dataset(tab)
			if ds != nil {
				t.Error("a dataset and an error")
			}
			wantErr(t, err, c.kind, c.parts...)
		})
	}
	none := train.Subset(nil)
	if _, err := p.Dataset(none); err == nil {
		t.Error("a dataset of no rows")
	}
	if _, err := Fit(none, FitOptions{}); err == nil {
		t.Error("fitted on no rows")
	}
	// For prediction the target may be missing, ignored columns too, and a
	// text column is carried along.
	tab := readString(t, "x,color,key\n4,blue,k1\n", p.CSVOptions(&CSVOptions{Text: []string{"key"}}))
	x := make([]float32, p.Inputs())
	if err := p.Transform(x, tab); err != nil {
		t.Fatal(err)
	}
	if x[1] != 1 || x[2] != 0 {
		t.Errorf("inputs %v", x)
	}
	// The ignored ID column is read as text: an empty ID is no error.
	tab = readString(t, "id,x,color\n,4,blue\n", p.CSVOptions(nil))
	if tab.Column("id").Type() != Text {
		t.Errorf("the ignored column is %v", tab.Column("id").Type())
	}
	if err := p.Transform(x, tab); err != nil {
		t.Fatal(err)
	}
}

// A preprocessor survives JSON and applies the same way after it.
func TestPreprocessorJSON(t *testing.T) {
	tab := iris(t)
	p, err := Fit(tab, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	jsonRoundTrip(t, p, tab, `"kind":"classification"`, `"type":"numeric"`)
	for _, bad := range []string{
		`{}`,
		`{"features":[{"name":"x","type":"numeric","std":0}],"target":"y","target_type":"numeric","kind":"regression"}`,
		`{"features":[{"name":"x","type":"categorical","categories":["a","a"]}],"target":"y","target_type":"numeric","kind":"regression"}`,
		`{"features":[{"name":"x","type":"numeric","std":1}],"target":"y","target_type":"categorical","kind":"classification","classes":["a"]}`,
		`{"features":[{"name":"y","type":"numeric","std":1}],"target":"y","target_type":"numeric","kind":"regression"}`,
		`{"features":[{"name":"x","type":"numeric","std":1}],"target":"y","target_type":"numeric","kind":"classification","classes":["a","b"]}`,
		`{"features":[{"name":"x","type":"numeric","std":1}],"target":"y","target_type":"numeric","kind":"classification","classes":["10","2"]}`,
	} {
		var r Preprocessor
		if err := json.Unmarshal([]byte(bad), &r); err == nil {
			if err := r.Check(); err == nil {
				t.Errorf("Check accepts %s", bad)
			}
		}
	}
}

func TestSplitStratified(t *testing.T) {
	tab := iris(t)
	tr, va, err := Split(tab, FitOptions{}, 0.2, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if tr.Len() != 120 || va.Len() != 30 {
		t.Fatalf("%d + %d rows", tr.Len(), va.Len())
	}
	count := func(tab *Table) map[string]int {
		m := map[string]int{}
		for i := range tab.Len() {
			m[tab.Column("species").Value(i)]++
		}
		return m
	}
	for k, n := range count(va) {
		if n != 10 {
			t.Errorf("validation has %d of %s, want 10", n, k)
		}
	}
	// Every row lands in exactly one part, in file order, with its line.
	seen := map[int]bool{}
	for _, part := range []*Table{tr, va} {
		for i := range part.Len() {
			l := part.Line(i)
			if seen[l] || (i > 0 && l <= part.Line(i-1)) {
				t.Fatalf("line %d twice or out of order", l)
			}
			seen[l] = true
			if got, want := part.Column("sepal_length").Float(i), tab.Column("sepal_length").Float(l-2); got != want {
				t.Fatalf("line %d: %v, want %v", l, got, want)
			}
		}
	}
	// A class of one row stays in training, even at half.
	small := readString(t, "x,y\n1,a\n2,a\n3,b\n", nil)
	tr1, va1, err := Split(small, FitOptions{}, 0.5, rand.New(rand.NewPCG(1, 2)))
	if err != nil || tr1.Len() != 2 || va1.Len() != 1 || va1.Column("y").Value(0) != "a" {
		t.Errorf("one-row class: %v", err)
	}
	// A category that only validation rows would have moves to training.
	rare := readString(t, "x,c,y\n1,u,1\n2,u,2\n3,u,3\n4,v,4\n5,u,5\n6,u,6\n7,u,7\n8,u,8\n", nil)
	for seed := range uint64(20) {
		tr, va, err := Split(rare, FitOptions{}, 0.5, rand.New(rand.NewPCG(seed, 1)))
		if err != nil || tr.Len()+va.Len() != 8 || va.Len() < 3 {
			t.Fatalf("seed %d: %v", seed, err)
		}
		p, err := Fit(tr, FitOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Dataset(va); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
	// Same seed, same split; another seed, another.
	tr2, _, _ := Split(tab, FitOptions{}, 0.2, rand.New(rand.NewPCG(1, 2)))
	tr3, _, _ := Split(tab, FitOptions{}, 0.2, rand.New(rand.NewPCG(3, 4)))
	same := func(a, b *Table) bool {
		for i := range a.Len() {
			if a.Line(i) != b.Line(i) {
				return false
			}
		}
		return true
	}
	if !same(tr, tr2) || same(tr, tr3) {
		t.Error("the split is not a function of the seed")
	}
}

func TestSplitRegressionAndErrors(t *testing.T) {
	tab := readString(t, "x,y\n1,1\n2,2\n3,3\n4,4\n5,5\n6,6\n7,7\n8,8\n9,9\n10,10\n", nil)
	tr, va, err := Split(tab, FitOptions{}, 0.3, rand.New(rand.NewPCG(5, 6)))
	if err != nil || tr.Len() != 7 || va.Len() != 3 {
		t.Fatalf("%v", err)
	}
	for _, f := range []float64{0, 1, -0.5, math.NaN()} {
		_, _, err := Split(tab, FitOptions{}, f, rand.New(rand.NewPCG(5, 6)))
		if err == nil || !strings.Contains(err.Error(), "fraction") {
			t.Errorf("fraction %v: %v", f, err)
		}
	}
	_, _, err = Split(tab, FitOptions{}, 0.01, rand.New(rand.NewPCG(5, 6)))
	wantErr(t, err, ErrEmpty, "0 for validation")
	_, _, err = Split(tab, FitOptions{Target: "z"}, 0.5, rand.New(rand.NewPCG(5, 6)))
	wantErr(t, err, ErrColumns, `no target column "z"`)
}

func TestTaskNames(t *testing.T) {
	for _, task := range []Task{AutoTask, ClassTask, RegressionTask} {
		if got, err := ParseTask(task.String()); err != nil || got != task {
			t.Errorf("%v: %v, %v", task, got, err)
		}
	}
	// The command's -task values: auto | classify | regress.
	for name, want := range map[string]Task{"classify": ClassTask, "class": ClassTask, "regress": RegressionTask} {
		if got, err := ParseTask(name); err != nil || got != want {
			t.Errorf("%q: %v, %v; want %v", name, got, err, want)
		}
	}
	if _, err := ParseTask("clustering"); err == nil {
		t.Error("unknown task accepted")
	}
}

// idRows returns n CSV rows "idI,I,a|b" for a table name,x,y.
func idRows(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "id%d,%d,%c\n", i, i, 'a'+i%2)
	}
	return b.String()
}

// jsonRoundTrip encodes p as JSON, checks that the JSON has every part,
// decodes and checks it, and checks that the decoded preprocessor encodes
// tab as p does.
func jsonRoundTrip(t *testing.T, p *Preprocessor, tab *Table, parts ...string) *Preprocessor {
	t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range parts {
		if !strings.Contains(string(b), part) {
			t.Errorf("JSON %s has no %s", b, part)
		}
	}
	var q Preprocessor
	if err := json.Unmarshal(b, &q); err != nil {
		t.Fatal(err)
	}
	if err := q.Check(); err != nil {
		t.Fatal(err)
	}
	a, _ := p.Dataset(tab)
	c, err := q.Dataset(tab)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Values(), c.Values()) || !slices.Equal(a.Labels(), c.Labels()) || q.Inputs() != p.Inputs() {
		t.Error("the decoded preprocessor encodes differently")
	}
	return &q
}
