package data

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readString(t *testing.T, s string, opt *CSVOptions) *Table {
	t.Helper()
	tab, err := ReadCSV(strings.NewReader(s), "t.csv", opt)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func TestReadCSVTypesAndValues(t *testing.T) {
	tab := readString(t, "id, x ,color,y\n7,1.5,red,a\n8,-2e3,blue,b\n9, 3 ,red,a\n", &CSVOptions{Text: []string{"id"}})
	if tab.Len() != 3 || len(tab.Columns()) != 4 {
		t.Fatalf("%d rows, %d columns", tab.Len(), len(tab.Columns()))
	}
	wantTypes := map[string]ColumnType{"id": Text, "x": Numeric, "color": Categorical, "y": Categorical}
	for n, typ := range wantTypes {
		if c := tab.Column(n); c == nil || c.Type() != typ {
			t.Errorf("column %q: %v, want type %v", n, c, typ)
		}
	}
	x := tab.Column("x")
	for i, want := range []float32{1.5, -2000, 3} {
		if got := x.Float(i); got != want {
			t.Errorf("x[%d] = %v, want %v", i, got, want)
		}
	}
	color := tab.Column("color")
	if got := strings.Join(color.Levels(), ","); got != "red,blue" {
		t.Errorf("levels %s", got)
	}
	if color.Code(0) != color.Code(2) || color.Code(0) == color.Code(1) || color.Value(1) != "blue" {
		t.Errorf("codes %d %d %d", color.Code(0), color.Code(1), color.Code(2))
	}
	if tab.Column("id").Value(2) != "9" || tab.Line(2) != 4 {
		t.Errorf("id %q line %d", tab.Column("id").Value(2), tab.Line(2))
	}
	if tab.Column("nope") != nil {
		t.Error("a column that does not exist")
	}
}

// The same table in every accepted dress reads to the same values.
func TestReadCSVConventions(t *testing.T) {
	plain := "a,b,c\n1,x,2\n3,\"y,z\",4\n"
	want := readString(t, plain, nil)
	cases := map[string]struct {
		in  string
		opt *CSVOptions
	}{
		"CRLF":             {strings.ReplaceAll(plain, "\n", "\r\n"), nil},
		"BOM":              {"\uFEFF" + plain, nil},
		"semicolon":        {"a;b;c\n1;x;2\n3;y,z;4\n", &CSVOptions{Comma: ';'}},
		"tab":              {"a\tb\tc\n1\tx\t2\n3\ty,z\t4\n", &CSVOptions{Comma: '\t'}},
		"gzip":             {string(gz([]byte("\uFEFF" + plain))), nil},
		"no final newline": {strings.TrimSuffix(plain, "\n"), nil},
	}
	for name, c := range cases {
		got := readString(t, c.in, c.opt)
		if got.Len() != want.Len() {
			t.Fatalf("%s: %d rows", name, got.Len())
		}
		for j, col := range want.Columns() {
			g := got.Columns()[j]
			if g.Name() != col.Name() || g.Type() != col.Type() {
				t.Errorf("%s: column %d is %q %v", name, j, g.Name(), g.Type())
			}
			for i := range want.Len() {
				if g.Value(i) != col.Value(i) {
					t.Errorf("%s: row %d column %q: %q, want %q", name, i, g.Name(), g.Value(i), col.Value(i))
				}
			}
		}
	}
}

func TestReadCSVForcedTypes(t *testing.T) {
	tab := readString(t, "zip,y\n10115,1\n80331,2\n", &CSVOptions{Categorical: []string{"zip", "y"}})
	if readString(t, "a\n1\n", &CSVOptions{Categorical: []string{"absent"}}).Len() != 1 {
		t.Error("a categorical hint for an absent column is an error")
	}
	if c := tab.Column("zip"); c.Type() != Categorical || c.Value(1) != "80331" {
		t.Errorf("zip: %v %q", c.Type(), c.Value(1))
	}
	// A later non-number in a column forced categorical is just a category.
	tab = readString(t, "k,y\n1,1\nabc,2\n", &CSVOptions{Categorical: []string{"k"}})
	if tab.Column("k").Value(1) != "abc" {
		t.Error(tab.Column("k").Value(1))
	}
}

func TestReadCSVErrors(t *testing.T) {
	cases := []struct {
		name, in string
		opt      *CSVOptions
		kind     error
		parts    []string
	}{
		{"empty", "", nil, ErrEmpty, []string{"t.csv", "empty"}},
		{"header only", "a,b\n", nil, ErrEmpty, []string{"t.csv", "header but no rows"}},
		{"missing name", "a,,c\n1,2,3\n", nil, ErrColumns, []string{"line 1", "column 2 has no name"}},
		{"duplicate name", "a,b,a\n1,2,3\n", nil, ErrColumns, []string{"line 1", "columns 1 and 3", `"a"`}},
		{"ragged short", "a,b,c\n1,2,3\n4,5\n", nil, ErrColumns, []string{"line 3", "2 fields", "3 columns"}},
		{"ragged long", "a,b\n1,2\n3,4\n5,6,7\n", nil, ErrColumns, []string{"line 4", "3 fields"}},
		{"not a number", "a,b\n1,2\n3,4\nfive,6\n", nil, ErrBadValue, []string{"t.csv: line 4", `column "a"`, `"five" is not a number`}},
		{"NaN", "a,b\n1,2\nNaN,3\n", nil, ErrBadValue, []string{"line 3", `column "a"`, "NaN"}},
		{"Inf", "a,b\n1,2\n3,-Inf\n", nil, ErrBadValue, []string{"line 3", `column "b"`, "infinities"}},
		{"NaN first", "a,b\nnan,2\n", nil, ErrBadValue, []string{"line 2", "NaN"}},
		{"range", "a,b\n1,2\n1e39,3\n", nil, ErrBadValue, []string{"line 3", "float32 range"}},
		{"empty number", "a,b\n1,2\n,3\n", nil, ErrMissing, []string{"line 3", `column "a"`, "empty value"}},
		{"empty category", "a,b\nx,2\n,3\n", nil, ErrMissing, []string{"line 3", "empty value", "-missing mean"}},
		{"bare quote", "a,b\n1,2\n3,4\"x\n", nil, ErrCorrupt, []string{"line 3", "quote"}},
		{"bad separator", "a,b\n1,2\n", &CSVOptions{Comma: '"'}, nil, []string{"separator"}},
		{"truncated gzip", string(gz([]byte("a,b\n1,2\n3,4\n"))[:20]), nil, nil, []string{"t.csv"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tab, err := ReadCSV(strings.NewReader(c.in), "t.csv", c.opt)
			if tab != nil {
				t.Error("a table and an error")
			}
			wantErr(t, err, c.kind, c.parts...)
		})
	}
}

func TestReadCSVProgress(t *testing.T) {
	var b strings.Builder
	b.WriteString("x,y\n")
	n := chunkLen + 5 // 4 calls at multiples of progressEvery, one at the end
	for i := range n {
		fmt.Fprintf(&b, "%d,%d\n", i, i%3)
	}
	var calls [][2]int64
	tab := readString(t, b.String(), &CSVOptions{Progress: func(rows int, bytes int64) {
		calls = append(calls, [2]int64{int64(rows), bytes})
	}})
	if tab.Len() != n || len(calls) != 5 {
		t.Fatalf("%d rows, progress calls %v", tab.Len(), calls)
	}
	for i, c := range calls[:4] {
		if c[0] != int64((i+1)*progressEvery) || c[1] <= 0 || (i > 0 && c[1] < calls[i-1][1]) {
			t.Errorf("call %d: %v", i, c)
		}
	}
	if last := calls[4]; last[0] != int64(n) || last[1] != int64(b.Len()) {
		t.Errorf("last call %v, want %d rows, %d bytes", last, n, b.Len())
	}
	// Values past the first chunk are where they belong.
	if c := tab.Column("x"); c.Float(n-1) != float32(n-1) || c.Float(chunkLen) != chunkLen {
		t.Errorf("x[%d] = %v, x[%d] = %v", n-1, c.Float(n-1), chunkLen, c.Float(chunkLen))
	}
}

func TestLoadCSVIris(t *testing.T) {
	tab, err := LoadCSV(filepath.Join("testdata", "tables", "iris.csv"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if tab.Len() != 150 || len(tab.Columns()) != 5 {
		t.Fatalf("%d rows, %d columns", tab.Len(), len(tab.Columns()))
	}
	// Fisher's data: the column sums are 876.5, 458.6, 563.7, 179.9 and
	// there are 50 of each species.
	for j, want := range []float64{876.5, 458.6, 563.7, 179.9} {
		c := tab.Columns()[j]
		var s float64
		for i := range tab.Len() {
			s += float64(c.Float(i))
		}
		if math.Abs(s-want) > 1e-3 {
			t.Errorf("column %q sums to %v, want %v", c.Name(), s, want)
		}
	}
	counts := map[string]int{}
	sp := tab.Column("species")
	for i := range tab.Len() {
		counts[sp.Value(i)]++
	}
	if len(counts) != 3 || counts["setosa"] != 50 || counts["versicolor"] != 50 || counts["virginica"] != 50 {
		t.Errorf("species counts %v", counts)
	}
	if _, err := LoadCSV(filepath.Join(t.TempDir(), "none.csv"), nil); err == nil || !os.IsNotExist(errorsUnwrapAll(err)) {
		t.Errorf("missing file: %v", err)
	}
}

func errorsUnwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

func TestChunked(t *testing.T) {
	var c chunked[int32]
	n := 2*chunkLen + 3
	for i := range n {
		c.add(int32(i))
	}
	if c.len() != n || len(c.chunks) != 3 || cap(c.chunks[0]) != chunkLen || cap(c.chunks[1]) != chunkLen {
		t.Fatalf("len %d, %d chunks, caps %d %d", c.len(), len(c.chunks), cap(c.chunks[0]), cap(c.chunks[1]))
	}
	for i := range n {
		if c.at(i) != int32(i) {
			t.Fatalf("at(%d) = %d", i, c.at(i))
		}
	}
	wantPanic(t, "out of range", func() { c.at(n) })
}

func TestTableFromRecords(t *testing.T) {
	want := readString(t, "a,b\n1,x\n2,y\n", nil)
	got, err := TableFromRecords("req", []string{"a", "b"}, [][]string{{"1", "x"}, {"2", "y"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for j, c := range want.Columns() {
		g := got.Columns()[j]
		if g.Name() != c.Name() || g.Type() != c.Type() || g.Value(1) != c.Value(1) || got.Line(1) != 3 {
			t.Errorf("column %d: %q %v %q, line %d", j, g.Name(), g.Type(), g.Value(1), got.Line(1))
		}
	}
	_, err = TableFromRecords("req", []string{"a", "b"}, [][]string{{"1", "x"}, {"two", "y"}}, nil)
	wantErr(t, err, ErrBadValue, "req: line 3", `column "a"`, `"two"`)
	_, err = TableFromRecords("req", []string{"a", "b"}, nil, nil)
	wantErr(t, err, ErrEmpty, "req")
	_, err = TableFromRecords("req", nil, nil, nil)
	wantErr(t, err, ErrEmpty, "no header")
}
