package data

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Dataset is N labelled examples held in memory: each example is Features
// uint8 values (the pixels of an image, row by row) and a label in
// 0..Classes−1.
//
// A Dataset is read-only after construction, so any number of Batchers and
// Streams may share one, also from several goroutines. Datasets made by
// [Dataset.Head] and [Dataset.Split] share memory with the original.
type Dataset struct {
	pixels   []uint8 // n×features, row-major
	labels   []uint8 // n
	features int
	classes  int
	rows     int // image shape, rows·cols = features
	cols     int
}

// NewDataset returns the dataset of len(labels) examples whose values are
// pixels (row-major, features per example) and whose labels are in
// 0..classes−1. It does not copy: the caller must not change pixels or
// labels afterwards. Its images are 1×features (see [Dataset.ImageShape]).
//
// NewDataset returns an error, not a panic, for an empty dataset
// ([ErrEmpty]), features < 1, classes outside 1..256, a pixel count that is
// not len(labels)·features ([ErrCountMismatch]) or a label ≥ classes
// ([ErrLabelRange]), so it can check data from any source.
func NewDataset(pixels, labels []uint8, features, classes int) (*Dataset, error) {
	return newDataset("NewDataset", pixels, labels, 1, features, classes)
}

func newDataset(who string, pixels, labels []uint8, rows, cols, classes int) (*Dataset, error) {
	features := rows * cols
	switch {
	case rows < 1 || cols < 1:
		return nil, fmt.Errorf("data: %s: %w: %d features per example (want ≥ 1)", who, ErrBadDims, features)
	case classes < 1 || classes > 256:
		return nil, fmt.Errorf("data: %s: %w: %d classes (want 1..256 for byte labels)", who, ErrLabelRange, classes)
	case len(labels) == 0:
		return nil, fmt.Errorf("data: %s: %w: no examples", who, ErrEmpty)
	case len(pixels)/features != len(labels) || len(pixels)%features != 0:
		return nil, fmt.Errorf("data: %s: %w: %d values for %d labels of %d features (want %d)",
			who, ErrCountMismatch, len(pixels), len(labels), features, len(labels)*features)
	}
	if i, ok := checkLabels(labels, classes); !ok {
		return nil, fmt.Errorf("data: %s: %w: label %d at index %d (want 0..%d)", who, ErrLabelRange, labels[i], i, classes-1)
	}
	return &Dataset{pixels: pixels, labels: labels, features: features, classes: classes, rows: rows, cols: cols}, nil
}

// ReadDataset reads an IDX image file and its IDX label file (see
// [ReadImages], [ReadLabels]) and pairs them into a dataset with the given
// number of classes (10 for MNIST). The names are used in error messages.
// The two files must hold the same number of examples ([ErrCountMismatch]).
func ReadDataset(images, labels io.Reader, imagesName, labelsName string, classes int) (*Dataset, error) {
	img, err := ReadImages(images, imagesName)
	if err != nil {
		return nil, err
	}
	lab, err := ReadLabels(labels, labelsName, classes)
	if err != nil {
		return nil, err
	}
	if img.N != len(lab) {
		return nil, fmt.Errorf("data: %s and %s: %w: %d images, %d labels", imagesName, labelsName, ErrCountMismatch, img.N, len(lab))
	}
	return newDataset(imagesName, img.Pixels, lab, img.Rows, img.Cols, classes)
}

// LoadIDX reads a dataset from an IDX image file and an IDX label file,
// gzipped or not, as [ReadDataset] does; errors name the files by their
// paths.
func LoadIDX(imagesPath, labelsPath string, classes int) (*Dataset, error) {
	fi, err := os.Open(imagesPath)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer fi.Close()
	fl, err := os.Open(labelsPath)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer fl.Close()
	return ReadDataset(fi, fl, filepath.Clean(imagesPath), filepath.Clean(labelsPath), classes)
}

// Len returns N, the number of examples.
func (d *Dataset) Len() int { return len(d.labels) }

// Features returns the number of values per example (28·28 = 784 for MNIST).
func (d *Dataset) Features() int { return d.features }

// Classes returns the number of classes; labels are in 0..Classes−1.
func (d *Dataset) Classes() int { return d.classes }

// ImageShape returns the rows and columns of one image as the IDX file gave
// them (28, 28 for MNIST); rows·cols = Features. A dataset made by
// [NewDataset] has images of 1×Features.
func (d *Dataset) ImageShape() (rows, cols int) { return d.rows, d.cols }

// Image returns the values of example i, a slice of the dataset's memory
// that must not be modified. It panics if i is out of range.
func (d *Dataset) Image(i int) []uint8 {
	d.check("Image", i)
	f := d.features
	return d.pixels[i*f : (i+1)*f : (i+1)*f]
}

// Label returns the label of example i. It panics if i is out of range.
func (d *Dataset) Label(i int) int {
	d.check("Label", i)
	return int(d.labels[i])
}

// Pixels returns all values, N×Features row-major; the caller must not
// modify them.
func (d *Dataset) Pixels() []uint8 { return d.pixels }

// Labels returns all N labels; the caller must not modify them.
func (d *Dataset) Labels() []uint8 { return d.labels }

func (d *Dataset) check(op string, i int) {
	if i < 0 || i >= len(d.labels) {
		panic(fmt.Sprintf("data: %s(%d): index out of range for a dataset of %d examples", op, i, len(d.labels)))
	}
}

// Head returns the first min(n, N) examples, sharing memory with d (the
// standard B = 1 benchmark trains on Head(10000) of MNIST). It panics if
// n < 1.
func (d *Dataset) Head(n int) *Dataset {
	if n < 1 {
		panic(fmt.Sprintf("data: Head(%d): want n ≥ 1", n))
	}
	return d.slice(0, min(n, d.Len()))
}

// Split returns the first n examples and the remaining N−n as two datasets
// that share memory with d, for example to hold out a validation set
// (MNIST's training examples are in no particular order, so its last 10000
// make a fair one). It panics unless 1 ≤ n < N, so that both parts are non-empty.
func (d *Dataset) Split(n int) (first, rest *Dataset) {
	if n < 1 || n >= d.Len() {
		panic(fmt.Sprintf("data: Split(%d): want 1 ≤ n < %d so that both parts are non-empty", n, d.Len()))
	}
	return d.slice(0, n), d.slice(n, d.Len())
}

func (d *Dataset) slice(i, j int) *Dataset {
	c := *d
	f := d.features
	c.pixels = d.pixels[i*f : j*f : j*f]
	c.labels = d.labels[i:j:j]
	return &c
}
