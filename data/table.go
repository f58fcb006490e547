package data

import (
	"errors"
	"fmt"
	"iter"
	"math"
	"strconv"
)

// The kinds of error that reading and preparing tables can return, beside
// [ErrEmpty] and [ErrCorrupt]. Each message names the file, the line and
// the column where that makes sense, and says what to do.
var (
	// ErrColumns: a header with a missing or duplicate column name, a row
	// with another number of fields than the header, a target or ignored
	// column that does not exist, or a table whose columns do not match the
	// ones a [Preprocessor] was fitted on.
	ErrColumns = errors.New("bad columns")
	// ErrBadValue: a value that cannot be used: not a number in a numeric
	// column, NaN or infinite, or out of float32 range.
	ErrBadValue = errors.New("bad value")
	// ErrMissing: an empty value where none may be missing (see
	// [CSVOptions.Missing] and [FitOptions.FillMissing]), a missing
	// target, or a column with no values at all.
	ErrMissing = errors.New("missing value")
	// ErrUnseen: a class or category that the training rows did not have.
	ErrUnseen = errors.New("not seen in training")
	// ErrDegenerate: training rows that cannot train a model: a single
	// class, or a feature with the same value in every row.
	ErrDegenerate = errors.New("degenerate training data")
)

// ColumnType is how a table stores a column's values.
type ColumnType int

const (
	// Numeric columns hold float32 values.
	Numeric ColumnType = iota
	// Categorical columns hold strings as codes into the column's levels:
	// each distinct string is stored once.
	Categorical
	// Text columns hold their strings as read, for columns that are not
	// features (an ID column carried through to predictions).
	Text
)

// String names the type: "numeric", "categorical" or "text".
func (c ColumnType) String() string {
	switch c {
	case Numeric:
		return "numeric"
	case Categorical:
		return "categorical"
	case Text:
		return "text"
	}
	return fmt.Sprintf("ColumnType(%d)", int(c))
}

// MarshalText encodes the type as its name.
func (c ColumnType) MarshalText() ([]byte, error) {
	if c < Numeric || c > Text {
		return nil, fmt.Errorf("data: unknown %v", c)
	}
	return []byte(c.String()), nil
}

// UnmarshalText decodes a name that String returns.
func (c *ColumnType) UnmarshalText(b []byte) error {
	for t := Numeric; t <= Text; t++ {
		if string(b) == t.String() {
			*c = t
			return nil
		}
	}
	return fmt.Errorf("data: unknown column type %q (want numeric, categorical or text)", b)
}

// Table is a raw table read from a CSV file ([ReadCSV]): named columns of
// numbers, categories or text, and for each row the file line it came
// from, so that later checks can name it. Its values are as read: nothing
// is scaled or encoded yet (a [Preprocessor] does that).
//
// Columns are stored in chunks of fixed size, so a table grows without
// ever copying its values: a million rows of twenty numeric columns take
// 80 MB plus 4 MB of line numbers. A Table is read-only after reading,
// and a [Table.Subset] of it is a view that shares its values.
type Table struct {
	name      string
	cols      []*Column
	lines     chunked[int32]
	rows      []int32 // a view: the rows of the read table, in order; nil: all
	missingOK bool    // blank values are missing ones (CSVOptions.Missing)
}

// Name returns the name the table was read under (its file).
func (t *Table) Name() string { return t.name }

// Len returns the number of data rows.
func (t *Table) Len() int {
	if t.rows != nil {
		return len(t.rows)
	}
	return t.lines.len()
}

// Columns returns the columns in file order. The slice must not be
// modified.
func (t *Table) Columns() []*Column { return t.cols }

// Column returns the column named name, or nil if there is none.
func (t *Table) Column(name string) *Column {
	if j := t.find(name, 0); j >= 0 {
		return t.cols[j]
	}
	return nil
}

// find returns the index of the column named name, or -1, looking from
// column from on and then from the start: features are found in one pass
// when the table has them in the training file's order.
func (t *Table) find(name string, from int) int {
	for k := range len(t.cols) {
		j := (from + k) % len(t.cols)
		if t.cols[j].name == name {
			return j
		}
	}
	return -1
}

// Line returns the line of the file on which row i starts (the header is
// line 1). It panics if i is out of range.
func (t *Table) Line(i int) int { return int(t.lines.at(viewRow(t.rows, i))) }

// viewRow returns the row of the read table that row i of a view with
// rows rows is (i itself when rows is nil, not a view). It panics if i is
// out of range.
func viewRow(rows []int32, i int) int {
	if rows == nil {
		return i
	}
	return int(rows[i])
}

// where locates row i of column c for an error message: "file: line L,
// column "c"".
func (t *Table) where(i int, c *Column) string {
	return fmt.Sprintf("%s: line %d, column %q", t.name, t.Line(i), c.name)
}

// Subset returns a table of the rows idx of t, in that order, with the
// same columns, levels and line numbers. It is a view: it shares t's
// values and stores only the row numbers (4 bytes a row), so a split of a
// large table costs no second copy. It panics if an index is out of range.
func (t *Table) Subset(idx []int) *Table {
	rows := make([]int32, len(idx)) // never nil: an empty view has no rows
	n := t.Len()
	for k, i := range idx {
		if i < 0 || i >= n {
			panic(fmt.Sprintf("data: row %d out of range for a table of %d rows", i, n))
		}
		rows[k] = int32(viewRow(t.rows, i))
	}
	s := &Table{name: t.name, cols: make([]*Column, len(t.cols)), lines: t.lines, rows: rows, missingOK: t.missingOK}
	for j, c := range t.cols {
		d := *c
		d.rows, d.index, d.missing = rows, nil, 0
		if c.missing > 0 {
			for k := range rows {
				if d.IsMissing(k) {
					d.missing++
				}
			}
		}
		s.cols[j] = &d
	}
	return s
}

// Column is one column of a [Table].
type Column struct {
	name   string
	typ    ColumnType
	nums   chunked[float32] // Numeric
	codes  chunked[int32]   // Categorical: indices into levels
	levels []string         // Categorical: distinct values, first seen first
	index  map[string]int32 // Categorical, while reading: levels' codes
	text   chunked[string]  // Text
	// missing counts the missing values, stored as NaN (Numeric) or code
	// −1 (Categorical); while the type is undecided, the blanks read.
	missing int
	rows    []int32 // a view's rows of the stored values, as its Table's
}

// numbers yields a Numeric column's values in row order (NaN for a missing
// one), through a view's rows.
func (c *Column) numbers() iter.Seq[float32] {
	return func(yield func(float32) bool) {
		if c.rows == nil {
			for _, chunk := range c.nums.chunks {
				for _, v := range chunk {
					if !yield(v) {
						return
					}
				}
			}
			return
		}
		for _, r := range c.rows {
			if !yield(c.nums.at(int(r))) {
				return
			}
		}
	}
}

// num, code and str return row i's stored value, through a view's rows.
func (c *Column) num(i int) float32 { return c.nums.at(viewRow(c.rows, i)) }
func (c *Column) code(i int) int32  { return c.codes.at(viewRow(c.rows, i)) }
func (c *Column) str(i int) string  { return c.text.at(viewRow(c.rows, i)) }

// missingCode is the code of a missing value in a Categorical column.
const missingCode = -1

// addMissing appends a missing value.
func (c *Column) addMissing() {
	c.missing++
	switch c.typ {
	case Numeric:
		c.nums.add(float32(math.NaN()))
	case Categorical:
		c.codes.add(missingCode)
	}
}

// len returns the number of values in the column.
func (c *Column) len() int {
	if c.rows != nil {
		return len(c.rows)
	}
	return max(c.nums.len(), c.codes.len(), c.text.len())
}

// Missing returns the number of missing values in the column: blank
// fields of a table read with [CSVOptions.Missing].
func (c *Column) Missing() int { return c.missing }

// IsMissing reports whether row i's value is missing. It panics for an
// index out of range.
func (c *Column) IsMissing(i int) bool {
	switch c.typ {
	case Numeric:
		v := c.num(i)
		return v != v // NaN: a NaN field is an error, so NaN marks a blank
	case Categorical:
		return c.code(i) == missingCode
	}
	c.str(i)
	return false
}

// Name returns the column's name from the header.
func (c *Column) Name() string { return c.name }

// Type returns how the column stores its values.
func (c *Column) Type() ColumnType { return c.typ }

// Float returns the value of row i of a Numeric column, NaN if it is
// missing. It panics for another type or an index out of range.
func (c *Column) Float(i int) float32 {
	c.must("Float", Numeric)
	return c.num(i)
}

// Code returns the level index of row i of a Categorical column (see
// [Column.Levels]), −1 if the value is missing. It panics for another type
// or an index out of range.
func (c *Column) Code(i int) int {
	c.must("Code", Categorical)
	return int(c.code(i))
}

// Levels returns the distinct values of a Categorical column in the order
// they first appear; the slice must not be modified. It is nil for other
// types.
func (c *Column) Levels() []string { return c.levels }

// Counts returns, for a Categorical column, how many of its rows have each
// level: Counts()[k] rows have Levels()[k] (a [Table.Subset]'s column
// counts its own rows, and may count 0 for a level of the file). Missing
// values count for none. It panics for another type.
func (c *Column) Counts() []int {
	c.must("Counts", Categorical)
	counts := make([]int, len(c.levels))
	for i := range c.len() {
		if k := c.code(i); k != missingCode {
			counts[k]++
		}
	}
	return counts
}

// Value returns row i as a string: the category or text as read, the
// number formatted in the shortest form that reads back to the same
// float32, or "" for a missing value. It panics for an index out of range.
func (c *Column) Value(i int) string {
	if c.missing > 0 && c.IsMissing(i) {
		return ""
	}
	switch c.typ {
	case Numeric:
		return strconv.FormatFloat(float64(c.num(i)), 'g', -1, 32)
	case Categorical:
		return c.levels[c.code(i)]
	}
	return c.str(i)
}

func (c *Column) must(op string, t ColumnType) {
	if c.typ != t {
		panic(fmt.Sprintf("data: Column.%s on the %v column %q (want %v)", op, c.typ, c.name, t))
	}
}

// chunkLen is the number of values in every chunk of a chunked but the
// first, which grows by doubling up to chunkLen: small tables stay small,
// large ones never copy more than one chunk.
const chunkLen = 1 << 16

// chunked is an append-only sequence stored in chunks of chunkLen values,
// so that growing it never copies what it holds (a single slice grown by
// append would need up to three times its size while it doubles).
type chunked[T any] struct {
	chunks [][]T
	n      int
}

func (c *chunked[T]) len() int { return c.n }

func (c *chunked[T]) add(v T) {
	k := len(c.chunks) - 1
	if k < 0 || len(c.chunks[k]) == chunkLen {
		size := chunkLen
		if k < 0 {
			size = 8 // a table of one row (a request to predict) stays small
		}
		c.chunks = append(c.chunks, make([]T, 0, size))
		k++
	}
	last := c.chunks[k]
	if len(last) == cap(last) { // only the first chunk grows
		grown := make([]T, len(last), min(2*cap(last), chunkLen))
		copy(grown, last)
		last = grown
	}
	c.chunks[k] = append(last, v)
	c.n++
}

func (c *chunked[T]) at(i int) T {
	if i < 0 || i >= c.n {
		panic(fmt.Sprintf("data: row %d out of range for a table of %d rows", i, c.n))
	}
	return c.chunks[i/chunkLen][i%chunkLen]
}
