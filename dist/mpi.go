//go:build mpi

package dist

/*
#cgo pkg-config: ompi
#include <mpi.h>

// The MPI handles are macros (in Open MPI, addresses of globals): use them
// from C only.

static int fg_init(int *provided) {
	int done = 0;
	int rc = MPI_Initialized(&done);
	if (rc != MPI_SUCCESS || done) {
		*provided = -1;
		return rc;
	}
	rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, provided);
	if (rc != MPI_SUCCESS) {
		return rc;
	}
	// Errors are returned to the caller (the default handler aborts the
	// job without a word from the program).
	return MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}

static int fg_thread_serialized(void) { return MPI_THREAD_SERIALIZED; }
static int fg_rank(int *rank) { return MPI_Comm_rank(MPI_COMM_WORLD, rank); }
static int fg_size(int *size) { return MPI_Comm_size(MPI_COMM_WORLD, size); }

static int fg_sum_f32(float *buf, int n) {
	return MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}

static int fg_sum_f64(double *buf, int n) {
	return MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

static int fg_bcast(void *buf, int n, int root) {
	return MPI_Bcast(buf, n, MPI_BYTE, root, MPI_COMM_WORLD);
}

static int fg_error_string(int rc, char *msg) {
	int n = 0;
	if (MPI_Error_string(rc, msg, &n) != MPI_SUCCESS) {
		return 0;
	}
	return n;
}

static int fg_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
*/
import "C"

import (
	"fmt"
	"math"
	"sync"
	"unsafe"
)

// MPI reports whether this build runs on MPI (the build tag mpi).
const MPI = true

// world is MPI_COMM_WORLD. MPI is initialised at MPI_THREAD_SERIALIZED:
// calls may come from any OS thread (goroutines move between threads) but
// never two at once, which mu ensures.
type world struct {
	mu         sync.Mutex
	rank, size int
}

var (
	initMu    sync.Mutex
	theWorld  *world
	finalized bool
)

// Init initialises MPI (MPI_Init_thread at MPI_THREAD_SERIALIZED, errors
// returned rather than fatal) and returns MPI_COMM_WORLD: the processes
// mpirun started. A program not started by mpirun is one rank of one
// (MPI's singleton start). Calling Init again returns the same Comm. It
// returns an error if MPI fails to start, does not support serialized
// calls from several threads, or was finalized.
func Init() (Comm, error) {
	initMu.Lock()
	defer initMu.Unlock()
	if theWorld != nil {
		return theWorld, nil
	}
	if finalized {
		return nil, fmt.Errorf("dist: Init after Finalize: MPI cannot be restarted")
	}
	var provided C.int
	if err := check("MPI_Init_thread", C.fg_init(&provided)); err != nil {
		return nil, err
	}
	if provided == -1 {
		return nil, fmt.Errorf("dist: Init: MPI was initialised by other code")
	}
	if provided < C.fg_thread_serialized() {
		return nil, fmt.Errorf("dist: Init: this MPI library gives thread level %d, below MPI_THREAD_SERIALIZED; Go calls MPI from several OS threads, so it needs an MPI built with thread support", int(provided))
	}
	w := &world{}
	var r, s C.int
	if err := check("MPI_Comm_rank", C.fg_rank(&r)); err != nil {
		return nil, err
	}
	if err := check("MPI_Comm_size", C.fg_size(&s)); err != nil {
		return nil, err
	}
	w.rank, w.size = int(r), int(s)
	theWorld = w
	return w, nil
}

// Finalize ends the use of MPI (MPI_Finalize); every rank must call it
// before exiting, after its last collective. It does nothing if Init was
// not called or Finalize was already.
func Finalize() error {
	initMu.Lock()
	defer initMu.Unlock()
	if theWorld == nil {
		return nil
	}
	theWorld.mu.Lock()
	defer theWorld.mu.Unlock()
	theWorld, finalized = nil, true
	return check("MPI_Finalize", C.MPI_Finalize())
}

func (w *world) Rank() int { return w.rank }
func (w *world) Size() int { return w.size }

// chunk is the most elements one MPI call moves (MPI counts are C ints).
const chunk = math.MaxInt32

func (w *world) SumFloat32(buf []float32) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(buf) > 0 {
		n := min(len(buf), chunk)
		if err := check("MPI_Allreduce", C.fg_sum_f32((*C.float)(unsafe.Pointer(&buf[0])), C.int(n))); err != nil {
			return err
		}
		buf = buf[n:]
	}
	return nil
}

func (w *world) SumFloat64(buf []float64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(buf) > 0 {
		n := min(len(buf), chunk)
		if err := check("MPI_Allreduce", C.fg_sum_f64((*C.double)(unsafe.Pointer(&buf[0])), C.int(n))); err != nil {
			return err
		}
		buf = buf[n:]
	}
	return nil
}

func (w *world) Broadcast(buf []byte, root int) error {
	checkRoot(root, w.size)
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(buf) > 0 {
		n := min(len(buf), chunk)
		if err := check("MPI_Bcast", C.fg_bcast(unsafe.Pointer(&buf[0]), C.int(n), C.int(root))); err != nil {
			return err
		}
		buf = buf[n:]
	}
	return nil
}

// check turns an MPI return code into an error naming the call and MPI's
// message (nil for MPI_SUCCESS).
func check(call string, rc C.int) error {
	if rc == C.MPI_SUCCESS {
		return nil
	}
	msg := make([]byte, int(C.fg_max_error_string())+1)
	n := C.fg_error_string(rc, (*C.char)(unsafe.Pointer(&msg[0])))
	return fmt.Errorf("dist: %s failed: %s (MPI error %d)", call, msg[:n], int(rc))
}
