package model

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flowgrad/flowgrad/data"
)

// smallModel returns the bytes of a small trained Iris model.
func smallModel(t testing.TB) (*Model, []byte) {
	t.Helper()
	f := trainTable(t, loadIris(t), data.FitOptions{}, []int{4}, 2, 0.05)
	b, err := f.model.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return f.model, b
}

// The file is a safetensors file that a reader of that format
// understands: header length, JSON header with dtype, shape and offsets,
// the weights as little-endian float32.
func TestFileLayout(t *testing.T) {
	m, b := smallModel(t)
	n := binary.LittleEndian.Uint64(b)
	if n%8 != 0 || 8+n > uint64(len(b)) {
		t.Fatalf("header length %d of a %d-byte file", n, len(b))
	}
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &hdr); err != nil {
		t.Fatal(err)
	}
	var md map[string]string
	json.Unmarshal(hdr["__metadata__"], &md)
	if md["format"] != Format || md["version"] != "1" || !strings.HasPrefix(md["checksum"], "crc32c:") ||
		!strings.Contains(md["spec"], `"type":"Linear"`) || !strings.Contains(md["preprocessing"], `"setosa"`) {
		t.Errorf("metadata %v", md)
	}
	var w1 tensorInfo
	json.Unmarshal(hdr["fc1.W"], &w1)
	if w1.Dtype != "F32" || w1.Shape[0] != 4 || w1.Shape[1] != 4 {
		t.Fatalf("fc1.W %+v", w1)
	}
	payload := b[8+n:]
	w := m.Net.Params()[0].Data()
	got := payload[w1.DataOffsets[0]:w1.DataOffsets[1]]
	for i, v := range w.Data() {
		if binary.LittleEndian.Uint32(got[4*i:]) != math.Float32bits(v) {
			t.Fatalf("fc1.W[%d] is not stored as little-endian float32", i)
		}
	}
}

func TestReadBadFiles(t *testing.T) {
	_, good := smallModel(t)
	if _, err := Read(bytes.NewReader(good), "good"); err != nil {
		t.Fatal(err)
	}
	// Every truncation is an error, never a panic.
	for n := 0; n < len(good); n++ {
		if _, err := Read(bytes.NewReader(good[:n]), "cut"); err == nil {
			t.Fatalf("truncated to %d of %d bytes: no error", n, len(good))
		}
	}
	// So is every flipped bit (three per byte).
	for i := range good {
		for _, bit := range []byte{0x01, 0x10, 0x80} {
			bad := bytes.Clone(good)
			bad[i] ^= bit
			if _, err := Read(bytes.NewReader(bad), "flipped"); err == nil {
				t.Fatalf("bit %#x of byte %d flipped: no error", bit, i)
			}
		}
	}
	if _, err := Read(bytes.NewReader(append(bytes.Clone(good), 0)), "long"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("appended byte: %v", err)
	}
}

func TestReadErrorKinds(t *testing.T) {
	_, good := smallModel(t)
	n := binary.LittleEndian.Uint64(good)
	// rewrite re-encodes good with its metadata changed by f.
	rewrite := func(f func(md map[string]string)) []byte {
		var hdr map[string]any
		json.Unmarshal(good[8:8+n], &hdr)
		md := map[string]string{}
		for k, v := range hdr["__metadata__"].(map[string]any) {
			md[k] = v.(string)
		}
		f(md)
		hdr["__metadata__"] = md
		h, _ := json.Marshal(hdr)
		out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
		return append(append(out, h...), good[8+n:]...)
	}
	safetensorsOnly := rewrite(func(md map[string]string) { clear(md) })
	cases := []struct {
		name  string
		in    []byte
		kind  error
		parts []string
	}{
		{"empty", nil, ErrNotModel, []string{"too short"}},
		{"text", []byte("sepal_length,sepal_width\n1,2\n"), ErrNotModel, []string{"header length"}},
		{"checkpoint", append([]byte("FLOWGRAD"), make([]byte, 40)...), ErrNotModel, []string{}},
		{"plain safetensors", safetensorsOnly, ErrNotModel, []string{"without flowgrad's metadata"}},
		{"version 2", rewrite(func(md map[string]string) { md["version"] = "2" }), ErrVersion, []string{`version "2"`, "reads version 1"}},
		{"edited spec", rewrite(func(md map[string]string) { md["spec"] = strings.Replace(md["spec"], `"relu":true`, `"relu":false`, 1) }),
			ErrCorrupt, []string{"checksum", "damaged"}},
		{"truncated", good[:len(good)-3], ErrCorrupt, []string{"truncated"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Read(bytes.NewReader(c.in), "m.model")
			if m != nil || !errors.Is(err, c.kind) || !strings.HasPrefix(err.Error(), "model: m.model: ") {
				t.Fatalf("got %v, want %v", err, c.kind)
			}
			for _, p := range c.parts {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("%q does not mention %q", err, p)
				}
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "none")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// FuzzRead checks that no input makes the model reader panic, and that a
// model it accepts encodes to a file that reads back to the same bytes.
func FuzzRead(f *testing.F) {
	_, good := smallModel(f)
	f.Add(good)
	filled, err := trainTable(f, loadIris(f), data.FitOptions{FillMissing: true}, []int{4}, 1, 0.05).model.Encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(filled)
	f.Add(good[:len(good)/2])
	f.Add([]byte("\x08\x00\x00\x00\x00\x00\x00\x00{}      "))
	f.Add([]byte("not a model"))
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := Read(bytes.NewReader(in), "fuzz")
		if err != nil {
			if m != nil {
				t.Fatal("a model and an error")
			}
			return
		}
		b, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		m2, err := Read(bytes.NewReader(b), "again")
		if err != nil {
			t.Fatal(err)
		}
		b2, _ := m2.Encode()
		if !bytes.Equal(b, b2) {
			t.Fatal("encode ∘ read is not stable")
		}
	})
}

// A model that fills in missing values keeps the choice through its file,
// and the loaded model fills in a blank as the saved one does.
func TestFillMissingSurvivesTheFile(t *testing.T) {
	m := trainTable(t, loadIris(t), data.FitOptions{FillMissing: true}, []int{4}, 2, 0.05).model
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := Read(bytes.NewReader(b), "filled.fgm")
	if err != nil {
		t.Fatal(err)
	}
	if !loaded.Pre.FillMissing {
		t.Fatal("FillMissing lost in the file")
	}
	rows := "sepal_length,sepal_width,petal_length,petal_width\n5.1,,1.4,0.2\n"
	tab, err := data.ReadCSV(strings.NewReader(rows), "blank.csv", loaded.Pre.CSVOptions(nil))
	if err != nil {
		t.Fatal(err)
	}
	got, err := loaded.Predict(tab)
	if err != nil {
		t.Fatal(err)
	}
	want, err := m.Predict(tab)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Prob.Row(0), want.Prob.Row(0)) {
		t.Errorf("loaded %v, saved %v", got.Prob.Row(0), want.Prob.Row(0))
	}
}

// Grouped categories survive the file: the loaded model encodes a rare
// and an unseen category on the other input, as the saved one does.
func TestGroupedCategoriesSurviveTheFile(t *testing.T) {
	var b strings.Builder
	b.WriteString("x,shop,y\n")
	shops := []string{"north", "north", "north", "south", "south", "south", "east", "west"}
	for i := range 80 {
		fmt.Fprintf(&b, "%d,%s,%d\n", i%7, shops[i%len(shops)], (i%7+i%len(shops))%2)
	}
	tab, err := data.ReadCSV(strings.NewReader(b.String()), "shops.csv", &data.CSVOptions{Categorical: []string{"y"}})
	if err != nil {
		t.Fatal(err)
	}
	m := trainTable(t, tab, data.FitOptions{MinCategoryRows: 15}, []int{4}, 2, 0.05).model
	if f := m.Pre.Features[1]; !f.Other || !slices.Equal(f.Categories, []string{"north", "south"}) {
		t.Fatalf("shop feature %+v", f)
	}
	enc, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := Read(bytes.NewReader(enc), "grouped.fgm")
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Pre.MinCategoryRows != 15 || !loaded.Pre.Features[1].Other {
		t.Fatalf("grouping lost in the file: %+v", loaded.Pre)
	}
	rows, err := data.ReadCSV(strings.NewReader("x,shop\n3,east\n3,mars\n3,north\n"), "new.csv", loaded.Pre.CSVOptions(nil))
	if err != nil {
		t.Fatal(err)
	}
	got, err := loaded.Predict(rows)
	if err != nil {
		t.Fatal(err)
	}
	want, err := m.Predict(rows)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Prob.Data(), want.Prob.Data()) {
		t.Errorf("loaded %v, saved %v", got.Prob.Data(), want.Prob.Data())
	}
	if !slices.Equal(got.Prob.Row(0), got.Prob.Row(1)) || slices.Equal(got.Prob.Row(0), got.Prob.Row(2)) {
		t.Errorf("east (rare) and mars (unseen) should both be other, north not: %v", got.Prob.Data())
	}
}
