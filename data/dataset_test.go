package data

import (
	"testing"
)

func TestNewDataset(t *testing.T) {
	ds, err := NewDataset([]uint8{1, 2, 3, 4, 5, 6}, []uint8{0, 2, 1}, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 3 || ds.Features() != 2 || ds.Classes() != 3 {
		t.Fatalf("N=%d F=%d C=%d", ds.Len(), ds.Features(), ds.Classes())
	}
	if r, c := ds.ImageShape(); r != 1 || c != 2 {
		t.Errorf("ImageShape = %d×%d, want 1×2", r, c)
	}
	if img := ds.Image(1); img[0] != 3 || img[1] != 4 || len(img) != 2 || cap(img) != 2 {
		t.Errorf("Image(1) = %v", img)
	}
	if ds.Label(1) != 2 {
		t.Errorf("Label(1) = %d", ds.Label(1))
	}
}

func TestNewDatasetErrors(t *testing.T) {
	for _, c := range []struct {
		name              string
		pix, lab          []uint8
		features, classes int
		kind              error
		part              string
	}{
		{"empty", nil, nil, 4, 10, ErrEmpty, "no examples"},
		{"empty labels", []uint8{1, 2}, []uint8{}, 2, 10, ErrEmpty, "no examples"},
		{"too few pixels", []uint8{1, 2, 3}, []uint8{0, 1}, 2, 10, ErrCountMismatch, "3 values for 2 labels of 2 features (want 4)"},
		{"too many pixels", []uint8{1, 2, 3, 4, 5}, []uint8{0, 1}, 2, 10, ErrCountMismatch, "want 4"},
		{"ragged", []uint8{1, 2, 3, 4, 5}, []uint8{0, 1}, 3, 10, ErrCountMismatch, "5 values"},
		{"zero features", []uint8{}, []uint8{0}, 0, 10, ErrBadDims, "0 features"},
		{"negative features", []uint8{}, []uint8{0}, -3, 10, ErrBadDims, "-3 features"},
		{"zero classes", []uint8{1}, []uint8{0}, 1, 0, ErrLabelRange, "0 classes"},
		{"257 classes", []uint8{1}, []uint8{0}, 1, 257, ErrLabelRange, "257 classes"},
		{"label = classes", []uint8{1, 2}, []uint8{0, 3}, 1, 3, ErrLabelRange, "label 3 at index 1 (want 0..2)"},
	} {
		_, err := NewDataset(c.pix, c.lab, c.features, c.classes)
		wantErr(t, err, c.kind, "NewDataset", c.part)
	}
}

func TestHeadSplit(t *testing.T) {
	ds := synth(t, 10, 3, 4)
	h := ds.Head(4)
	if h.Len() != 4 || h.Features() != 3 || h.Classes() != 4 || h.Label(3) != 3 || h.Image(3)[0] != 3 {
		t.Errorf("Head(4): N=%d", h.Len())
	}
	if ds.Head(100).Len() != 10 {
		t.Error("Head(100) of 10 examples is not all of them")
	}
	a, b := ds.Split(7)
	if a.Len() != 7 || b.Len() != 3 || b.Image(0)[0] != 7 || b.Label(0) != 7%4 {
		t.Errorf("Split(7): %d + %d, b[0] = %v", a.Len(), b.Len(), b.Image(0))
	}
	// Parts cannot grow into each other.
	if cap(a.Pixels()) != 7*3 || cap(a.Labels()) != 7 {
		t.Error("Split's first part can reach into the second")
	}
	wantPanic(t, "Head(0)", func() { ds.Head(0) })
	wantPanic(t, "Split(0)", func() { ds.Split(0) })
	wantPanic(t, "Split(10)", func() { ds.Split(10) })
	wantPanic(t, "Image(10)", func() { ds.Image(10) })
	wantPanic(t, "Label(-1)", func() { ds.Label(-1) })
}
