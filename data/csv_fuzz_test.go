package data

import (
	"bytes"
	"math"
	"testing"
)

// FuzzReadCSV checks that no input makes the CSV reader panic, and that a
// table it returns is whole: at least one row, distinct column names, every
// column as long as the table, finite numbers, ordered line numbers. It
// reads each input twice, the second time with missing values allowed:
// then a value is NaN exactly when it is missing, the columns count their
// missing values, and an input the first read takes is read the same way.
func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{
		"a,b,c\n1,x,2\n3,\"y,z\",4\n",
		"\uFEFFid,x,y\r\n1,2.5,cat\r\n2,-1e3,dog\r\n",
		"a;b\n1;2\n",
		"a,b\n1,2\n3\n",
		"a,a\n1,2\n",
		"a,b\nNaN,1\n",
		"x,y\n\"multi\nline\",1\n",
		"a,b,c\n,x,\n2, ,\n",
	} {
		f.Add([]byte(s), false)
		f.Add(gz([]byte(s)), true)
	}
	f.Fuzz(func(t *testing.T, in []byte, semicolon bool) {
		opt := &CSVOptions{}
		if semicolon {
			opt.Comma = ';'
		}
		tab, err := ReadCSV(bytes.NewReader(in), "fuzz", opt)
		if err == nil {
			checkWhole(t, tab)
		} else if tab != nil {
			t.Fatal("a table and an error")
		}
		opt.Missing = true
		withMissing, err2 := ReadCSV(bytes.NewReader(in), "fuzz", opt)
		if err2 != nil {
			if withMissing != nil {
				t.Fatal("a table and an error")
			}
			if err == nil {
				t.Fatalf("read without missing values, but not with: %v", err2)
			}
			return
		}
		checkWhole(t, withMissing)
		if err != nil {
			return
		}
		for j, c := range tab.Columns() {
			d := withMissing.Columns()[j]
			if d.Type() != c.Type() || d.Missing() != 0 {
				t.Fatalf("column %q: %v, %d missing, against %v", c.Name(), d.Type(), d.Missing(), c.Type())
			}
			for i := range tab.Len() {
				if c.Value(i) != d.Value(i) {
					t.Fatalf("column %q row %d: %q against %q", c.Name(), i, d.Value(i), c.Value(i))
				}
			}
		}
	})
}

// checkWhole fails t unless tab is a whole table (see FuzzReadCSV).
func checkWhole(t *testing.T, tab *Table) {
	if tab.Len() < 1 || len(tab.Columns()) < 1 {
		t.Fatalf("%d rows, %d columns", tab.Len(), len(tab.Columns()))
	}
	names := map[string]bool{}
	for _, c := range tab.Columns() {
		if c.Name() == "" || names[c.Name()] {
			t.Fatalf("column name %q empty or repeated", c.Name())
		}
		names[c.Name()] = true
		missing := 0
		for i := range tab.Len() {
			_ = c.Value(i)
			if c.IsMissing(i) {
				missing++
				if c.Value(i) != "" {
					t.Fatalf("column %q row %d: missing, but %q", c.Name(), i, c.Value(i))
				}
				continue
			}
			if c.Type() == Numeric {
				if v := float64(c.Float(i)); math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("column %q row %d: %v", c.Name(), i, v)
				}
			}
		}
		if missing != c.Missing() {
			t.Fatalf("column %q: %d values missing, but Missing() = %d", c.Name(), missing, c.Missing())
		}
	}
	for i := 1; i < tab.Len(); i++ {
		if tab.Line(i) <= tab.Line(i-1) {
			t.Fatalf("line %d after %d", tab.Line(i), tab.Line(i-1))
		}
	}
}
