package dist

import (
	"fmt"
	"unsafe"

	"github.com/flowgrad/flowgrad/tensor"
)

// Comm is the group of processes (ranks) of one run, numbered 0 … Size−1,
// and the collective operations data-parallel training needs. A
// collective must be called by every rank, in the same order, with
// buffers of the same length on every rank; it returns once this rank's
// part is done. A Comm is safe for use by one goroutine at a time.
//
// [Init] returns the MPI world under the build tag mpi, and a
// single-process stand-in (Size 1, collectives that leave the buffer as
// it is) otherwise.
type Comm interface {
	// Rank is this process's number, 0 … Size−1.
	Rank() int
	// Size is the number of processes.
	Size() int
	// SumFloat32 replaces buf on every rank by the elementwise sum of
	// every rank's buf (an allreduce in place).
	SumFloat32(buf []float32) error
	// SumFloat64 is SumFloat32 for float64.
	SumFloat64(buf []float64) error
	// Broadcast copies rank root's buf into every rank's buf.
	Broadcast(buf []byte, root int) error
}

// sum is the allreduce of Comm for either float type.
func sum[T tensor.Float](c Comm, buf []T) error {
	switch b := any(buf).(type) {
	case []float32:
		return c.SumFloat32(b)
	case []float64:
		return c.SumFloat64(b)
	}
	panic("dist: unreachable")
}

// bytesOf returns the memory of xs as bytes (for broadcasting numbers).
func bytesOf[T tensor.Float](xs []T) []byte {
	if len(xs) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&xs[0])), len(xs)*int(unsafe.Sizeof(xs[0])))
}

// checkRoot panics unless root is a rank of a group of size ranks.
func checkRoot(root, size int) {
	if root < 0 || root >= size {
		panic(fmt.Sprintf("dist: Broadcast: root %d is not a rank (0 … %d)", root, size-1))
	}
}
