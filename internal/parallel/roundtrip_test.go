package parallel

import (
	"runtime"
	"sync/atomic"
	"testing"
)

// BenchmarkCoreRoundTrip measures the time for a cache line to go from one
// core to another and back: two goroutines, each on its own OS thread,
// take turns writing a counter the other waits for. It is the cost the
// Governor's doc describes: about 100 ns on the project's VM most of the
// time, 500–600 ns (and spikes of microseconds) while the host places its
// two vCPUs far apart.
//
//	go test ./internal/parallel -run '^$' -bench CoreRoundTrip -cpu 2
func BenchmarkCoreRoundTrip(b *testing.B) {
	if runtime.GOMAXPROCS(0) < 2 {
		b.Skip("needs GOMAXPROCS ≥ 2 (run with -cpu 2)")
	}
	var ping, pong struct {
		v atomic.Int64
		_ [56]byte // each counter on its own cache line
	}
	n := int64(b.N)
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		for i := int64(1); i <= n; i++ {
			for ping.v.Load() != i {
			}
			pong.v.Store(i)
		}
		close(done)
	}()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	b.ResetTimer()
	for i := int64(1); i <= n; i++ {
		ping.v.Store(i)
		for pong.v.Load() != i {
		}
	}
	b.StopTimer()
	<-done
}
