package checkpoint

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/flowgrad/flowgrad/tensor"
)

// Save writes st to the file path atomically: it writes a temporary file
// in the same folder, syncs it to disk, renames it over path and syncs the
// folder. A crash or error at any point leaves either the previous file at
// path or the new one, never a mixture, and on error no temporary file
// remains (only a crash of the process itself can leave a stale
// ".NAME.tmp…" file, which nothing reads). The file gets mode 0644.
//
// Its errors are Write's (nothing is written then) and the file system's,
// e.g. for a folder that does not exist or cannot be written.
func Save[T tensor.Float](path string, st State[T]) (err error) {
	payload, err := encodeFile(st)
	if err != nil {
		return err
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return fmt.Errorf("checkpoint: save %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close() // a second Close only returns an error
			os.Remove(tmp)
			err = fmt.Errorf("checkpoint: save %s: %w", path, err)
		}
	}()
	if _, err = f.Write(payload); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
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

// syncDir makes a rename in dir durable. File systems that cannot sync a
// folder (EINVAL) are accepted: the rename is as durable as they allow.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		err = nil
	}
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
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
