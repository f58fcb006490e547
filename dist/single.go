//go:build !mpi

package dist

// Init returns the group of this run's processes. This build has no MPI
// (build with -tags mpi for it): Init returns a single process, rank 0 of
// 1, whose collectives leave their buffers unchanged (the sum over one
// rank), so a program written for several ranks runs as plain
// single-process training.
func Init() (Comm, error) { return single{}, nil }

// Finalize ends the use of MPI; in this build it does nothing.
func Finalize() error { return nil }

// MPI reports whether this build runs on MPI (the build tag mpi).
const MPI = false

// single is the one-process stand-in.
type single struct{}

func (single) Rank() int                      { return 0 }
func (single) Size() int                      { return 1 }
func (single) SumFloat32(buf []float32) error { return nil }
func (single) SumFloat64(buf []float64) error { return nil }
func (single) Broadcast(buf []byte, root int) error {
	checkRoot(root, 1)
	return nil
}
