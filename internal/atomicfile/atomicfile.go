// Package atomicfile writes a file so that a crash or an error leaves
// either its previous content or the new one, never a mixture.
package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
)

// Write writes data to the file path atomically: it writes a temporary
// file in the same folder, syncs it to disk, renames it over path and syncs
// the folder. On error no temporary file remains (only a crash of the
// process itself can leave a stale ".NAME.tmp…" file, which nothing reads)
// and the previous file at path, if any, is untouched. The file gets mode
// 0644. Errors are the file system's, e.g. for a folder that does not exist
// or cannot be written.
func Write(path string, data []byte) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close() // a second Close only returns an error
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
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
