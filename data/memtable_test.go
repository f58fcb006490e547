package data_test

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/flowgrad/flowgrad/data"
)

// NewTable holds what ReadCSV reads from the same columns written as a
// CSV: types, values, missing values, categories in order of first
// appearance, and the lines errors name.
func TestNewTableIsTheCSVTable(t *testing.T) {
	ids := []string{"a1", "a2", "a3", "a4"}
	size := []float64{1.5, math.NaN(), -3.25e7, 0.1}
	colour := []string{"red", "blue", "", "red"}
	price := []float64{10, 20, 30, 40}
	got, err := data.NewTable("mem", data.TextColumn("id", ids), data.NumericColumn("size", size),
		data.CategoricalColumn("colour", colour), data.NumericColumn("price", price))
	if err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("id,size,colour,price\n")
	for i := range ids {
		s := ""
		if !math.IsNaN(size[i]) {
			s = strconv.FormatFloat(float64(float32(size[i])), 'g', -1, 32)
		}
		csv.WriteString(ids[i] + "," + s + "," + colour[i] + "," + strconv.FormatFloat(price[i], 'g', -1, 64) + "\n")
	}
	want, err := data.ReadCSV(strings.NewReader(csv.String()), "mem", &data.CSVOptions{Missing: true, Text: []string{"id"}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Len() != want.Len() || len(got.Columns()) != len(want.Columns()) {
		t.Fatalf("%d rows × %d columns, want %d × %d", got.Len(), len(got.Columns()), want.Len(), len(want.Columns()))
	}
	for j, w := range want.Columns() {
		g := got.Columns()[j]
		if g.Name() != w.Name() || g.Type() != w.Type() || g.Missing() != w.Missing() || strings.Join(g.Levels(), "|") != strings.Join(w.Levels(), "|") {
			t.Errorf("column %d: %s %v, %d missing, levels %q; want %s %v, %d, %q", j, g.Name(), g.Type(), g.Missing(), g.Levels(), w.Name(), w.Type(), w.Missing(), w.Levels())
		}
		for i := range got.Len() {
			if g.IsMissing(i) != w.IsMissing(i) || g.Value(i) != w.Value(i) || got.Line(i) != want.Line(i) {
				t.Errorf("%s row %d: %q (missing %v, line %d), want %q (%v, %d)", g.Name(), i, g.Value(i), g.IsMissing(i), got.Line(i), w.Value(i), w.IsMissing(i), want.Line(i))
			}
			if g.Type() == data.Numeric && !g.IsMissing(i) && g.Float(i) != w.Float(i) {
				t.Errorf("%s row %d: %v, want %v", g.Name(), i, g.Float(i), w.Float(i))
			}
		}
	}
}

func TestNewTableErrors(t *testing.T) {
	x := data.NumericColumn("x", []float64{1, 2})
	for _, c := range []struct {
		cols []data.ColumnValues
		is   error
		want string
	}{
		{nil, data.ErrEmpty, "no columns"},
		{[]data.ColumnValues{data.NumericColumn("x", nil)}, data.ErrEmpty, "no rows"},
		{[]data.ColumnValues{x, data.CategoricalColumn("y", []string{"a"})}, data.ErrColumns, `column "y" has 1 values, but column "x" has 2`},
		{[]data.ColumnValues{x, data.NumericColumn("x", []float64{3, 4})}, data.ErrColumns, `both named "x"`},
		{[]data.ColumnValues{x, data.NumericColumn(" ", []float64{3, 4})}, data.ErrColumns, "has no name"},
		{[]data.ColumnValues{x, data.NumericColumn("z", []float64{3, math.Inf(1)})}, data.ErrBadValue, `line 3, column "z"`},
		{[]data.ColumnValues{x, data.NumericColumn("z", []float64{1e39, 4})}, data.ErrBadValue, "not a finite float32"},
	} {
		_, err := data.NewTable("mem", c.cols...)
		if !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%d columns: error %v, want %v saying %q", len(c.cols), err, c.is, c.want)
		}
	}
}
