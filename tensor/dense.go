package tensor

import (
	"fmt"
	"strings"

	gt "gorgonia.org/tensor"
)

// Float is the set of element types flowgrad computes in: float32 for
// training speed, float64 where precision matters (gradient checks, tests).
type Float interface {
	float32 | float64
}

// Shape is the size of a matrix: Rows×Cols.
type Shape struct {
	Rows, Cols int
}

// String formats s as "Rows×Cols".
func (s Shape) String() string { return fmt.Sprintf("%d×%d", s.Rows, s.Cols) }

// Size is Rows·Cols, the number of elements.
func (s Shape) Size() int { return s.Rows * s.Cols }

// Dense is a dense row-major Rows×Cols matrix of T. Its storage is a
// gorgonia.org/tensor *Dense (see [Dense.Gorgonia]); Data gives the same
// memory as a plain slice, element (i, j) at index i·Cols + j.
//
// The zero value is not usable; create matrices with [New], [FromSlice] or
// [Scalar].
type Dense[T Float] struct {
	shape Shape
	data  []T
	g     *gt.Dense
}

// New returns a rows×cols matrix of zeros. It panics if rows or cols < 1.
func New[T Float](rows, cols int) *Dense[T] {
	checkDims("New", rows, cols)
	return FromSlice(rows, cols, make([]T, rows*cols))
}

// FromSlice returns a rows×cols matrix that uses data (row-major) as its
// storage, without copying. It panics if rows or cols < 1 or
// len(data) != rows·cols.
func FromSlice[T Float](rows, cols int, data []T) *Dense[T] {
	checkDims("FromSlice", rows, cols)
	if len(data) != rows*cols {
		panic(fmt.Sprintf("tensor: FromSlice: %d elements for shape %d×%d (want %d)", len(data), rows, cols, rows*cols))
	}
	return &Dense[T]{
		shape: Shape{rows, cols},
		data:  data,
		g:     gt.New(gt.WithShape(rows, cols), gt.WithBacking(data)),
	}
}

// Scalar returns the 1×1 matrix holding v.
func Scalar[T Float](v T) *Dense[T] { return FromSlice(1, 1, []T{v}) }

func checkDims(op string, rows, cols int) {
	if rows < 1 || cols < 1 {
		panic(fmt.Sprintf("tensor: %s: shape %d×%d has a dimension < 1", op, rows, cols))
	}
}

// Shape returns the matrix's size.
func (m *Dense[T]) Shape() Shape { return m.shape }

// Rows returns the number of rows.
func (m *Dense[T]) Rows() int { return m.shape.Rows }

// Cols returns the number of columns.
func (m *Dense[T]) Cols() int { return m.shape.Cols }

// Len returns Rows·Cols.
func (m *Dense[T]) Len() int { return len(m.data) }

// Data returns the row-major storage. Writes to it change the matrix.
func (m *Dense[T]) Data() []T { return m.data }

// Row returns row i as a slice of the storage.
func (m *Dense[T]) Row(i int) []T {
	c := m.shape.Cols
	return m.data[i*c : (i+1)*c : (i+1)*c]
}

// At returns element (i, j).
func (m *Dense[T]) At(i, j int) T {
	m.checkIndex(i, j)
	return m.data[i*m.shape.Cols+j]
}

// Set sets element (i, j) to v.
func (m *Dense[T]) Set(i, j int, v T) {
	m.checkIndex(i, j)
	m.data[i*m.shape.Cols+j] = v
}

func (m *Dense[T]) checkIndex(i, j int) {
	if i < 0 || i >= m.shape.Rows || j < 0 || j >= m.shape.Cols {
		panic(fmt.Sprintf("tensor: index (%d, %d) out of range for %v", i, j, m.shape))
	}
}

// Gorgonia returns the gorgonia.org/tensor matrix that stores m; it shares
// m's memory.
func (m *Dense[T]) Gorgonia() *gt.Dense { return m.g }

// Clone returns a deep copy of m.
func (m *Dense[T]) Clone() *Dense[T] {
	c := New[T](m.shape.Rows, m.shape.Cols)
	copy(c.data, m.data)
	return c
}

// CopyFrom copies src into m. It panics if the shapes differ.
func (m *Dense[T]) CopyFrom(src *Dense[T]) {
	MustSameShape("CopyFrom", m, src)
	copy(m.data, src.data)
}

// Zero sets every element to 0.
func (m *Dense[T]) Zero() { clear(m.data) }

// Fill sets every element to v.
func (m *Dense[T]) Fill(v T) {
	for i := range m.data {
		m.data[i] = v
	}
}

// Scalar returns the value of a 1×1 matrix; it panics for any other shape.
func (m *Dense[T]) Scalar() T {
	if m.shape != (Shape{1, 1}) {
		panic(fmt.Sprintf("tensor: Scalar of a %v matrix (want 1×1)", m.shape))
	}
	return m.data[0]
}

// String formats m row by row, for debugging and examples.
func (m *Dense[T]) String() string {
	var b strings.Builder
	for i := 0; i < m.shape.Rows; i++ {
		b.WriteByte('[')
		for j, v := range m.Row(i) {
			if j > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%g", v)
		}
		b.WriteByte(']')
		if i < m.shape.Rows-1 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// MustSameShape panics, naming op and both shapes, unless a and b have the
// same shape.
func MustSameShape[T Float](op string, a, b *Dense[T]) {
	if a.shape != b.shape {
		panic(fmt.Sprintf("tensor: %s: shapes %v and %v differ", op, a.shape, b.shape))
	}
}
