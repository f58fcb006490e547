package data

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/flowgrad/flowgrad/tensor"
)

// regTable returns a regression table of n examples with 3 features and 2
// targets in which example i has features (i, −i, 0.5) and targets
// (2i, i+0.25): every row and target row can be traced back to i.
func regTable(t testing.TB, n int) *Dataset {
	x := tensor.New[float32](n, 3)
	y := tensor.New[float32](n, 2)
	for i := range n {
		copy(x.Row(i), []float32{float32(i), -float32(i), 0.5})
		copy(y.Row(i), []float32{2 * float32(i), float32(i) + 0.25})
	}
	ds, err := NewRegressionTable(x, y)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// classTable returns a classification table of n examples with 2 features
// (i, i²) and label i mod classes.
func classTable(t testing.TB, n, classes int) *Dataset {
	x := tensor.New[float32](n, 2)
	labels := make([]int32, n)
	for i := range n {
		copy(x.Row(i), []float32{float32(i), float32(i * i)})
		labels[i] = int32(i % classes)
	}
	ds, err := NewClassTable(x, labels, classes)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestTableAccessors(t *testing.T) {
	r := regTable(t, 5)
	if r.Kind() != Regression || r.Outputs() != 2 || r.Classes() != 0 || r.Features() != 3 || r.Len() != 5 || r.IsImages() {
		t.Fatalf("regression table: kind %v outputs %d classes %d features %d len %d images %v",
			r.Kind(), r.Outputs(), r.Classes(), r.Features(), r.Len(), r.IsImages())
	}
	if got := r.Target(3); got[0] != 6 || got[1] != 3.25 {
		t.Errorf("Target(3) = %v, want [6 3.25]", got)
	}
	if got := r.Example(4, make([]float32, 3)); got[0] != 4 || got[1] != -4 || got[2] != 0.5 {
		t.Errorf("Example(4) = %v", got)
	}
	wantPanic(t, "regression dataset has targets", func() { r.Label(0) })
	wantPanic(t, "float table", func() { r.Image(0) })

	c := classTable(t, 7, 3)
	if c.Kind() != Classification || c.Outputs() != 3 || c.Classes() != 3 {
		t.Fatalf("class table: kind %v outputs %d classes %d", c.Kind(), c.Outputs(), c.Classes())
	}
	if c.Label(5) != 2 {
		t.Errorf("Label(5) = %d, want 2", c.Label(5))
	}
	wantPanic(t, "classification dataset has labels", func() { c.Target(0) })

	// Head and Split keep features and targets together.
	first, rest := r.Split(2)
	if rest.Len() != 3 || rest.Target(0)[0] != 4 || rest.Example(0, make([]float32, 3))[0] != 2 || first.Len() != 2 {
		t.Errorf("Split(2): rest starts with target %v", rest.Target(0))
	}
	if h := c.Head(4); h.Len() != 4 || h.Label(3) != 0 {
		t.Errorf("Head(4) = %d examples, label 3 = %d", h.Len(), h.Label(3))
	}
}

func TestTableErrors(t *testing.T) {
	x := tensor.New[float32](3, 2)
	_, err := NewClassTable(x, []int32{0, 1}, 2)
	wantErr(t, err, ErrCountMismatch, "3 rows", "2 targets")
	_, err = NewClassTable(x, []int32{0, 1, 2}, 2)
	wantErr(t, err, ErrLabelRange, "label 2 of row 2")
	_, err = NewClassTable(x, []int32{0, 0, 0}, 0)
	wantErr(t, err, ErrLabelRange, "0 classes")
	x.Set(1, 1, float32(math.NaN()))
	_, err = NewClassTable(x, []int32{0, 1, 0}, 2)
	wantErr(t, err, ErrNotFinite, "row 1, column 1")

	y := tensor.New[float32](3, 1)
	y.Set(2, 0, float32(math.Inf(-1)))
	_, err = NewRegressionTable(tensor.New[float32](3, 2), y)
	wantErr(t, err, ErrNotFinite, "target -Inf at row 2, column 0")
	_, err = NewRegressionTable(tensor.New[float32](3, 2), tensor.New[float32](4, 1))
	wantErr(t, err, ErrCountMismatch)
}

// TestBatcherRegression checks that a Batcher over a regression table
// serves every example once per epoch with its own targets, a short last
// batch included, and allocates nothing.
func TestBatcherRegression(t *testing.T) {
	ds := regTable(t, 11)
	b, err := NewBatcher(ds, 4, rand.New(rand.NewPCG(3, 4)))
	if err != nil {
		t.Fatal(err)
	}
	for epoch := range 2 {
		seen := make([]bool, ds.Len())
		var sizes []int
		for batch := range b.Epoch() {
			if batch.Labels != nil {
				t.Fatal("a regression batch has labels")
			}
			if batch.Targets.Rows() != batch.Size() || batch.Targets.Cols() != 2 {
				t.Fatalf("targets %v for a batch of %d", batch.Targets.Shape(), batch.Size())
			}
			sizes = append(sizes, batch.Size())
			for r := range batch.Size() {
				i := int(batch.X.At(r, 0))
				if seen[i] {
					t.Fatalf("epoch %d: example %d served twice", epoch, i)
				}
				seen[i] = true
				if batch.X.At(r, 1) != -float32(i) || batch.Targets.At(r, 0) != 2*float32(i) || batch.Targets.At(r, 1) != float32(i)+0.25 {
					t.Fatalf("row %d: features %v, targets %v: not example %d's", r, batch.X.Row(r), batch.Targets.Row(r), i)
				}
			}
		}
		if len(sizes) != 3 || sizes[2] != 3 {
			t.Errorf("epoch %d: batch sizes %v, want [4 4 3]", epoch, sizes)
		}
		for i, ok := range seen {
			if !ok {
				t.Errorf("epoch %d: example %d not served", epoch, i)
			}
		}
	}
	if a := testing.AllocsPerRun(50, func() { b.Take() }); a != 0 {
		t.Errorf("Take allocates %v times per batch, want 0", a)
	}
}

// TestTakeRollsOver checks that Take continues into the next epoch where
// Next reports the end, and serves the same batches as Next does.
func TestTakeRollsOver(t *testing.T) {
	ds := classTable(t, 10, 3)
	a, _ := NewBatcher(ds, 4, rand.New(rand.NewPCG(1, 1)))
	b, _ := NewBatcher(ds, 4, rand.New(rand.NewPCG(1, 1)))
	for step := range 9 { // three epochs of 4, 4, 2
		got := a.Take()
		want, ok := b.Next()
		if !ok {
			want, ok = b.Next()
		}
		if !ok {
			t.Fatal("Next gave no batch after the end of an epoch")
		}
		if got.Epoch != want.Epoch || got.Index != want.Index || got.Size() != want.Size() {
			t.Fatalf("step %d: Take gave epoch %d batch %d of %d, Next epoch %d batch %d of %d",
				step, got.Epoch, got.Index, got.Size(), want.Epoch, want.Index, want.Size())
		}
		for r := range got.Size() {
			if got.X.At(r, 0) != want.X.At(r, 0) || got.Labels[r] != want.Labels[r] {
				t.Fatalf("step %d row %d differs", step, r)
			}
		}
		if want.Epoch != step/3 {
			t.Fatalf("step %d is in epoch %d, want %d", step, want.Epoch, step/3)
		}
	}
}

func TestStreamRegression(t *testing.T) {
	ds := regTable(t, 6)
	s, err := NewStream(ds, 5, rand.New(rand.NewPCG(9, 9)))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		b := s.Next()
		for r := range b.Size() {
			i := b.X.At(r, 0)
			if b.Targets.At(r, 0) != 2*i || b.Targets.At(r, 1) != i+0.25 {
				t.Fatalf("row %d: features %v with targets %v", r, b.X.Row(r), b.Targets.Row(r))
			}
		}
	}
}

// TestBatcherResumeTable checks exact resume on a table, mid-epoch.
func TestBatcherResumeTable(t *testing.T) {
	ds := regTable(t, 13)
	a, _ := NewBatcher(ds, 5, rand.New(rand.NewPCG(5, 6)))
	for range 4 {
		a.Take()
	}
	st := a.State()
	b, _ := NewBatcher(ds, 5, rand.New(rand.NewPCG(0, 0)))
	if err := b.Restore(st); err != nil {
		t.Fatal(err)
	}
	for step := range 7 {
		x, y := a.Take(), b.Take()
		for r := range x.Size() {
			if x.X.At(r, 0) != y.X.At(r, 0) || x.Targets.At(r, 1) != y.Targets.At(r, 1) {
				t.Fatalf("step %d after resume: row %d differs", step, r)
			}
		}
	}
}
