package data

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/flowgrad/flowgrad/tensor"
)

// Kind is the task a dataset's targets pose.
type Kind int

const (
	// Classification: each example has a class label in 0..Classes−1.
	Classification Kind = iota
	// Regression: each example has a row of Outputs real-valued targets.
	Regression
)

// String returns "classification" or "regression".
func (k Kind) String() string {
	switch k {
	case Classification:
		return "classification"
	case Regression:
		return "regression"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Dataset is N examples held in memory, each a row of Features values and
// a target: a class label in 0..Classes−1 ([Classification]) or a row of
// Outputs real values ([Regression]).
//
// The feature values have one of two storages, which every consumer (the
// [Batcher], the [Stream], evaluation, checkpoints) serves alike:
//   - images ([NewDataset], [ReadDataset], [LoadMNIST]): uint8 pixels,
//     served as float32 value/255 in [0, 1], converted on the fly (1 byte a
//     value in memory);
//   - tables ([NewClassTable], [NewRegressionTable], the CSV reader):
//     float32 values in a tensor, served as they are (4 bytes a value).
//
// A Dataset is read-only after construction, so any number of Batchers and
// Streams may share one, also from several goroutines. Datasets made by
// [Dataset.Head] and [Dataset.Split] share memory with the original.
type Dataset struct {
	n        int
	features int
	pixels   []uint8   // images: n×features, row-major; nil for a table
	values   []float32 // tables: n×features, row-major; nil for images
	labels   []int32   // Classification: n labels; nil for Regression
	classes  int       // Classification: number of classes; 0 for Regression
	targets  []float32 // Regression: n×outputs, row-major; nil for Classification
	outputs  int       // Regression: target columns
	rows     int       // image shape, rows·cols = features (1×features for tables)
	cols     int
}

// NewDataset returns the image dataset of len(labels) examples whose values
// are pixels (row-major, features per example) and whose labels are in
// 0..classes−1. It does not copy the pixels: the caller must not change
// them afterwards. Its images are 1×features (see [Dataset.ImageShape]).
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
	l32 := make([]int32, len(labels))
	for i, l := range labels {
		l32[i] = int32(l)
	}
	return &Dataset{n: len(labels), features: features, pixels: pixels, labels: l32, classes: classes, rows: rows, cols: cols}, nil
}

// ErrNotFinite is wrapped by the error a table constructor returns for a
// NaN or infinite feature or target value.
var ErrNotFinite = errors.New("value is NaN or infinite")

// NewClassTable returns the classification dataset whose example i has the
// features of row i of x (n×f, float32) and the class labels[i] in
// 0..classes−1. It does not copy x or labels: the caller must not change
// them afterwards.
//
// It returns an error for an empty x ([ErrEmpty]), len(labels) ≠ n
// ([ErrCountMismatch]), classes < 1 or a label outside 0..classes−1
// ([ErrLabelRange]), or a NaN or infinite value ([ErrNotFinite]), naming
// the row and column. It panics if x is nil.
func NewClassTable(x *tensor.Dense[float32], labels []int32, classes int) (*Dataset, error) {
	d, err := newTable("NewClassTable", x, len(labels))
	if err != nil {
		return nil, err
	}
	if classes < 1 {
		return nil, fmt.Errorf("data: NewClassTable: %w: %d classes (want ≥ 1)", ErrLabelRange, classes)
	}
	for i, l := range labels {
		if l < 0 || int(l) >= classes {
			return nil, fmt.Errorf("data: NewClassTable: %w: label %d of row %d (want 0..%d)", ErrLabelRange, l, i, classes-1)
		}
	}
	d.labels, d.classes = labels, classes
	return d, nil
}

// NewRegressionTable returns the regression dataset whose example i has the
// features of row i of x (n×f) and the targets of row i of y (n×k, k ≥ 1
// outputs). It does not copy x or y: the caller must not change them
// afterwards.
//
// It returns an error for an empty x ([ErrEmpty]), a y with another number
// of rows ([ErrCountMismatch]) or a NaN or infinite value in x or y
// ([ErrNotFinite]), naming the row and column. It panics if x or y is nil.
func NewRegressionTable(x, y *tensor.Dense[float32]) (*Dataset, error) {
	if y == nil {
		panic("data: NewRegressionTable: nil targets")
	}
	d, err := newTable("NewRegressionTable", x, y.Rows())
	if err != nil {
		return nil, err
	}
	if r, c, ok := finite(y.Data(), y.Cols()); !ok {
		return nil, fmt.Errorf("data: NewRegressionTable: %w: target %v at row %d, column %d", ErrNotFinite, y.At(r, c), r, c)
	}
	d.targets, d.outputs = y.Data(), y.Cols()
	return d, nil
}

func newTable(who string, x *tensor.Dense[float32], targets int) (*Dataset, error) {
	if x == nil {
		panic(fmt.Sprintf("data: %s: nil features", who))
	}
	n := x.Rows()
	switch {
	case n == 0 || x.Cols() == 0:
		return nil, fmt.Errorf("data: %s: %w: %v features", who, ErrEmpty, x.Shape())
	case targets != n:
		return nil, fmt.Errorf("data: %s: %w: %d rows of features, %d targets", who, ErrCountMismatch, n, targets)
	}
	if r, c, ok := finite(x.Data(), x.Cols()); !ok {
		return nil, fmt.Errorf("data: %s: %w: feature %v at row %d, column %d", who, ErrNotFinite, x.At(r, c), r, c)
	}
	return &Dataset{n: n, features: x.Cols(), values: x.Data(), rows: 1, cols: x.Cols()}, nil
}

// finite returns true if every value of xs is finite, else the row and
// column (in rows of cols values) of the first that is not.
func finite(xs []float32, cols int) (row, col int, ok bool) {
	for i, v := range xs {
		if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
			return i / cols, i % cols, false
		}
	}
	return 0, 0, true
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
func (d *Dataset) Len() int { return d.n }

// Features returns the number of values per example (28·28 = 784 for MNIST).
func (d *Dataset) Features() int { return d.features }

// Kind returns the dataset's task: Classification or Regression.
func (d *Dataset) Kind() Kind {
	if d.targets != nil {
		return Regression
	}
	return Classification
}

// Classes returns the number of classes of a classification dataset
// (labels are in 0..Classes−1), and 0 for a regression dataset.
func (d *Dataset) Classes() int { return d.classes }

// Outputs returns the number of outputs a model of the dataset has: the
// number of classes (one logit each), or the number of target columns.
func (d *Dataset) Outputs() int {
	if d.Kind() == Regression {
		return d.outputs
	}
	return d.classes
}

// IsImages reports whether the features are stored as uint8 pixels (served
// as value/255) rather than float32 table values.
func (d *Dataset) IsImages() bool { return d.pixels != nil }

// ImageShape returns the rows and columns of one image as the IDX file gave
// them (28, 28 for MNIST); rows·cols = Features. A dataset made by
// [NewDataset] and every table has images of 1×Features.
func (d *Dataset) ImageShape() (rows, cols int) { return d.rows, d.cols }

// Image returns the pixels of example i of an image dataset, a slice of the
// dataset's memory that must not be modified. It panics if i is out of
// range or the dataset is a table (use [Dataset.Example]).
func (d *Dataset) Image(i int) []uint8 {
	d.check("Image", i)
	if d.pixels == nil {
		panic("data: Image: the dataset is a float table, not images (use Example)")
	}
	f := d.features
	return d.pixels[i*f : (i+1)*f : (i+1)*f]
}

// Example writes the features of example i, as a batch serves them (pixel/255
// for images), into dst[:Features] and returns that slice. It panics if i is
// out of range or len(dst) < Features.
func (d *Dataset) Example(i int, dst []float32) []float32 {
	d.check("Example", i)
	f := d.features
	if len(dst) < f {
		panic(fmt.Sprintf("data: Example: dst of length %d, want %d", len(dst), f))
	}
	d.gather(dst[:f], []int{i})
	return dst[:f]
}

// Label returns the label of example i. It panics if i is out of range or
// the dataset is a regression dataset.
func (d *Dataset) Label(i int) int {
	d.check("Label", i)
	if d.labels == nil {
		panic("data: Label: a regression dataset has targets, not labels (use Target)")
	}
	return int(d.labels[i])
}

// Target returns the Outputs targets of example i of a regression dataset,
// a slice of the dataset's memory that must not be modified. It panics if i
// is out of range or the dataset is a classification dataset.
func (d *Dataset) Target(i int) []float32 {
	d.check("Target", i)
	if d.targets == nil {
		panic("data: Target: a classification dataset has labels, not targets (use Label)")
	}
	k := d.outputs
	return d.targets[i*k : (i+1)*k : (i+1)*k]
}

// Pixels returns all values of an image dataset, N×Features row-major, or
// nil for a table; the caller must not modify them.
func (d *Dataset) Pixels() []uint8 { return d.pixels }

// Values returns all feature values of a table, N×Features row-major, or
// nil for an image dataset; the caller must not modify them.
func (d *Dataset) Values() []float32 { return d.values }

// Labels returns all N labels of a classification dataset, or nil for a
// regression dataset; the caller must not modify them.
func (d *Dataset) Labels() []int32 { return d.labels }

// Targets returns all targets of a regression dataset, N×Outputs row-major,
// or nil for a classification dataset; the caller must not modify them.
func (d *Dataset) Targets() []float32 { return d.targets }

func (d *Dataset) check(op string, i int) {
	if i < 0 || i >= d.n {
		panic(fmt.Sprintf("data: %s(%d): index out of range for a dataset of %d examples", op, i, d.n))
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
	c.n = j - i
	f, k := d.features, d.outputs
	if d.pixels != nil {
		c.pixels = d.pixels[i*f : j*f : j*f]
	} else {
		c.values = d.values[i*f : j*f : j*f]
	}
	if d.labels != nil {
		c.labels = d.labels[i:j:j]
	} else {
		c.targets = d.targets[i*k : j*k : j*k]
	}
	return &c
}

// gather writes the features of the examples idx into dst, one row of
// Features values each: pixel/255 for images, the values for tables.
func (d *Dataset) gather(dst []float32, idx []int) {
	f := d.features
	for r, i := range idx {
		row := dst[r*f : (r+1)*f : (r+1)*f]
		if d.pixels != nil {
			convert(row, d.pixels[i*f:(i+1)*f])
		} else {
			copy(row, d.values[i*f:(i+1)*f])
		}
	}
}

// gatherTargets writes the targets of the examples idx: their labels into
// labels (classification) or their target rows into targets (regression,
// Outputs values each).
func (d *Dataset) gatherTargets(labels []int, targets *tensor.Dense[float32], idx []int) {
	if d.labels != nil {
		for r, i := range idx {
			labels[r] = int(d.labels[i])
		}
		return
	}
	k, t := d.outputs, targets.Data()
	for r, i := range idx {
		copy(t[r*k:(r+1)*k], d.targets[i*k:(i+1)*k])
	}
}
