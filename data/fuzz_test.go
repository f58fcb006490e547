package data

import (
	"bytes"
	"testing"
)

// The fuzz targets check that no input makes a reader panic or return data
// that disagrees with its header. Plain `go test` runs the seeds (f.Add and
// testdata/fuzz/<Target>); `go test -fuzz FuzzReadImages ./data` explores.

func FuzzReadImages(f *testing.F) {
	f.Add(idxImages(2, 3, 3, ramp(18, 5)))
	f.Add(gz(idxImages(2, 3, 3, ramp(18, 5))))
	f.Add(idxImages(1, 28, 28, ramp(784, 1)))
	for _, c := range imageCases() {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		img, err := ReadImages(bytes.NewReader(in), "fuzz")
		if err != nil {
			if img != nil {
				t.Fatal("an error and images")
			}
			return
		}
		if img.N < 1 || img.Rows < 1 || img.Cols < 1 || len(img.Pixels) != img.N*img.Rows*img.Cols {
			t.Fatalf("%d×%d×%d images with %d pixels", img.N, img.Rows, img.Cols, len(img.Pixels))
		}
		// A raw file that reads back is exactly header + pixels.
		if !(len(in) >= 2 && in[0] == 0x1f && in[1] == 0x8b) {
			if want := idxImages(uint32(img.N), uint32(img.Rows), uint32(img.Cols), img.Pixels); !bytes.Equal(in, want) {
				t.Fatal("raw file does not re-encode to itself")
			}
		}
	})
}

func FuzzReadLabels(f *testing.F) {
	f.Add(idxLabels(4, []byte{1, 2, 3, 9}), 10)
	f.Add(gz(idxLabels(4, []byte{1, 2, 3, 9})), 10)
	f.Add(idxLabels(2, []byte{0, 255}), 256)
	for _, c := range labelCases() {
		f.Add(c.in, 10)
	}
	f.Fuzz(func(t *testing.T, in []byte, classes int) {
		lab, err := ReadLabels(bytes.NewReader(in), "fuzz", classes)
		if err != nil {
			if lab != nil {
				t.Fatal("an error and labels")
			}
			return
		}
		if len(lab) == 0 {
			t.Fatal("no labels and no error")
		}
		for i, l := range lab {
			if int(l) >= classes {
				t.Fatalf("label %d at %d with %d classes", l, i, classes)
			}
		}
	})
}

// FuzzReadDataset pairs an image file with a label file.
func FuzzReadDataset(f *testing.F) {
	f.Add(idxImages(2, 1, 2, []byte{1, 2, 3, 4}), idxLabels(2, []byte{0, 1}))
	f.Add(idxImages(2, 1, 2, []byte{1, 2, 3, 4}), idxLabels(3, []byte{0, 1, 1}))
	f.Add(gz(idxImages(1, 1, 1, []byte{7})), gz(idxLabels(1, []byte{9})))
	f.Fuzz(func(t *testing.T, images, labels []byte) {
		ds, err := ReadDataset(bytes.NewReader(images), bytes.NewReader(labels), "i", "l", 10)
		if err != nil {
			return
		}
		if ds.Len() < 1 || len(ds.Pixels()) != ds.Len()*ds.Features() || len(ds.Labels()) != ds.Len() {
			t.Fatalf("inconsistent dataset: %d examples, %d pixels, %d labels", ds.Len(), len(ds.Pixels()), len(ds.Labels()))
		}
		// Whatever reads must also batch.
		b, err := NewBatcher(ds, 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		for range b.Epoch() {
		}
	})
}
