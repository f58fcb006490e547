package onnx

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowgrad/flowgrad/tensor"
)

// FuzzDecode: any bytes give an error or a whole network, never a panic;
// a network that decodes runs, encodes, and decodes again to the same
// parameters; a model that imports saves. The seeds are every ONNX file of testdata (flowgrad's and
// PyTorch's exports) and broken copies of them.
func FuzzDecode(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.onnx"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed files: %v", err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
		flipped := bytes.Clone(b)
		flipped[len(b)/3] ^= 0x41
		f.Add(flipped)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := Decode(bytes.NewReader(b))
		if err != nil {
			if n != nil {
				t.Fatalf("Decode returned a network and the error %v", err)
			}
			return
		}
		in, out, err := n.Sizes()
		if err != nil {
			t.Fatalf("Decode returned a network that Sizes refuses: %v", err)
		}
		if y := predict(n, tensor.New[float32](2, in)); len(y) != 2*out {
			t.Fatalf("the network gives %d values for 2 rows, want %d", len(y), 2*out)
		}
		if m, err := Import(bytes.NewReader(b)); err == nil {
			if _, err := m.WriteTo(io.Discard); err != nil {
				t.Fatalf("an imported model does not save: %v", err)
			}
		}
		var buf bytes.Buffer
		if err := Encode(&buf, n); err != nil {
			t.Fatalf("a decoded network does not encode: %v", err)
		}
		back, err := Decode(&buf)
		if err != nil {
			t.Fatalf("an encoded network does not decode: %v", err)
		}
		p, q := n.Net.Params(), back.Net.Params()
		if len(p) != len(q) {
			t.Fatalf("%d parameters after a round trip, want %d", len(q), len(p))
		}
		for i := range p {
			sameBits(t, p[i].Name(), q[i].Data().Data(), p[i].Data().Data())
		}
	})
}
