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

// TestBatcherShard: n Batchers sharded 0 … n−1 from the same seed serve,
// batch by batch, exactly the rows of the unsharded Batcher's batch, split
// in order into parts that differ in size by at most one, with the same
// Index and the same State (so a state moves between any n).
func TestBatcherShard(t *testing.T) {
	ds := synth(t, 23, 5, 3)
	for _, c := range []struct {
		size, n  int
		dropLast bool
	}{{4, 1, false}, {4, 2, false}, {6, 4, true}, {5, 3, false}, {7, 2, false}, {23, 5, false}} {
		var opts []BatchOption
		if c.dropLast {
			opts = append(opts, DropLast())
		}
		ref, _ := NewBatcher(ds, c.size, rand.New(rand.NewPCG(4, 2)), opts...)
		parts := make([]*Batcher, c.n)
		for i := range parts {
			parts[i], _ = NewBatcher(ds, c.size, rand.New(rand.NewPCG(4, 2)), opts...)
			if err := parts[i].Shard(i, c.n); err != nil {
				t.Fatalf("B=%d: Shard(%d, %d): %v", c.size, i, c.n, err)
			}
			if got, want := parts[i].BatchesPerEpoch(), ref.BatchesPerEpoch(); got != want {
				t.Fatalf("B=%d n=%d: BatchesPerEpoch %d, want %d", c.size, c.n, got, want)
			}
		}
		for step := range 3 * ref.BatchesPerEpoch() {
			want := ref.Take()
			var rows []int
			for i, p := range parts {
				got := p.Take()
				if got.Index != want.Index || got.Epoch != want.Epoch {
					t.Fatalf("B=%d n=%d step %d shard %d: batch %d of epoch %d, want %d of %d",
						c.size, c.n, step, i, got.Index, got.Epoch, want.Index, want.Epoch)
				}
				if lo, hi := want.Size()*i/c.n, want.Size()*(i+1)/c.n; got.Size() != hi-lo {
					t.Fatalf("B=%d n=%d step %d shard %d: %d examples, want %d", c.size, c.n, step, i, got.Size(), hi-lo)
				}
				for r := range got.Size() {
					rows = append(rows, exampleOf(got.X.Row(r)))
					if got.Labels[r] != ds.Label(rows[len(rows)-1]) {
						t.Fatalf("step %d shard %d row %d: wrong label", step, i, r)
					}
				}
				if p.State() != ref.State() {
					t.Fatalf("step %d shard %d: State %+v, want %+v", step, i, p.State(), ref.State())
				}
			}
			var wantRows []int
			for r := range want.Size() {
				wantRows = append(wantRows, exampleOf(want.X.Row(r)))
			}
			if !slices.Equal(rows, wantRows) {
				t.Fatalf("B=%d n=%d step %d: shards serve %v, want %v", c.size, c.n, step, rows, wantRows)
			}
		}
	}
}

func TestBatcherShardErrors(t *testing.T) {
	ds := synth(t, 10, 2, 2)
	b, _ := NewBatcher(ds, 3, nil)
	wantErr(t, b.Shard(0, 4), ErrBatchSize, "B = 3", "4 processes")
	// 10 mod 4 = 2 examples in the last batch: too few for 3 shards.
	b, _ = NewBatcher(ds, 4, nil)
	wantErr(t, b.Shard(1, 3), ErrBatchSize, "last batch", "holds 2", "DropLast")
	b, _ = NewBatcher(ds, 4, nil, DropLast())
	if err := b.Shard(1, 3); err != nil {
		t.Errorf("with DropLast: %v", err)
	}
	wantPanic(t, "want 0 ≤ i < n", func() { b.Shard(3, 3) })
	wantPanic(t, "want 0 ≤ i < n", func() { b.Shard(0, 0) })
}

func TestShardedBatcherNoAllocs(t *testing.T) {
	ds := synth(t, 1000, 20, 10)
	for _, c := range []struct{ size, i, n int }{{64, 0, 2}, {64, 1, 3}, {100, 2, 3}} {
		b, _ := NewBatcher(ds, c.size, rand.New(rand.NewPCG(1, 2)))
		b.Shard(c.i, c.n)
		for range b.Epoch() {
		}
		if a := testing.AllocsPerRun(5, func() {
			for range b.Epoch() {
			}
		}); a != 0 {
			t.Errorf("B=%d shard %d of %d: %v allocations per epoch", c.size, c.i, c.n, a)
		}
	}
}
