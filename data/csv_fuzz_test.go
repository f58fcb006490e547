package data

import (
	"bytes"
	"math"
	"testing"
)

// FuzzReadCSV checks that no input makes the CSV reader panic, and that a
// table it returns is whole: at least one row, distinct column names, every
// column as long as the table, finite numbers, ordered line numbers.
func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{
		"a,b,c\n1,x,2\n3,\"y,z\",4\n",
		"\uFEFFid,x,y\r\n1,2.5,cat\r\n2,-1e3,dog\r\n",
		"a;b\n1;2\n",
		"a,b\n1,2\n3\n",
		"a,a\n1,2\n",
		"a,b\nNaN,1\n",
		"x,y\n\"multi\nline\",1\n",
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
		if err != nil {
			if tab != nil {
				t.Fatal("a table and an error")
			}
			return
		}
		if tab.Len() < 1 || len(tab.Columns()) < 1 {
			t.Fatalf("%d rows, %d columns", tab.Len(), len(tab.Columns()))
		}
		names := map[string]bool{}
		for _, c := range tab.Columns() {
			if c.Name() == "" || names[c.Name()] {
				t.Fatalf("column name %q empty or repeated", c.Name())
			}
			names[c.Name()] = true
			for i := range tab.Len() {
				_ = c.Value(i)
				if c.Type() == Numeric {
					if v := float64(c.Float(i)); math.IsNaN(v) || math.IsInf(v, 0) {
						t.Fatalf("column %q row %d: %v", c.Name(), i, v)
					}
				}
			}
		}
		for i := 1; i < tab.Len(); i++ {
			if tab.Line(i) <= tab.Line(i-1) {
				t.Fatalf("line %d after %d", tab.Line(i), tab.Line(i-1))
			}
		}
	})
}
