package data

import (
	"fmt"
	"math"
	"strings"
)

// ColumnValues is one column of a table built in memory by [NewTable]:
// made by [NumericColumn], [CategoricalColumn] or [TextColumn].
type ColumnValues struct {
	name    string
	typ     ColumnType
	numbers []float64
	strings []string
}

// NumericColumn is a column of numbers; a NaN is a missing value.
func NumericColumn(name string, values []float64) ColumnValues {
	return ColumnValues{name: name, typ: Numeric, numbers: values}
}

// CategoricalColumn is a column of categories (class names, say); an
// empty or blank string is a missing value.
func CategoricalColumn(name string, values []string) ColumnValues {
	return ColumnValues{name: name, typ: Categorical, strings: values}
}

// TextColumn is a column of strings that is not a feature (an ID carried
// through to predictions).
func TextColumn(name string, values []string) ColumnValues {
	return ColumnValues{name: name, typ: Text, strings: values}
}

func (c ColumnValues) len() int {
	if c.typ == Numeric {
		return len(c.numbers)
	}
	return len(c.strings)
}

// NewTable returns the table of the columns, in their order, for data
// that is already in memory (from a database query, say) rather than in a
// CSV file. It is the table [ReadCSV] would read from a CSV of these
// columns written with a header, read with [CSVOptions.Missing] (a NaN or
// a blank category is a missing value, which [FitOptions.FillMissing]
// fills in and is an error otherwise) and the columns' types as given;
// errors name row i as that file's line i+2. The values are copied (as
// float32). It returns an error for no columns or rows, a missing or
// repeated name, columns of different lengths ([ErrColumns]), and an
// infinite number or one beyond the float32 range ([ErrBadValue]).
func NewTable(name string, cols ...ColumnValues) (*Table, error) {
	if len(cols) == 0 {
		return nil, fmt.Errorf("data: %s: %w: no columns", name, ErrEmpty)
	}
	names := make([]string, len(cols))
	for j, c := range cols {
		names[j] = c.name
		if c.len() != cols[0].len() {
			return nil, fmt.Errorf("data: %s: %w: column %q has %d values, but column %q has %d (every column needs one value per row)",
				name, ErrColumns, c.name, c.len(), cols[0].name, cols[0].len())
		}
	}
	t, err := startTable(name, names, &CSVOptions{Missing: true})
	if err != nil {
		return nil, err
	}
	for j, c := range cols {
		col := t.cols[j]
		col.typ = c.typ
		for i := range c.len() {
			if err := col.addValue(c, i); err != nil {
				return nil, fmt.Errorf("data: %s: line %d, column %q: %w", name, i+2, col.name, err)
			}
		}
	}
	for i := range cols[0].len() {
		t.lines.add(int32(min(i+2, math.MaxInt32)))
	}
	if err := t.finish(); err != nil {
		return nil, err
	}
	return t, nil
}

// addValue appends value i of v, whose type is the column's.
func (c *Column) addValue(v ColumnValues, i int) error {
	switch c.typ {
	case Numeric:
		x := v.numbers[i]
		switch {
		case math.IsNaN(x):
			c.addMissing()
		case math.IsInf(float64(float32(x)), 0): // rounds beyond the float32 range, as ReadCSV's strconv
			return fmt.Errorf("%w: %v is not a finite float32 (rescale the column)", ErrBadValue, x)
		default:
			c.nums.add(float32(x))
		}
		return nil
	case Text:
		c.text.add(v.strings[i])
		return nil
	}
	s := v.strings[i]
	if strings.TrimSpace(s) == "" {
		c.addMissing()
		return nil
	}
	return c.add(s, true) // interned as when read
}
