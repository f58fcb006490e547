package data

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// rowKeys returns the file lines of t's rows (unique per row of a file).
func rowKeys(t *Table) []int {
	var lines []int
	for i := range t.Len() {
		lines = append(lines, t.Line(i))
	}
	return lines
}

// Every row is tested exactly once, never in the round it trains on, and
// each fold of Iris has 10 of each species.
func TestKFoldIris(t *testing.T) {
	tab := iris(t)
	folds, err := KFold(tab, FitOptions{}, 5, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	tested := map[int]int{}
	for f, fold := range folds {
		if fold.Test.Len() != 30 || fold.Train.Len() != 120 || fold.Moved != 0 {
			t.Errorf("fold %d: %d test, %d training rows, %d moved", f, fold.Test.Len(), fold.Train.Len(), fold.Moved)
		}
		counts := fold.Test.Column("species").Counts()
		if !slices.Equal(counts, []int{10, 10, 10}) {
			t.Errorf("fold %d: species %v", f, counts)
		}
		train := rowKeys(fold.Train)
		if !slices.IsSorted(train) || !slices.IsSorted(rowKeys(fold.Test)) {
			t.Errorf("fold %d: rows out of file order", f)
		}
		for _, l := range rowKeys(fold.Test) {
			tested[l]++
			if _, found := slices.BinarySearch(train, l); found {
				t.Errorf("fold %d: line %d both trains and tests", f, l)
			}
		}
	}
	if len(tested) != 150 {
		t.Errorf("%d rows tested", len(tested))
	}
	for l, n := range tested {
		if n != 1 {
			t.Errorf("line %d tested %d times", l, n)
		}
	}
	again, _ := KFold(tab, FitOptions{}, 5, rand.New(rand.NewPCG(1, 2)))
	other, _ := KFold(tab, FitOptions{}, 5, rand.New(rand.NewPCG(3, 4)))
	if !slices.Equal(rowKeys(again[2].Test), rowKeys(folds[2].Test)) || slices.Equal(rowKeys(other[2].Test), rowKeys(folds[2].Test)) {
		t.Error("the folds are not a function of the seed")
	}
}

// Regression folds differ in size by at most one row.
func TestKFoldRegression(t *testing.T) {
	tab := readString(t, "x,y\n1,2\n2,3\n3,5\n4,4\n5,6\n6,8\n7,7\n8,9\n9,11\n10,10\n", nil)
	folds, err := KFold(tab, FitOptions{}, 3, rand.New(rand.NewPCG(5, 6)))
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, f := range folds {
		sizes = append(sizes, f.Test.Len())
		if f.Train.Len()+f.Test.Len() != 10 {
			t.Errorf("%d + %d rows", f.Train.Len(), f.Test.Len())
		}
	}
	if slices.Sort(sizes); !slices.Equal(sizes, []int{3, 3, 4}) {
		t.Errorf("fold sizes %v", sizes)
	}
	for _, c := range []struct {
		k    int
		part string
	}{{1, "1 folds"}, {11, "10 rows cannot make 11 folds"}} {
		if _, err := KFold(tab, FitOptions{}, c.k, rand.New(rand.NewPCG(5, 6))); err == nil || !strings.Contains(err.Error(), c.part) {
			t.Errorf("k = %d: %v", c.k, err)
		}
	}
}

// A row whose class or category no other fold has trains in its round
// instead of being tested; with grouped categories a category does not
// move it.
func TestKFoldMovesWhatCannotBeEncoded(t *testing.T) {
	var b strings.Builder
	b.WriteString("c,x,y\n")
	for i := range 40 {
		fmt.Fprintf(&b, "%s,%d,%s\n", []string{"u", "v"}[i%2], i, []string{"a", "b"}[i/2%2])
	}
	b.WriteString("w,40,a\n")   // a category in one row
	b.WriteString("u,41,odd\n") // a class in one row
	tab := readString(t, b.String(), nil)
	folds, err := KFold(tab, FitOptions{}, 4, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	moved, tested := 0, 0
	for _, f := range folds {
		moved += f.Moved
		tested += f.Test.Len()
		for i := range f.Test.Len() {
			if v := f.Test.Column("c").Value(i); v == "w" {
				t.Error("the one-row category is tested")
			}
			if v := f.Test.Column("y").Value(i); v == "odd" {
				t.Error("the one-row class is tested")
			}
		}
	}
	if moved != 2 || tested != 40 {
		t.Errorf("%d moved, %d tested; want 2, 40", moved, tested)
	}
	folds, err = KFold(tab, FitOptions{MinCategoryRows: 2}, 4, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	moved = 0
	for _, f := range folds {
		moved += f.Moved
	}
	if moved != 1 {
		t.Errorf("with grouping %d moved; want 1 (the class)", moved)
	}
}

// When every validation or test row has a value no training row has, the
// error names the columns, most to blame first, and what to do.
func TestSplitNamesTheColumnsOfUnseenValues(t *testing.T) {
	var b strings.Builder
	b.WriteString("name,room,x,y\n")
	for i := range 30 {
		fmt.Fprintf(&b, "n%d,r%d,%d,%d\n", i, i%20, i, i%2) // every name once; rooms once or twice
	}
	tab := readString(t, b.String(), nil)
	_, _, err := Split(tab, FitOptions{Task: ClassTask}, 0.2, rand.New(rand.NewPCG(1, 2)))
	wantErr(t, err, ErrEmpty, "no validation rows left", `"name"`, "-ignore name", "-min-category")
	if i, j := strings.Index(err.Error(), `"name"`), strings.Index(err.Error(), `"room"`); j >= 0 && j < i {
		t.Errorf("room named before name: %v", err)
	}
	_, err = KFold(tab, FitOptions{Task: ClassTask}, 3, rand.New(rand.NewPCG(1, 2)))
	wantErr(t, err, ErrEmpty, "fold 1 of 3 has no test rows left", `"name"`, "-ignore name")
	if _, _, err := Split(tab, FitOptions{Task: ClassTask, Ignore: []string{"name", "room"}}, 0.2, rand.New(rand.NewPCG(1, 2))); err != nil {
		t.Errorf("with the columns ignored: %v", err)
	}
}

// With rng nil, Split validates on the last rows of the file, except a
// row whose class no training row has.
func TestSplitLastRows(t *testing.T) {
	var b strings.Builder
	b.WriteString("x,y\n")
	for i := range 20 {
		y := i % 2
		if i == 19 {
			y = 7 // a class only the last row has
		}
		fmt.Fprintf(&b, "%d,%d\n", i, y)
	}
	tab := readString(t, b.String(), nil)
	tr, va, err := Split(tab, FitOptions{Task: ClassTask}, 0.25, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rowKeys(va), []int{17, 18, 19, 20}; !slices.Equal(got, want) {
		t.Errorf("validation lines %v, want %v (rows 15–18)", got, want)
	}
	if tr.Len() != 16 || tr.Line(15) != 21 {
		t.Errorf("%d training rows, the last on line %d; want 16, 21 (the lone class)", tr.Len(), tr.Line(15))
	}
	// Regression: exactly the last quarter.
	tr, va, err = Split(tab, FitOptions{Task: RegressionTask}, 0.25, nil)
	if err != nil || tr.Len() != 15 || va.Len() != 5 || va.Line(0) != 17 {
		t.Errorf("regression: %d, %d rows, first validation line %d, %v", tr.Len(), va.Len(), va.Line(0), err)
	}
}

// ResolveTask fixes the task on the whole table; given tasks stay.
func TestResolveTask(t *testing.T) {
	tab := readString(t, "x,y\n1,1\n2,2\n3,3\n", nil)
	opt, err := ResolveTask(tab, FitOptions{})
	if err != nil || opt.Task != RegressionTask {
		t.Errorf("three values: %v, %v", opt.Task, err)
	}
	if p, err := Fit(tab.Subset([]int{0, 1}), opt); err != nil || p.Kind != Regression {
		t.Errorf("two of them with the resolved task: %v", err)
	}
	if opt, _ := ResolveTask(tab.Subset([]int{0, 1}), FitOptions{}); opt.Task != ClassTask {
		t.Errorf("two values alone: %v", opt.Task)
	}
	if opt, _ := ResolveTask(tab, FitOptions{Task: ClassTask}); opt.Task != ClassTask {
		t.Errorf("a given task changed: %v", opt.Task)
	}
	if _, err := ResolveTask(tab, FitOptions{Target: "z"}); err == nil {
		t.Error("no error for a missing target")
	}
}
