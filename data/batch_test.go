package data

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// epochOrder runs the rest of b's current epoch and returns the examples
// in the order served, checking each batch's shape, labels, values and
// Index on the way.
func epochOrder(t *testing.T, b *Batcher) []int {
	t.Helper()
	var order []int
	ds := b.Dataset()
	f := ds.Features()
	want := -1
	for batch := range b.Epoch() {
		if want == -1 {
			want = batch.Index
		}
		if batch.Index != want {
			t.Fatalf("batch Index %d, want %d", batch.Index, want)
		}
		want++
		n := batch.Size()
		if batch.X.Rows() != n || batch.X.Cols() != f {
			t.Fatalf("X is %v for %d labels", batch.X.Shape(), n)
		}
		for r := range n {
			row := batch.X.Row(r)
			i := exampleOf(row)
			for j, v := range row {
				if w := float32(ds.Image(i)[j]) / 255; v != w {
					t.Fatalf("example %d value %d = %v, want %v", i, j, v, w)
				}
			}
			if batch.Labels[r] != ds.Label(i) {
				t.Fatalf("example %d label %d, want %d", i, batch.Labels[r], ds.Label(i))
			}
			order = append(order, i)
		}
	}
	return order
}

func isPerm(order []int, n int) bool {
	s := slices.Clone(order)
	slices.Sort(s)
	for i, v := range s {
		if v != i {
			return false
		}
	}
	return len(s) == n
}

func TestBatcherEpochs(t *testing.T) {
	for _, c := range []struct{ n, size int }{
		{1, 1}, {10, 1}, {10, 3}, {10, 5}, {10, 10}, {300, 7}, {1000, 64}, {1000, 1000},
	} {
		t.Run(fmt.Sprintf("N=%d/B=%d", c.n, c.size), func(t *testing.T) {
			ds := synth(t, c.n, 5, 10)
			b, err := NewBatcher(ds, c.size, rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				t.Fatal(err)
			}
			var prev []int
			for e := range 3 {
				var sizes []int
				for batch := range b.Epoch() {
					if batch.Epoch != e {
						t.Fatalf("batch of epoch %d in epoch %d", batch.Epoch, e)
					}
					sizes = append(sizes, batch.Size())
				}
				if len(sizes) != b.BatchesPerEpoch() {
					t.Errorf("epoch %d: %d batches, want %d", e, len(sizes), b.BatchesPerEpoch())
				}
				for i, s := range sizes {
					want := c.size
					if i == len(sizes)-1 && c.n%c.size != 0 {
						want = c.n % c.size
					}
					if s != want {
						t.Errorf("epoch %d batch %d: %d examples, want %d", e, i, s, want)
					}
				}
				if err := b.Restore(BatcherState{Seed: b.State().Seed, Shuffle: true, Epoch: e, N: c.n}); err != nil {
					t.Fatal(err)
				}
				order := epochOrder(t, b)
				if !isPerm(order, c.n) {
					t.Fatalf("epoch %d does not serve every example once: %v", e, order)
				}
				if c.n >= 10 && slices.Equal(order, prev) {
					t.Errorf("epoch %d has the order of the one before", e)
				}
				prev = order
			}
		})
	}
}

func TestBatcherDropLast(t *testing.T) {
	ds := synth(t, 10, 2, 3)
	b, err := NewBatcher(ds, 4, rand.New(rand.NewPCG(3, 4)), DropLast())
	if err != nil {
		t.Fatal(err)
	}
	if b.BatchesPerEpoch() != 2 {
		t.Errorf("BatchesPerEpoch = %d, want 2", b.BatchesPerEpoch())
	}
	seen := map[int]bool{}
	for range 5 {
		n := 0
		for batch := range b.Epoch() {
			if batch.Size() != 4 {
				t.Fatalf("batch of %d with DropLast", batch.Size())
			}
			for r := range 4 {
				seen[exampleOf(batch.X.Row(r))] = true
			}
			n++
		}
		if n != 2 {
			t.Errorf("%d batches per epoch, want 2", n)
		}
	}
	if len(seen) != 10 {
		t.Errorf("5 epochs served %d of 10 examples: the dropped ones do not vary", len(seen))
	}
}

func TestBatcherInOrder(t *testing.T) {
	ds := synth(t, 7, 3, 2)
	b, err := NewBatcher(ds, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if got := epochOrder(t, b); !slices.Equal(got, []int{0, 1, 2, 3, 4, 5, 6}) {
			t.Errorf("nil rng: order %v", got)
		}
	}
}

func TestBatcherReproducible(t *testing.T) {
	ds := synth(t, 50, 2, 5)
	run := func(s1, s2 uint64) (orders [][]int) {
		b, err := NewBatcher(ds, 8, rand.New(rand.NewPCG(s1, s2)))
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			orders = append(orders, epochOrder(t, b))
		}
		return orders
	}
	a, b, c := run(1, 2), run(1, 2), run(2, 1)
	for e := range a {
		if !slices.Equal(a[e], b[e]) {
			t.Errorf("epoch %d differs between runs with the same seed", e)
		}
		if slices.Equal(a[e], c[e]) {
			t.Errorf("epoch %d is the same for different seeds", e)
		}
	}
}

// TestBatcherResume: stopping anywhere, saving State and restoring it in a
// fresh Batcher (other rng, even another B) continues with exactly the
// examples the original would have served.
func TestBatcherResume(t *testing.T) {
	ds := synth(t, 23, 3, 4)
	const size = 5
	ref, _ := NewBatcher(ds, size, rand.New(rand.NewPCG(9, 9)))
	var all []int // examples of 4 epochs in order
	for range 4 {
		all = append(all, epochOrder(t, ref)...)
	}
	for stop := 0; stop <= 3*23; stop += 4 {
		b, _ := NewBatcher(ds, size, rand.New(rand.NewPCG(9, 9)))
		var served []int
		// Serve whole batches until at least stop examples.
	outer:
		for len(served) < stop {
			for batch := range b.Epoch() {
				for r := range batch.Size() {
					served = append(served, exampleOf(batch.X.Row(r)))
				}
				if len(served) >= stop {
					break outer
				}
			}
		}
		st := b.State()
		if wantEpoch := len(served) / 23; st.Epoch != wantEpoch || st.Offset != len(served)%23 {
			t.Fatalf("after %d examples State = %+v", len(served), st)
		}
		for _, newSize := range []int{size, 3} {
			c, _ := NewBatcher(ds, newSize, rand.New(rand.NewPCG(1, 1)))
			if err := c.Restore(st); err != nil {
				t.Fatal(err)
			}
			got := slices.Clone(served)
			for len(got) < len(all) {
				got = append(got, epochOrder(t, c)...)
			}
			if !slices.Equal(got, all) {
				t.Fatalf("stop %d, B %d: resumed run differs\n got %v\nwant %v", stop, newSize, got, all)
			}
		}
	}
}

func TestBatcherBreakContinues(t *testing.T) {
	ds := synth(t, 20, 2, 2)
	ref, _ := NewBatcher(ds, 3, rand.New(rand.NewPCG(5, 6)))
	want := epochOrder(t, ref)
	b, _ := NewBatcher(ds, 3, rand.New(rand.NewPCG(5, 6)))
	var got []int
	for batch := range b.Epoch() {
		for r := range batch.Size() {
			got = append(got, exampleOf(batch.X.Row(r)))
		}
		if batch.Index == 2 {
			break
		}
	}
	got = append(got, epochOrder(t, b)...)
	if !slices.Equal(got, want) {
		t.Errorf("break and continue: %v, want %v", got, want)
	}
}

func TestBatcherNext(t *testing.T) {
	ds := synth(t, 10, 2, 2)
	a, _ := NewBatcher(ds, 4, rand.New(rand.NewPCG(7, 7)))
	b, _ := NewBatcher(ds, 4, rand.New(rand.NewPCG(7, 7)))
	for e := range 3 {
		want := epochOrder(t, a)
		var got []int
		for {
			batch, ok := b.Next()
			if !ok {
				break
			}
			if batch.Epoch != e {
				t.Fatalf("Next gave epoch %d in epoch %d", batch.Epoch, e)
			}
			for r := range batch.Size() {
				got = append(got, exampleOf(batch.X.Row(r)))
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("epoch %d: Next %v, Epoch %v", e, got, want)
		}
	}
}

func TestBatcherErrors(t *testing.T) {
	ds := synth(t, 10, 2, 2)
	for _, size := range []int{0, -1, 11, 1 << 40} {
		_, err := NewBatcher(ds, size, rand.New(rand.NewPCG(1, 1)))
		wantErr(t, err, ErrBatchSize, fmt.Sprintf("B = %d", size), "1 ≤ B ≤ 10")
	}
	b, _ := NewBatcher(ds, 3, nil)
	for _, s := range []BatcherState{
		{N: 11}, {N: 10, Offset: 11}, {N: 10, Offset: -1}, {N: 10, Epoch: -1}, {N: 10, Shuffle: true},
	} {
		before := b.State()
		if err := b.Restore(s); err == nil {
			t.Errorf("Restore(%+v) accepted", s)
		} else if b.State() != before {
			t.Errorf("failed Restore(%+v) changed the state", s)
		}
	}
	// Offset N is the end of an epoch, which is the start of the next.
	if err := b.Restore(BatcherState{N: 10, Epoch: 2, Offset: 10}); err != nil {
		t.Fatal(err)
	}
	if s := b.State(); s.Epoch != 3 || s.Offset != 0 {
		t.Errorf("State after restoring the end of epoch 2: %+v", s)
	}
	wantPanic(t, "nil dataset", func() { NewBatcher(nil, 1, nil) })
}

// TestBatcherNoAllocs: after the first epoch, serving batches allocates
// nothing, with a short last batch and without.
func TestBatcherNoAllocs(t *testing.T) {
	ds := synth(t, 1000, 20, 10)
	for _, size := range []int{1, 64, 100, 1000} {
		for _, opts := range [][]BatchOption{nil, {DropLast()}} {
			b, _ := NewBatcher(ds, size, rand.New(rand.NewPCG(1, 2)), opts...)
			for range b.Epoch() {
			}
			if a := testing.AllocsPerRun(5, func() {
				for range b.Epoch() {
				}
			}); a != 0 {
				t.Errorf("B=%d: %v allocations per epoch", size, a)
			}
			if a := testing.AllocsPerRun(50, func() {
				if _, ok := b.Next(); !ok {
					b.Next()
				}
			}); a != 0 {
				t.Errorf("B=%d: %v allocations per Next", size, a)
			}
		}
	}
}

func TestConvert(t *testing.T) {
	src := make([]uint8, 256)
	for i := range src {
		src[i] = uint8(i)
	}
	dst := make([]float32, 256)
	convert(dst, src)
	for i, v := range dst {
		if v != float32(i)/255 || v < 0 || v > 1 {
			t.Errorf("convert(%d) = %v, want %v", i, v, float32(i)/255)
		}
	}
	if dst[255] != 1 || dst[0] != 0 {
		t.Errorf("endpoints %v, %v", dst[0], dst[255])
	}
}

func BenchmarkConvert(b *testing.B) {
	// One MNIST batch of B = 100: 78400 pixels.
	src := make([]uint8, 100*784)
	for i := range src {
		src[i] = uint8(i * 31)
	}
	dst := make([]float32, len(src))
	for _, c := range []struct {
		name string
		f    func([]float32, []uint8)
	}{{"vec", convert}, {"table", convertTable}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			for b.Loop() {
				c.f(dst, src)
			}
		})
	}
}

// scale[v] is float32(v)/255, correctly rounded.
var scale = func() (t [256]float32) {
	for v := range t {
		t[v] = float32(v) / 255
	}
	return t
}()

// convertTable is the pure-Go alternative that convert is measured
// against: a table lookup per pixel (the fastest scalar form measured).
func convertTable(dst []float32, src []uint8) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = scale[v]
	}
}

// BenchmarkBatcherEpoch times one shuffled epoch over an MNIST-sized
// synthetic training set: gather + convert of all 60000 examples.
func BenchmarkBatcherEpoch(b *testing.B) {
	ds := synth(b, 60000, 784, 10)
	for _, size := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("B=%d", size), func(b *testing.B) {
			bt, err := NewBatcher(ds, size, rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(ds.Pixels())))
			b.ReportAllocs()
			for b.Loop() {
				for range bt.Epoch() {
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/60000, "ns/example")
		})
	}
}
