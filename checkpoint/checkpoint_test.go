package checkpoint

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/optim"
	"github.com/flowgrad/flowgrad/tensor"
	"github.com/flowgrad/flowgrad/train"
)

// trained returns a run of a 20-8-4 MLP after 7 steps (mid-epoch) with the
// given form, and its checkpoint bytes.
func trained(t testing.TB, form optim.MomentumForm) (*run, []byte) {
	t.Helper()
	ds := synthetic(t, 1, 53, 20, 4)
	r := newRun(t, ds, 10, 1, optim.Must(optim.InverseTime(0.1, 20)), form, 20, 8, 4)
	r.steps(t, 7)
	st := Capture(r.model.Params(), r.opt, r.batches)
	st.Meta = map[string]string{"model": "20-8-4", "b": "x", "": "empty key"}
	var buf bytes.Buffer
	if err := Write(&buf, st); err != nil {
		t.Fatal(err)
	}
	return r, buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	for _, form := range []optim.MomentumForm{optim.None, optim.EMA, optim.HeavyBall, optim.Nesterov} {
		r, file := trained(t, form)
		st, err := Read[float32](bytes.NewReader(file))
		if err != nil {
			t.Fatalf("%v: %v", form, err)
		}
		if st.Batcher != r.batches.State() || st.Optim.Step != 7 || st.Optim.Kind != "sgd/"+form.String() {
			t.Fatalf("%v: read %+v, step %d, kind %v", form, st.Batcher, st.Optim.Step, st.Optim.Kind)
		}
		if st.Meta["model"] != "20-8-4" || st.Meta[""] != "empty key" || len(st.Meta) != 3 {
			t.Fatalf("%v: meta %q", form, st.Meta)
		}
		fresh := newRun(t, r.batches.Dataset(), 10, 99, optim.Must(optim.InverseTime(0.1, 20)), form, 20, 8, 4)
		if err := st.Restore(fresh.model.Params(), fresh.opt, fresh.batches); err != nil {
			t.Fatal(err)
		}
		sameBits(t, form.String(), r, fresh)
		// Writing what was read gives the same bytes.
		var again bytes.Buffer
		if err := Write(&again, st); err != nil || !bytes.Equal(again.Bytes(), file) {
			t.Fatalf("%v: rewrite differs (err %v)", form, err)
		}
	}
}

// Special values keep their exact bits, in float32 and float64.
func TestBitsExact(t *testing.T) {
	f32 := []float32{0, float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32, -math.MaxFloat32, math.Float32frombits(0x00000101), 1.0 / 3}
	st := State[float32]{Params: []Param[float32]{{"w", tensor.FromSlice(2, 3, f32)}}}
	var buf bytes.Buffer
	if err := Write(&buf, st); err != nil {
		t.Fatal(err)
	}
	got, err := Read[float32](&buf)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range got.Params[0].Data.Data() {
		if math.Float32bits(x) != math.Float32bits(f32[i]) {
			t.Fatalf("element %d: %08x, want %08x", i, math.Float32bits(x), math.Float32bits(f32[i]))
		}
	}
	f64 := []float64{math.Copysign(0, -1), math.SmallestNonzeroFloat64, math.Nextafter(1, 2)}
	st64 := State[float64]{Params: []Param[float64]{{"w", tensor.FromSlice(1, 3, f64)}}, Optim: optim.State[float64]{Kind: "adam", Step: 5, Slots: []string{"m", "v"}, Buffers: map[string][][]float64{"w": {{1, 2, 3}, {4, 5, math.Nextafter(0, 1)}}}}}
	buf.Reset()
	if err := Write(&buf, st64); err != nil {
		t.Fatal(err)
	}
	file := buf.Bytes()
	got64, err := Read[float64](bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range got64.Params[0].Data.Data() {
		if math.Float64bits(x) != math.Float64bits(f64[i]) {
			t.Fatalf("float64 element %d: %x, want %x", i, math.Float64bits(x), math.Float64bits(f64[i]))
		}
	}
	if !reflect.DeepEqual(got64.Optim, st64.Optim) {
		t.Fatalf("optimizer state read back as %+v, want %+v", got64.Optim, st64.Optim)
	}
	if _, err := Read[float32](bytes.NewReader(file)); err == nil || !strings.Contains(err.Error(), "holds float64 parameters, not float32") {
		t.Fatalf("float64 file read as float32: %v", err)
	}
}

// header rewrites a checkpoint's header fields (and nothing else).
func withHeader(file []byte, version uint32, length uint64, sum uint32) []byte {
	f := bytes.Clone(file)
	binary.LittleEndian.PutUint32(f[8:], version)
	binary.LittleEndian.PutUint64(f[12:], length)
	binary.LittleEndian.PutUint32(f[20:], sum)
	return f
}

// resum recomputes the payload checksum, so a change reaches the parser.
func resum(file []byte) []byte {
	f := bytes.Clone(file)
	if len(f) >= headerSize {
		binary.LittleEndian.PutUint32(f[20:], crc32.Checksum(f[headerSize:], castagnoli))
	}
	return f
}

func TestReadErrors(t *testing.T) {
	_, file := trained(t, optim.HeavyBall)
	length := uint64(len(file) - headerSize)
	sum := binary.LittleEndian.Uint32(file[20:])
	flip := bytes.Clone(file)
	flip[len(flip)-3] ^= 0x10 // a bit of the last momentum value

	// A NaN planted in a parameter, checksum fixed up: still refused.
	nan := bytes.Clone(file)
	off := bytes.Index(nan, []byte("fc1.W")) + len("fc1.W") + 8
	binary.LittleEndian.PutUint32(nan[off:], math.Float32bits(float32(math.NaN())))

	for _, c := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "corrupt checkpoint: empty input"},
		{"not a checkpoint", []byte("PK\x03\x04 a zip file, say, not a checkpoint"), `not a flowgrad checkpoint (it starts with "PK\x03\x04 a z"`},
		{"short other file", []byte("hello"), "not a flowgrad checkpoint (5 bytes"},
		{"truncated header", file[:15], "truncated header: 15 of 24 bytes"},
		{"version 4", withHeader(file, 4, length, sum), "format version 4 is not supported (this flowgrad reads versions 1 to 3)"},
		{"version 0", withHeader(file, 0, length, sum), "format version 0 is not supported"},
		{"checksum", flip, "checksum mismatch"},
		{"truncated payload", file[:len(file)-100], "truncated: the header announces a payload of"},
		{"absurd length", withHeader(file, 1, 1<<62, sum), "truncated: the header announces a payload of 4611686018427387904 bytes"},
		{"huge length", withHeader(file, 1, math.MaxUint64, sum), "the header announces 18446744073709551615 payload bytes"},
		{"short length", resum(withHeader(file, 1, length-4, sum)[:len(file)-4]), "corrupt checkpoint: "},
		{"NaN", resum(nan), `the parameter "fc1.W" holds NaN at element 0`},
	} {
		st, err := Read[float32](bytes.NewReader(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "checkpoint: ") {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
		if st.Params != nil {
			t.Errorf("%s: parameters with an error", c.name)
		}
	}
	// Every truncation is an error wrapping ErrCorrupt.
	for n := 0; n < len(file); n++ {
		if _, err := Read[float32](bytes.NewReader(file[:n])); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d bytes: %v", n, err)
		}
	}
}

// A header that announces an absurd payload makes Read allocate only what
// arrives.
func TestNoAbsurdAllocation(t *testing.T) {
	_, file := trained(t, optim.None)
	lie := withHeader(file, 1, 1<<50, 0)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Read[float32](bytes.NewReader(lie))
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("no error")
	}
	if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20 {
		t.Fatalf("allocated %d bytes for a %d-byte input", d, len(lie))
	}
}

func TestWriteRefuses(t *testing.T) {
	w := tensor.FromSlice(1, 2, []float32{1, 2})
	nan := tensor.FromSlice(1, 2, []float32{1, float32(math.Inf(-1))})
	plain, mb := optim.State[float32]{Kind: "sgd/none"}, []string{"momentum_buffer"}
	for _, c := range []struct {
		name string
		st   State[float32]
		want string
	}{
		{"NaN param", State[float32]{Params: []Param[float32]{{"fc1.W", nan}}, Optim: plain}, `parameter "fc1.W" holds -Inf at element 1: refusing to save a diverged state`},
		{"NaN buffer", State[float32]{Params: []Param[float32]{{"w", w}}, Optim: optim.State[float32]{Kind: "sgd/ema", Slots: mb, Buffers: map[string][][]float32{"w": {{0, float32(math.NaN())}}}}}, `momentum_buffer buffer of parameter "w" holds NaN`},
		{"no name", State[float32]{Params: []Param[float32]{{"", w}}, Optim: plain}, "no valid name"},
		{"duplicate", State[float32]{Params: []Param[float32]{{"w", w}, {"w", w}}, Optim: plain}, `two parameters named "w"`},
		{"nil matrix", State[float32]{Params: []Param[float32]{{"w", nil}}, Optim: plain}, `"w" has no matrix`},
		{"missing buffer", State[float32]{Params: []Param[float32]{{"w", w}}, Optim: optim.State[float32]{Kind: "sgd/heavyball", Slots: mb, Buffers: map[string][][]float32{"v": {{0, 0}}}}}, `no optimizer buffers for parameter "w"`},
		{"short buffer", State[float32]{Params: []Param[float32]{{"w", w}}, Optim: optim.State[float32]{Kind: "sgd/heavyball", Slots: mb, Buffers: map[string][][]float32{"w": {{0}}}}}, `optimizer buffer momentum_buffer of "w" has 1 elements`},
		{"too few buffers", State[float32]{Params: []Param[float32]{{"w", w}}, Optim: optim.State[float32]{Kind: "adam", Slots: []string{"exp_avg", "exp_avg_sq"}, Buffers: map[string][][]float32{"w": {{0, 0}}}}}, `parameter "w" has 1 optimizer buffers for 2 slots`},
		{"buffers without slots", State[float32]{Params: []Param[float32]{{"w", w}}, Optim: optim.State[float32]{Kind: "sgd/none", Buffers: map[string][][]float32{"w": {{0, 0}}}}}, "without state slots"},
		{"no kind", State[float32]{Optim: optim.State[float32]{Slots: mb}}, `optimizer kind "" is not UTF-8, or empty with state slots`},
		{"repeated slot", State[float32]{Optim: optim.State[float32]{Kind: "x", Slots: []string{"m", "m"}}}, `slot 1 "m" is empty, repeated`},
		{"negative step", State[float32]{Optim: optim.State[float32]{Kind: "sgd/none", Step: -1}}, "negative optimizer step"},
		{"bad position", State[float32]{Batcher: data.BatcherState{Offset: 5, N: 3}, Optim: plain}, "bad batcher position"},
		{"bad meta", State[float32]{Meta: map[string]string{"k": "\xff"}, Optim: plain}, "not UTF-8"},
	} {
		var buf bytes.Buffer
		err := Write(&buf, c.st)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: wrote %d bytes", c.name, buf.Len())
		}
	}
}

func TestRestoreMismatch(t *testing.T) {
	r, file := trained(t, optim.HeavyBall)
	st, err := Read[float32](bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	ds := r.batches.Dataset()
	sched := optim.Must(optim.Constant(0.1))
	for _, c := range []struct {
		name  string
		other *run
		want  string
	}{
		{"wider", newRun(t, ds, 10, 2, sched, optim.HeavyBall, 20, 16, 4), `parameter "fc1.W" is 20×8 in the checkpoint but 20×16 in the model (and 2 more differences)`},
		{"deeper", newRun(t, ds, 10, 2, sched, optim.HeavyBall, 20, 8, 8, 4), `parameter "fc2.W" is 8×4 in the checkpoint but 8×8 in the model (and 3 more differences)`},
		{"shallower", newRun(t, ds, 10, 2, sched, optim.HeavyBall, 20, 4), `parameter "fc1.W" is 20×8 in the checkpoint but 20×4 in the model (and 3 more differences)`},
		{"other form", newRun(t, ds, 10, 2, sched, optim.Nesterov, 20, 8, 4), `state of a "sgd/heavyball" optimiser, this one is "sgd/nesterov"`},
		{"other optimizer", newRunWith(t, ds, 10, 2, sched, "adam", 20, 8, 4), `state of a "sgd/heavyball" optimiser, this one is "adam"`},
		{"other dataset", newRun(t, synthetic(t, 1, 60, 20, 4), 10, 2, sched, optim.HeavyBall, 20, 8, 4), "the state is for a dataset of 53 examples, this one has 60"},
	} {
		params := c.other.model.Params()
		saved := make([][]float32, len(params))
		for i, p := range params {
			saved[i] = bytes32(p.Data().Data())
		}
		optBefore, posBefore := c.other.opt.State(), c.other.batches.State()
		err := st.Restore(params, c.other.opt, c.other.batches)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
		for i, p := range params {
			if !equal32(saved[i], p.Data().Data()) {
				t.Errorf("%s: parameter %s changed by a failed Restore", c.name, p.Name())
			}
		}
		if s := c.other.opt.State(); s.Step != optBefore.Step || c.other.batches.State() != posBefore {
			t.Errorf("%s: optimizer or batcher changed by a failed Restore", c.name)
		}
	}

	// A missing and an extra parameter, by name.
	renamed := st
	renamed.Params = append([]Param[float32](nil), st.Params...)
	renamed.Params[3].Name = "fc2.bias"
	err = renamed.Match(r.model.Params())
	if err == nil || !strings.Contains(err.Error(), `the model's parameter "fc2.b" (1×4) is missing from the checkpoint (and 1 more differences)`) {
		t.Errorf("renamed: %v", err)
	}
	renamed.Params = append(renamed.Params[:3], Param[float32]{"fc2.b", st.Params[3].Data}, Param[float32]{"fc9.W", st.Params[3].Data})
	err = renamed.Match(r.model.Params())
	if err == nil || !strings.Contains(err.Error(), `the checkpoint's parameter "fc9.W" (1×4) is not in the model`) {
		t.Errorf("extra: %v", err)
	}
}

func bytes32(xs []float32) []float32 { return append([]float32(nil), xs...) }

func equal32(a, b []float32) bool {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return len(a) == len(b)
}

func TestSaveLoad(t *testing.T) {
	r, file := trained(t, optim.EMA)
	dir := t.TempDir()
	path := filepath.Join(dir, "run.ckpt")
	st := Capture(r.model.Params(), r.opt, r.batches)
	st.Meta = map[string]string{"model": "20-8-4", "b": "x", "": "empty key"}
	if err := Save(path, st); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, file) {
		t.Fatalf("the file differs from Write's bytes (err %v)", err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", fi.Mode())
	}
	if _, err := Load[float32](path); err != nil {
		t.Fatal(err)
	}
	// Trailing data.
	os.WriteFile(filepath.Join(dir, "long.ckpt"), append(bytes.Clone(file), 0), 0o644)
	if _, err := Load[float32](filepath.Join(dir, "long.ckpt")); err == nil || !strings.Contains(err.Error(), "long.ckpt: corrupt checkpoint: trailing data") {
		t.Errorf("trailing byte: %v", err)
	}
	if _, err := Load[float32](filepath.Join(dir, "nothing.ckpt")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
	onlyFile(t, dir, "run.ckpt", "long.ckpt")
}

// onlyFile fails unless dir holds exactly the named entries (no temporary
// files).
func onlyFile(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(sorted(names), ",") {
		t.Fatalf("%s holds %q, want %q", dir, got, sorted(names))
	}
}

func sorted(s []string) []string {
	s = append([]string(nil), s...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

// A failed Save leaves the previous checkpoint intact and no temporary
// file behind.
func TestSaveFailures(t *testing.T) {
	r, file := trained(t, optim.HeavyBall)
	good := Capture(r.model.Params(), r.opt, r.batches)
	good.Meta = map[string]string{"model": "20-8-4", "b": "x", "": "empty key"}
	dir := t.TempDir()
	path := filepath.Join(dir, "run.ckpt")
	if err := Save(path, good); err != nil {
		t.Fatal(err)
	}

	// A diverged state does not replace the good checkpoint.
	bad := good
	bad.Params = append([]Param[float32](nil), good.Params...)
	nan := bad.Params[2].Data.Clone()
	nan.Data()[5] = float32(math.NaN())
	bad.Params[2].Data = nan
	if err := Save(path, bad); err == nil || !strings.Contains(err.Error(), `parameter "fc2.W" holds NaN at element 5: refusing to save`) {
		t.Fatalf("diverged: %v", err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, file) {
		t.Fatal("the good checkpoint changed")
	}

	// File-system failures: a folder that does not exist, a "folder" that
	// is a file, a path that is a folder.
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	for _, c := range []struct{ path, want string }{
		{filepath.Join(dir, "missing", "run.ckpt"), "no such file or directory"},
		{filepath.Join(dir, "run.ckpt", "x.ckpt"), "not a directory"},
		{filepath.Join(dir, "sub"), "file exists"},
	} {
		err := Save(c.path, good)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "checkpoint: save "+c.path+": ") {
			t.Errorf("%s: error %v, want one containing %q", c.path, err, c.want)
		}
	}
	onlyFile(t, dir, "run.ckpt", "sub")
	onlyFile(t, filepath.Join(dir, "sub"))

	// A read-only folder (meaningless for root, who may write anyway).
	if os.Geteuid() != 0 {
		ro := filepath.Join(dir, "ro")
		os.Mkdir(ro, 0o555)
		if err := Save(filepath.Join(ro, "run.ckpt"), good); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("read-only folder: %v", err)
		}
		onlyFile(t, ro)
	}
}

// Exact resume: k steps, checkpoint, a fresh model, optimizer and Batcher
// restored from it, N − k more steps give the bits of N steps in one go,
// for every momentum form and every optimizer (its state buffers), a
// non-constant schedule, stopping at the start, in the middle and at the
// end of an epoch.
func TestExactResume(t *testing.T) {
	ds := synthetic(t, 5, 103, 30, 5) // B = 10: 11 batches, the last of 3
	const N = 40
	for _, kind := range []string{"sgd/none", "sgd/ema", "sgd/heavyball", "sgd/nesterov", "adam", "adamw", "rmsprop", "rmsprop/centered+momentum", "adagrad"} {
		lr := 0.2
		if !strings.HasPrefix(kind, "sgd/") {
			lr = 0.01
		}
		sched := optim.Must(optim.Cosine(lr, lr/20, N))
		ref := newRunWith(t, ds, 10, 1, sched, kind, 30, 12, 5)
		ref.steps(t, N)
		for _, k := range []int{0, 1, 6, 10, 11, 12, 25, 39} {
			a := newRunWith(t, ds, 10, 1, sched, kind, 30, 12, 5)
			a.steps(t, k)
			path := filepath.Join(t.TempDir(), "ck")
			if err := Save(path, Capture(a.model.Params(), a.opt, a.batches)); err != nil {
				t.Fatal(err)
			}
			st, err := Load[float32](path)
			if err != nil {
				t.Fatal(err)
			}
			// Another seed: every weight and the data order must come from
			// the checkpoint.
			b := newRunWith(t, ds, 10, 77, sched, kind, 30, 12, 5)
			if err := st.Restore(b.model.Params(), b.opt, b.batches); err != nil {
				t.Fatal(err)
			}
			b.steps(t, N-k)
			sameBits(t, kind+" resumed after "+itoa(k), ref, b)
		}
	}
}

// Exact resume with reduce-on-plateau: the Plateau's scale, best metric
// and count travel in the checkpoint, so a resumed run reduces the rate
// at the same observations as an uninterrupted one.
func TestExactResumePlateau(t *testing.T) {
	ds := synthetic(t, 5, 103, 30, 5)
	const N = 40
	metrics := []float64{1, 0.9, 0.95, 0.96, 0.97, 0.5, 0.6, 0.7, 0.8, 0.9, 0.4, 0.45, 0.46}
	newPlateauRun := func(seed uint64) (*run, *optim.Plateau) {
		pl, err := optim.NewPlateau(optim.Must(optim.Constant(0.01)), optim.PlateauConfig{Factor: 0.5, Patience: 1})
		if err != nil {
			t.Fatal(err)
		}
		return newRunWith(t, ds, 10, seed, pl, "adam", 30, 12, 5), pl
	}
	// steps trains steps [from, to), observing the next metric after every
	// third.
	steps := func(r *run, pl *optim.Plateau, from, to int) {
		for i := from; i < to; i++ {
			r.steps(t, 1)
			if (i+1)%3 == 0 {
				pl.Observe(metrics[(i+1)/3%len(metrics)])
			}
		}
	}
	ref, refPl := newPlateauRun(1)
	steps(ref, refPl, 0, N)
	if s := refPl.State().Scale; s >= 0.25 {
		t.Fatalf("the metrics reduced the scale only to %v: the test needs reductions", s)
	}
	for _, k := range []int{4, 9, 17, 31} {
		a, aPl := newPlateauRun(1)
		steps(a, aPl, 0, k)
		var buf bytes.Buffer
		if err := Write(&buf, Capture(a.model.Params(), a.opt, a.batches)); err != nil {
			t.Fatal(err)
		}
		st, err := Read[float32](&buf)
		if err != nil {
			t.Fatal(err)
		}
		if st.Optim.Plateau == nil || *st.Optim.Plateau != aPl.State() {
			t.Fatalf("plateau state read back as %+v, want %+v", st.Optim.Plateau, aPl.State())
		}
		b, bPl := newPlateauRun(77)
		if err := st.Restore(b.model.Params(), b.opt, b.batches); err != nil {
			t.Fatal(err)
		}
		steps(b, bPl, k, N)
		sameBits(t, "plateau resumed after "+itoa(k), ref, b)
	}
	// A checkpoint with a plateau state does not fit a run without one.
	a, _ := newPlateauRun(1)
	st := Capture(a.model.Params(), a.opt, a.batches)
	plain := newRunWith(t, ds, 10, 2, optim.Must(optim.Constant(0.01)), "adam", 30, 12, 5)
	if err := st.Restore(plain.model.Params(), plain.opt, plain.batches); err == nil || !strings.Contains(err.Error(), "is not a Plateau") {
		t.Fatalf("plateau state into a constant schedule: %v", err)
	}
}

// writeV1 writes st in format version 1 (SGD only: a form byte and at most
// one momentum buffer per parameter), as flowgrad wrote it before the
// adaptive optimizers.
func writeV1(st State[float32], form optim.MomentumForm) []byte {
	var e []byte
	le := binary.LittleEndian
	e = append(e, 4)
	b := st.Batcher
	e = le.AppendUint64(e, b.Seed)
	e = append(e, boolByte(b.Shuffle))
	e = le.AppendUint64(e, uint64(b.Epoch))
	e = le.AppendUint64(e, uint64(b.Offset))
	e = le.AppendUint64(e, uint64(b.N))
	e = le.AppendUint64(e, uint64(st.Optim.Step))
	e = append(e, byte(form))
	e = le.AppendUint32(e, 0) // no metadata
	e = le.AppendUint32(e, uint32(len(st.Params)))
	for _, p := range st.Params {
		e = appendString(e, p.Name)
		e = le.AppendUint32(e, uint32(p.Data.Rows()))
		e = le.AppendUint32(e, uint32(p.Data.Cols()))
		e = appendFloats(e, p.Data.Data())
		for _, buf := range st.Optim.Buffers[p.Name] {
			e = appendFloats(e, buf)
		}
	}
	h := append([]byte(Magic), make([]byte, 16)...)
	le.PutUint32(h[8:], 1)
	le.PutUint64(h[12:], uint64(len(e)))
	le.PutUint32(h[20:], crc32.Checksum(e, castagnoli))
	return append(h, e...)
}

// Version 1 files (SGD) still resume exactly.
func TestReadsVersion1(t *testing.T) {
	ds := synthetic(t, 5, 103, 30, 5)
	sched := optim.Must(optim.Constant(0.1))
	for _, form := range []optim.MomentumForm{optim.None, optim.HeavyBall} {
		ref := newRun(t, ds, 10, 1, sched, form, 30, 12, 5)
		ref.steps(t, 20)
		a := newRun(t, ds, 10, 1, sched, form, 30, 12, 5)
		a.steps(t, 7)
		st, err := Read[float32](bytes.NewReader(writeV1(Capture(a.model.Params(), a.opt, a.batches), form)))
		if err != nil {
			t.Fatalf("%v: %v", form, err)
		}
		b := newRun(t, ds, 10, 77, sched, form, 30, 12, 5)
		if err := st.Restore(b.model.Params(), b.opt, b.batches); err != nil {
			t.Fatalf("%v: %v", form, err)
		}
		b.steps(t, 13)
		sameBits(t, "version 1 "+form.String(), ref, b)
	}
}

func itoa(k int) string { return strconv.Itoa(k) }

// The format stores every field of data.BatcherState and optim.State: a
// field added there must be added to the format (and Version raised).
func TestFormatCoversStates(t *testing.T) {
	if n := reflect.TypeFor[data.BatcherState]().NumField(); n != 5 {
		t.Errorf("data.BatcherState has %d fields; the format stores 5 (Seed, Shuffle, Epoch, Offset, N)", n)
	}
	if n := reflect.TypeFor[optim.State[float32]]().NumField(); n != 5 {
		t.Errorf("optim.State has %d fields; the format stores 5 (Kind, Step, Slots, Buffers, Plateau)", n)
	}
	if n := reflect.TypeFor[optim.PlateauState]().NumField(); n != 3 {
		t.Errorf("optim.PlateauState has %d fields; the format stores 3 (Scale, Best, Bad)", n)
	}
	if n := reflect.TypeFor[train.EarlyState]().NumField(); n != 3 {
		t.Errorf("train.EarlyState has %d fields; the format stores 3 (Best, BestEpoch, Bad)", n)
	}
}
