package data

import (
	"slices"
	"strings"
	"testing"
)

// Several regression targets: one output each, each standardised on its
// own, back in its units with Unscale; they are not features.
func TestSeveralTargets(t *testing.T) {
	tab := readString(t, "x,a,b,id\n1,10,100,p\n2,20,300,q\n3,30,500,r\n4,40,700,s\n", nil)
	opt := FitOptions{Targets: []string{"a", "b"}, Ignore: []string{"id"}, ScaleTarget: true}
	p, err := Fit(tab, opt)
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind != Regression || p.Outputs() != 2 || p.Inputs() != 1 || !slices.Equal(p.Targets(), []string{"a", "b"}) {
		t.Fatalf("%+v: %d outputs, %d inputs", p, p.Outputs(), p.Inputs())
	}
	if p.TargetMean != 25 || p.ExtraTargets[0].Mean != 400 || p.ExtraTargets[0].Std != 2*p.TargetStd*10 {
		t.Errorf("scales: a %v ± %v, b %+v", p.TargetMean, p.TargetStd, p.ExtraTargets[0])
	}
	ds, err := p.Dataset(tab)
	if err != nil {
		t.Fatal(err)
	}
	y := slices.Clone(ds.Targets())
	if ds.Outputs() != 2 || y[0] != y[1] || y[6] != y[7] || !(y[0] < 0 && y[6] > 0) {
		t.Errorf("scaled targets %v (a and b move alike)", y)
	}
	p.Unscale(y)
	for i, want := range []float32{10, 100, 20, 300, 30, 500, 40, 700} {
		if d := y[i] - want; d > 1e-4*want || d < -1e-4*want {
			t.Errorf("unscaled %v", y)
			break
		}
	}
	q := jsonRoundTrip(t, p, tab, `"extra_targets":[{"name":"b","mean":400`)
	if q.Outputs() != 2 {
		t.Errorf("decoded: %d outputs", q.Outputs())
	}
	// Prediction rows need neither target; evaluation rows need both.
	pred := readString(t, "x,id\n5,t\n", p.CSVOptions(nil))
	if err := p.Transform(make([]float32, 1), pred); err != nil {
		t.Error(err)
	}
	_, err = p.Dataset(readString(t, "x,a,id\n5,50,t\n", p.CSVOptions(nil)))
	wantErr(t, err, ErrColumns, `missing column "b" (the target)`, `the targets "a", "b"`)
}

func TestSeveralTargetsErrors(t *testing.T) {
	tab := readString(t, "x,a,b,c\n1,10,100,u\n2,20,300,v\n3,30,500,u\n", nil)
	for _, c := range []struct {
		name  string
		opt   FitOptions
		kind  error
		parts []string
	}{
		{"no such", FitOptions{Targets: []string{"a", "z"}}, ErrColumns, []string{`no target column "z"`}},
		{"twice", FitOptions{Targets: []string{"a", "a"}}, ErrColumns, []string{`"a" is named twice`}},
		{"classes", FitOptions{Targets: []string{"a", "b"}, Task: ClassTask}, ErrColumns, []string{"several targets (a, b) are a regression"}},
		{"not a number", FitOptions{Targets: []string{"a", "c"}}, ErrBadValue, []string{`column "c"`, `"u" is not a number`}},
		{"ignored", FitOptions{Targets: []string{"a", "b"}, Ignore: []string{"b"}}, ErrColumns, []string{`"b" cannot be ignored`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Fit(tab, c.opt)
			wantErr(t, err, c.kind, c.parts...)
		})
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "both Target and Targets") {
			t.Errorf("panic %v", r)
		}
	}()
	Fit(tab, FitOptions{Target: "a", Targets: []string{"b"}})
}
