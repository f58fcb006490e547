package parallel

import (
	"runtime"
	"sync/atomic"
	"testing"
)

type fill struct {
	out   []int32
	calls atomic.Int32
}

func (f *fill) Part(i, n int) {
	f.calls.Add(1)
	lo, hi := Range(i, n, len(f.out), 4)
	for j := lo; j < hi; j++ {
		f.out[j] += int32(i + 1)
	}
}

func TestRunCoversEveryElementOnce(t *testing.T) {
	var g Group
	for _, size := range []int{0, 1, 5, 64, 1001} {
		for parts := 1; parts <= 7; parts++ {
			f := &fill{out: make([]int32, size)}
			g.Run(f, parts)
			if int(f.calls.Load()) != parts {
				t.Fatalf("size %d parts %d: %d calls", size, parts, f.calls.Load())
			}
			for j, v := range f.out {
				if v < 1 {
					t.Fatalf("size %d parts %d: element %d not written exactly once (%d)", size, parts, j, v)
				}
			}
			// Parts are contiguous and in order: values never decrease.
			for j := 1; j < size; j++ {
				if f.out[j] < f.out[j-1] {
					t.Fatalf("size %d parts %d: parts out of order at %d", size, parts, j)
				}
			}
		}
	}
}

func TestRangeAlignment(t *testing.T) {
	for i := 0; i < 3; i++ {
		lo, hi := Range(i, 3, 100, 8)
		if lo%8 != 0 || (hi%8 != 0 && hi != 100) {
			t.Fatalf("part %d: [%d, %d) not aligned to 8", i, lo, hi)
		}
	}
	if lo, hi := Range(2, 3, 100, 8); hi != 100 || lo != 64 {
		t.Fatalf("last part [%d, %d), want [64, 100)", lo, hi)
	}
}

func TestRunAllocatesNothing(t *testing.T) {
	var g Group
	f := &fill{out: make([]int32, 1000)}
	g.Run(f, 2)
	if a := testing.AllocsPerRun(50, func() { g.Run(f, 2) }); a != 0 {
		t.Fatalf("Run allocates %v times", a)
	}
}

func TestParts(t *testing.T) {
	p := runtime.GOMAXPROCS(0)
	if got := Parts(10, 100); got != 1 {
		t.Fatalf("Parts(10, 100) = %d, want 1", got)
	}
	if got := Parts(1<<20, 1); got != p {
		t.Fatalf("Parts(1M, 1) = %d, want GOMAXPROCS = %d", got, p)
	}
}

// TestShareFewHelpers checks that with fewer helpers than parts every part
// still runs exactly once, that the caller's count is within bounds, and
// that a Group reused at once (late helpers from the previous call hold an
// older generation) never runs a part twice.
func TestShareFewHelpers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	var g Group
	f := &fill{out: make([]int32, 4000)}
	for rep := 0; rep < 200; rep++ {
		clear(f.out)
		f.calls.Store(0)
		parts := 1 + rep%9
		st := g.Share(f, parts, rep%3)
		if int(f.calls.Load()) != parts {
			t.Fatalf("rep %d: %d calls for %d parts", rep, f.calls.Load(), parts)
		}
		if st.Own < 0 || st.Own > parts || (rep%3 == 0 && st.Own != parts) {
			t.Fatalf("rep %d: caller computed %d of %d parts with %d helpers", rep, st.Own, parts, rep%3)
		}
		for j, v := range f.out {
			if v < 1 || v > int32(parts) {
				t.Fatalf("rep %d: element %d = %d", rep, j, v)
			}
		}
	}
}
