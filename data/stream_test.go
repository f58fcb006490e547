package data

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestStream(t *testing.T) {
	const n, draws = 10, 50000
	ds := synth(t, n, 3, 4)
	s, err := NewStream(ds, 5, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	count := make([]int, n)
	k := 0
	for batch := range s.All() {
		if batch.Index != k || batch.Epoch != 0 || batch.Size() != 5 || batch.X.Rows() != 5 || batch.X.Cols() != 3 {
			t.Fatalf("batch %d: Index %d, %v", k, batch.Index, batch.X.Shape())
		}
		for r := range 5 {
			i := exampleOf(batch.X.Row(r))
			if batch.Labels[r] != ds.Label(i) {
				t.Fatalf("example %d has label %d, want %d", i, batch.Labels[r], ds.Label(i))
			}
			count[i]++
		}
		k++
		if k*5 >= draws {
			break
		}
	}
	// Uniform with replacement: each count is Binomial(draws, 1/n); allow
	// 5 standard deviations.
	mean := float64(draws) / n
	sd := math.Sqrt(draws * (1.0 / n) * (1 - 1.0/n))
	for i, c := range count {
		if math.Abs(float64(c)-mean) > 5*sd {
			t.Errorf("example %d drawn %d times, want about %.0f", i, c, mean)
		}
	}
}

func TestStreamReproducible(t *testing.T) {
	ds := synth(t, 100, 2, 3)
	draw := func(seed uint64) []int {
		s, _ := NewStream(ds, 7, rand.New(rand.NewPCG(seed, 0)))
		var got []int
		for range 10 {
			b := s.Next()
			for r := range b.Size() {
				got = append(got, exampleOf(b.X.Row(r)))
			}
		}
		return got
	}
	if !slices.Equal(draw(1), draw(1)) {
		t.Error("same seed, different draws")
	}
	if slices.Equal(draw(1), draw(2)) {
		t.Error("different seeds, same draws")
	}
	// Batches larger than the dataset are fine: it is with replacement.
	if _, err := NewStream(ds, 1000, rand.New(rand.NewPCG(1, 1))); err != nil {
		t.Error(err)
	}
}

func TestGeneratorStream(t *testing.T) {
	// y = 1 if x0 > x1: a linearly separable toy problem.
	rng := rand.New(rand.NewPCG(3, 3))
	gen := func(x []float32) int {
		x[0], x[1] = rng.Float32(), rng.Float32()
		if x[0] > x[1] {
			return 1
		}
		return 0
	}
	s, err := NewGeneratorStream(4, 2, 2, gen)
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		b := s.Next()
		for r := range 4 {
			x := b.X.Row(r)
			if want := gen2(x); b.Labels[r] != want {
				t.Fatalf("row %v label %d", x, b.Labels[r])
			}
		}
	}
	if a := testing.AllocsPerRun(100, func() { s.Next() }); a != 0 {
		t.Errorf("%v allocations per generated batch", a)
	}

	bad, _ := NewGeneratorStream(1, 1, 3, func(x []float32) int { return 3 })
	wantPanic(t, "label 3 (want 0..2)", func() { bad.Next() })
}

func gen2(x []float32) int {
	if x[0] > x[1] {
		return 1
	}
	return 0
}

func TestStreamErrors(t *testing.T) {
	ds := synth(t, 10, 2, 2)
	rng := rand.New(rand.NewPCG(1, 1))
	for _, size := range []int{0, -5} {
		_, err := NewStream(ds, size, rng)
		wantErr(t, err, ErrBatchSize, "want B ≥ 1")
		_, err = NewGeneratorStream(size, 2, 2, gen2)
		wantErr(t, err, ErrBatchSize, "want B ≥ 1")
	}
	_, err := NewGeneratorStream(1, 0, 2, gen2)
	wantErr(t, err, ErrBadDims, "0 features")
	_, err = NewGeneratorStream(1, 2, 0, gen2)
	wantErr(t, err, ErrLabelRange, "0 classes")
	wantPanic(t, "nil", func() { NewStream(ds, 1, nil) })
	wantPanic(t, "nil", func() { NewStream(nil, 1, rng) })
	wantPanic(t, "nil generator", func() { NewGeneratorStream(1, 1, 1, nil) })
}

func TestStreamNoAllocs(t *testing.T) {
	ds := synth(t, 1000, 20, 10)
	s, _ := NewStream(ds, 32, rand.New(rand.NewPCG(1, 2)))
	if a := testing.AllocsPerRun(100, func() { s.Next() }); a != 0 {
		t.Errorf("%v allocations per batch", a)
	}
	k := 0
	if a := testing.AllocsPerRun(10, func() {
		for range s.All() {
			if k++; k%50 == 0 {
				break
			}
		}
	}); a != 0 {
		t.Errorf("%v allocations per 50 batches from All", a)
	}
}
