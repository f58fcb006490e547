package checkpoint

import (
	"fmt"
	"os"

	"github.com/flowgrad/flowgrad/internal/atomicfile"
	"github.com/flowgrad/flowgrad/tensor"
)

// Save writes st to the file path atomically (internal/atomicfile): it
// writes a temporary file in the same folder, syncs it to disk, renames it
// over path and syncs the folder. A crash or error at any point leaves either the previous file at
// path or the new one, never a mixture, and on error no temporary file
// remains (only a crash of the process itself can leave a stale
// ".NAME.tmp…" file, which nothing reads). The file gets mode 0644.
//
// Its errors are Write's (nothing is written then) and the file system's,
// e.g. for a folder that does not exist or cannot be written.
func Save[T tensor.Float](path string, st State[T]) error {
	payload, err := encodeFile(st)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, payload); err != nil {
		return fmt.Errorf("checkpoint: save %s: %w", path, err)
	}
	return nil
}

// encodeFile returns the bytes Write would write.
func encodeFile[T tensor.Float](st State[T]) ([]byte, error) {
	var w sliceWriter
	if err := Write(&w, st); err != nil {
		return nil, err
	}
	return w, nil
}

type sliceWriter []byte

func (w *sliceWriter) Write(p []byte) (int, error) {
	*w = append(*w, p...)
	return len(p), nil
}

// Load reads the checkpoint in the file path (see Read); the file must
// hold exactly one checkpoint and nothing after it. Errors name the file.
func Load[T tensor.Float](path string) (State[T], error) {
	f, err := os.Open(path)
	if err != nil {
		return State[T]{}, fmt.Errorf("checkpoint: %w", err)
	}
	defer f.Close()
	st, err := read[T](f)
	if err == nil {
		if n, _ := f.Read(make([]byte, 1)); n > 0 {
			err = corrupt("trailing data after the checkpoint")
		}
	}
	if err != nil {
		return State[T]{}, fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	return st, nil
}
