package parallel

import (
	"testing"
	"time"
)

// TestShareBackoff checks the sharing verdict: one slow shared call among
// paying ones does not make calls serial, a run of slow ones does, and a
// call no helper joined changes nothing.
func TestShareBackoff(t *testing.T) {
	ms := time.Millisecond
	b := newShareBackoff()
	paid := func() { b.observe(6*ms, 5*ms, 2, 4) } // 10 ms alone, 6 ms shared
	slow := func() { b.observe(12*ms, 5*ms, 2, 4) }
	for range 20 {
		paid()
	}
	slow()
	if b.until.Load() != 0 {
		t.Fatal("one slow call among paying ones paused sharing")
	}
	for range 8 {
		b.observe(50*ms, 50*ms, 4, 4) // no helper joined: no verdict
	}
	if b.until.Load() != 0 {
		t.Fatal("calls no helper joined paused sharing")
	}
	for i := 0; b.until.Load() == 0; i++ {
		if i == 20 {
			t.Fatal("20 slow shared calls did not pause sharing")
		}
		slow()
	}
	if b.level.Load() != 1 {
		t.Fatalf("level %d after the first pause, want 1", b.level.Load())
	}
	for range 4 {
		paid()
	}
	if b.level.Load() != 0 {
		t.Fatalf("level %d after paying calls, want 0", b.level.Load())
	}
}
