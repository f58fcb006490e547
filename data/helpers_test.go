package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// idxImages encodes an IDX image file with the given header dims and
// payload (which need not agree with them).
func idxImages(n, rows, cols uint32, pix []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, imageMagic)
	b = binary.BigEndian.AppendUint32(b, n)
	b = binary.BigEndian.AppendUint32(b, rows)
	b = binary.BigEndian.AppendUint32(b, cols)
	return append(b, pix...)
}

// idxLabels encodes an IDX label file with the given count and payload.
func idxLabels(n uint32, labels []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, labelMagic)
	b = binary.BigEndian.AppendUint32(b, n)
	return append(b, labels...)
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// ramp returns n bytes i·step mod 256.
func ramp(n, step int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * step)
	}
	return b
}

// wantErr fails t unless err wraps kind and its message contains every
// part.
func wantErr(t *testing.T, err, kind error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v", kind)
	}
	if kind != nil && !errors.Is(err, kind) {
		t.Errorf("error %q does not wrap %q", err, kind)
	}
	if !strings.HasPrefix(err.Error(), "data: ") {
		t.Errorf("error %q does not start with \"data: \"", err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}

// wantPanic fails t unless f panics with a message that starts with
// "data: " and contains part.
func wantPanic(t *testing.T, part string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		s, ok := r.(string)
		if !ok || !strings.HasPrefix(s, "data: ") || !strings.Contains(s, part) {
			t.Errorf("panic %#v, want a \"data: \" message containing %q", r, part)
		}
	}()
	f()
}

// synth returns a dataset of n examples of features values, in which
// example i's first two values are i mod 256 and i/256 mod 256, the rest
// are i+j mod 256, and its label is i mod classes: every example can be
// recognised from its values.
func synth(t testing.TB, n, features, classes int) *Dataset {
	pix := make([]uint8, n*features)
	lab := make([]uint8, n)
	for i := range n {
		row := pix[i*features : (i+1)*features]
		for j := range row {
			row[j] = byte(i + j)
		}
		row[0] = byte(i)
		if features > 1 {
			row[1] = byte(i >> 8)
		}
		lab[i] = byte(i % classes)
	}
	ds, err := NewDataset(pix, lab, features, classes)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// exampleOf recovers the example index from a converted row of a synth
// dataset.
func exampleOf(row []float32) int {
	i := int(row[0]*255 + 0.5)
	if len(row) > 1 {
		i += 256 * int(row[1]*255+0.5)
	}
	return i
}
