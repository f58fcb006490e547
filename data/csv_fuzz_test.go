package data

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// FuzzReadCSV checks that no input makes the CSV reader panic, and that a
// table it returns is whole: at least one row, distinct column names, every
// column as long as the table, finite numbers, ordered line numbers. It
// reads each input twice, the second time with missing values allowed:
// then a value is NaN exactly when it is missing, the columns count their
// missing values, and an input the first read takes is read the same way.
// Each read is made serially and split on another goroutine in batches of
// three records, which must give the same table or the same error.
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
		"a,b\n1,2\n3,4\n5,6\n7,8\n9,x\n",
		"a,b\n1,2\n3,4\n5,6\n7,8\n9\n",
		"a,b\n1,2\n3,4\n5,6\n\"7\n\",8\n9,\"1\"0\n",
	} {
		f.Add([]byte(s), false)
		f.Add(gz([]byte(s)), true)
	}
	f.Fuzz(func(t *testing.T, in []byte, semicolon bool) {
		opt := &CSVOptions{}
		if semicolon {
			opt.Comma = ';'
		}
		tab, err := readBothWays(t, in, opt)
		if err == nil {
			checkWhole(t, tab)
		} else if tab != nil {
			t.Fatal("a table and an error")
		}
		opt.Missing = true
		withMissing, err2 := readBothWays(t, in, opt)
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

// readBothWays reads in serially and split on another goroutine in
// batches of three records, fails t unless both give the same table or the
// same error, and returns the second.
func readBothWays(t *testing.T, in []byte, opt *CSVOptions) (*Table, error) {
	defer func(n int) { readSerially, batchRecords = false, n }(batchRecords)
	readSerially = true
	serial, errSerial := ReadCSV(bytes.NewReader(in), "fuzz", opt)
	readSerially, batchRecords = false, 3
	split, errSplit := ReadCSV(bytes.NewReader(in), "fuzz", opt)
	if (errSerial == nil) != (errSplit == nil) || errSerial != nil && errSerial.Error() != errSplit.Error() {
		t.Fatalf("serially: %v; split: %v", errSerial, errSplit)
	}
	if errSerial == nil {
		sameTable(t, serial, split)
	}
	return split, errSplit
}

// sameTable fails t unless a and b hold the same rows, lines and columns.
func sameTable(t *testing.T, a, b *Table) {
	t.Helper()
	if a.Len() != b.Len() || len(a.Columns()) != len(b.Columns()) {
		t.Fatalf("%d×%d against %d×%d", a.Len(), len(a.Columns()), b.Len(), len(b.Columns()))
	}
	for i := range a.Len() {
		if a.Line(i) != b.Line(i) {
			t.Fatalf("row %d: line %d against %d", i, a.Line(i), b.Line(i))
		}
	}
	for j, c := range a.Columns() {
		d := b.Columns()[j]
		if c.Name() != d.Name() || c.Type() != d.Type() || c.Missing() != d.Missing() || !slices.Equal(c.Levels(), d.Levels()) {
			t.Fatalf("column %d: %q %v %d missing against %q %v %d", j, c.Name(), c.Type(), c.Missing(), d.Name(), d.Type(), d.Missing())
		}
		for i := range a.Len() {
			if c.Value(i) != d.Value(i) {
				t.Fatalf("column %q row %d: %q against %q", c.Name(), i, c.Value(i), d.Value(i))
			}
		}
	}
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

// FuzzParseDecimal checks the fast path of parseNumber against
// strconv: whatever it accepts, strconv.ParseFloat(s, 32) reads to the same
// float32, bit for bit (the sign of zero included).
func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"0", "-0", "+1", "1.", ".5", "-1.2345", "8388607", "8388608", "0.0000000001",
		"0.00000000001", "123456.7", "1.5000", "-.25", ".", "-", "1e5", "1_0", "0x10", "0.1", "3.4028235", "99999.99",
		"16777217", "9007199254740991", "9007199254740992", "-123.45678", "0.30000000000000004", "1.0000000000000000000001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := parseDecimal(s)
		if !ok {
			return
		}
		want, err := strconv.ParseFloat(s, 32)
		if err != nil {
			t.Fatalf("%q: fast path %v, strconv: %v", s, v, err)
		}
		if math.Float32bits(v) != math.Float32bits(float32(want)) {
			t.Fatalf("%q: fast path %v (%#x), strconv %v (%#x)", s, v, math.Float32bits(v), float32(want), math.Float32bits(float32(want)))
		}
	})
}

// Every decimal the fast path takes reads as strconv reads it: all with up
// to five digits and five after the point, and random ones with up to 16
// digits and 22 after the point.
func TestParseDecimalExhaustive(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	check := func(m uint64, frac int, neg bool) {
		s := strconv.FormatUint(m, 10)
		for len(s) <= frac {
			s = "0" + s
		}
		if frac > 0 {
			s = s[:len(s)-frac] + "." + s[len(s)-frac:]
		}
		if neg {
			s = "-" + s
		}
		v, ok := parseDecimal(s)
		want, _ := strconv.ParseFloat(s, 32)
		if ok && math.Float32bits(v) != math.Float32bits(float32(want)) || !ok && m < 1<<24 && frac < 11 {
			t.Fatalf("%q: %v, %v; strconv %v", s, v, ok, float32(want))
		}
	}
	for m := range uint64(100_000) {
		for frac := range 6 {
			check(m, frac, m%2 == 1)
		}
	}
	for range 2_000_000 {
		m := rng.Uint64N(1 << 53)
		m >>= rng.UintN(53) // all lengths of mantissa
		check(m, rng.IntN(23), rng.IntN(2) == 0)
	}
}
