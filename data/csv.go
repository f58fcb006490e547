package data

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"
)

// CSVOptions tells [ReadCSV] how to read a table. The zero value (or nil)
// reads comma-separated values and decides every column's type from the
// first data row.
type CSVOptions struct {
	// Comma is the field separator; 0 means ','. It must be a valid rune
	// other than '"', '\r', '\n' and the Unicode replacement character.
	Comma rune
	// Categorical names columns read as categories even when their first
	// value is a number (codes such as zip codes or "1", "2", "3").
	Categorical []string
	// Text names columns kept as text, unparsed, that are not features: an
	// ID column to carry through to predictions, or any ignored column.
	//
	// Names in Categorical and Text that are not columns of the file are
	// no error (a model's target is absent from the rows to predict): check
	// with [Table.Column] where a column must be there.
	Text []string
	// Missing allows missing values: a blank field (empty, or spaces) in a
	// numeric or categorical column is read as a missing value (see
	// [Column.IsMissing]) instead of being an error, and a column's type is
	// decided by its first value that is not blank. Whether a missing
	// value may be used is the [Preprocessor]'s choice
	// ([FitOptions.FillMissing]).
	Missing bool
	// Progress, if not nil, is called every 16384 rows and once at the end
	// with the data rows and the bytes of input (compressed bytes for a
	// gzip file) read so far.
	Progress func(rows int, bytes int64)
}

// progressEvery is how many rows pass between Progress calls.
const progressEvery = 1 << 14

// LoadCSV reads the CSV file at path as [ReadCSV] does; errors name the
// file by its path.
func LoadCSV(path string, opt *CSVOptions) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	return ReadCSV(f, filepath.Clean(path), opt)
}

// ReadCSV reads a table from r by streaming it: a header row of column
// names, then one row of values per record, in the conventions of
// encoding/csv (quoted fields may hold separators, quotes as "" and line
// breaks). The input may be gzip-compressed (recognised by its magic
// bytes), start with a UTF-8 byte order mark and end its lines with CRLF.
// name names the input in errors. With GOMAXPROCS ≥ 2 another goroutine
// splits the records while the caller parses them; it is done with r when
// ReadCSV returns.
//
// A column is Numeric if its value in the first data row is a number (as
// strconv.ParseFloat reads it), else Categorical, unless opt names it as
// Categorical or Text (with opt.Missing: its first value that is not
// blank; a column of blanks only is Numeric). Column names are trimmed of
// surrounding spaces, as are numbers.
//
// ReadCSV returns an error that names the file, the line and the column
// for an empty input or a header only ([ErrEmpty]), a column without a
// name or with the name of another, a row with more or fewer fields than
// the header ([ErrColumns]), an empty value unless opt.Missing
// ([ErrMissing]), a value that is not a number
// in a numeric column, NaN, an infinity or a number beyond float32's range
// ([ErrBadValue]), and malformed CSV or gzip ([ErrCorrupt],
// [ErrTruncated]). It never panics on bad input.
func ReadCSV(r io.Reader, name string, opt *CSVOptions) (*Table, error) {
	if opt == nil {
		opt = &CSVOptions{}
	}
	counter := &countingReader{r: r}
	in, err := decompress(counter, name)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(in, 1<<16)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\uFEFF")) {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	if c := opt.Comma; c != 0 {
		if c == '"' || c == '\r' || c == '\n' || c == utf8.RuneError || !utf8.ValidRune(c) {
			return nil, fmt.Errorf("data: %s: the separator %q cannot separate CSV fields (use ',', ';', '\\t', …)", name, c)
		}
		cr.Comma = c
	}
	cr.FieldsPerRecord = -1 // checked here, with a better message
	cr.ReuseRecord = true

	header, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("data: %s: %w: the file is empty (want a header row of column names, then rows of values)", name, ErrEmpty)
	}
	if err != nil {
		return nil, csvError(name, err)
	}
	t, err := startTable(name, header, opt)
	if err != nil {
		return nil, err
	}
	progress := func() {
		if opt.Progress != nil {
			opt.Progress(t.Len(), counter.n.Load())
		}
	}
	if err := t.readRecords(cr, name, progress); err != nil {
		return nil, err
	}
	if err := t.finish(); err != nil {
		return nil, err
	}
	progress()
	return t, nil
}

// TableFromRecords returns the table of a header and records held in
// memory (for example rows to predict that arrive in a request), read
// exactly as [ReadCSV] reads a file whose lines they are: line 1 is the
// header, record i is on line i+2. opt.Comma and opt.Progress are not
// used. Its errors are ReadCSV's.
func TableFromRecords(name string, header []string, records [][]string, opt *CSVOptions) (*Table, error) {
	if opt == nil {
		opt = &CSVOptions{}
	}
	if len(header) == 0 {
		return nil, fmt.Errorf("data: %s: %w: no header (want the column names, then rows of values)", name, ErrEmpty)
	}
	t, err := startTable(name, header, opt)
	if err != nil {
		return nil, err
	}
	for i, rec := range records {
		if err := t.addRecord(rec, i+2, nil); err != nil {
			return nil, err
		}
	}
	if err := t.finish(); err != nil {
		return nil, err
	}
	return t, nil
}

// startTable returns the empty table of the columns header names, with the
// types opt forces, or an error for a missing or repeated name or a
// forced name that is not a column.
func startTable(name string, header []string, opt *CSVOptions) (*Table, error) {
	t := &Table{name: name, cols: make([]*Column, len(header)), missingOK: opt.Missing}
	for j, h := range header {
		h = strings.TrimSpace(h)
		if h == "" {
			return nil, fmt.Errorf("data: %s: line 1: %w: column %d has no name (every column needs a name in the header row)", name, ErrColumns, j+1)
		}
		if k := slices.IndexFunc(t.cols[:j], func(c *Column) bool { return c.name == h }); k >= 0 {
			return nil, fmt.Errorf("data: %s: line 1: %w: columns %d and %d are both named %q (give every column its own name)", name, ErrColumns, k+1, j+1, h)
		}
		t.cols[j] = &Column{name: h, typ: -1}
	}
	for _, list := range []struct {
		names []string
		typ   ColumnType
	}{{opt.Categorical, Categorical}, {opt.Text, Text}} {
		for _, n := range list.names {
			if c := t.Column(n); c != nil { // a hint for a column that may be absent
				c.typ = list.typ
			}
		}
	}
	return t, nil
}

// addRecord appends the row rec, which starts on line line and whose field
// j starts on line fieldPos(j) (on line line if fieldPos is nil), or
// returns an error naming the line and column.
func (t *Table) addRecord(rec []string, line int, fieldPos func(j int) (line, col int)) error {
	if len(rec) != len(t.cols) {
		return fmt.Errorf("data: %s: line %d: %w: %d fields, but the header has %d columns (every row needs one value per column)",
			t.name, line, ErrColumns, len(rec), len(t.cols))
	}
	for j, s := range rec {
		if err := t.cols[j].add(s, t.missingOK); err != nil {
			if fieldPos != nil {
				line, _ = fieldPos(j)
			}
			return fmt.Errorf("data: %s: line %d, column %q: %w", t.name, line, t.cols[j].name, err)
		}
	}
	t.lines.add(int32(min(line, math.MaxInt32)))
	return nil
}

// finish ends reading: it returns an error for a table without rows.
func (t *Table) finish() error {
	if t.Len() == 0 {
		return fmt.Errorf("data: %s: %w: a header but no rows of values", t.name, ErrEmpty)
	}
	for _, c := range t.cols {
		if c.typ == -1 { // blanks only
			c.decideType("")
		}
		c.index = nil // only needed while reading
	}
	return nil
}

// decideType sets the type of a column not named in the options from its
// first value that is not blank, s: Numeric if it is a number (or if s is
// blank: a column of blanks only), else Categorical; then it stores the
// blanks that came before s.
func (c *Column) decideType(s string) {
	c.typ = Categorical
	if _, err := strconv.ParseFloat(strings.TrimSpace(s), 32); err == nil || errors.Is(err, strconv.ErrRange) || strings.TrimSpace(s) == "" {
		c.typ = Numeric // an out-of-range number is reported by add
	}
	pending := c.missing
	c.missing = 0
	for range pending {
		c.addMissing()
	}
}

// errEmpty is the error for a blank value where none may be missing.
var errEmpty = fmt.Errorf("%w: empty value (fill it in or drop the row, or let the model fill in missing values: "+
	"flowgrad train -missing mean; in Go, CSVOptions.Missing and FitOptions.FillMissing)", ErrMissing)

// add appends the value s to c, or returns what is wrong with it. With
// missingOK a blank s is a missing value.
func (c *Column) add(s string, missingOK bool) error {
	if missingOK && c.typ != Text && strings.TrimSpace(s) == "" {
		c.addMissing()
		return nil
	}
	if c.typ == -1 {
		c.decideType(s)
	}
	switch c.typ {
	case Text:
		c.text.add(strings.Clone(s))
		return nil
	case Categorical:
		if strings.TrimSpace(s) == "" {
			return errEmpty
		}
		code, ok := c.index[s]
		if !ok {
			if c.index == nil {
				c.index = make(map[string]int32)
			}
			code = int32(len(c.levels))
			s = strings.Clone(s) // not the record's memory
			c.levels = append(c.levels, s)
			c.index[s] = code
		}
		c.codes.add(code)
		return nil
	}
	v, err := parseNumber(s)
	if err != nil {
		return err
	}
	c.nums.add(v)
	return nil
}

// parseNumber reads s (surrounding spaces allowed) as a finite float32.
func parseNumber(s string) (float32, error) {
	s = strings.TrimSpace(s)
	if v, ok := parseDecimal(s); ok {
		return v, nil
	}
	if s == "" {
		return 0, errEmpty
	}
	v, err := strconv.ParseFloat(s, 32)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return 0, fmt.Errorf("%w: %q is beyond the float32 range (±3.4e38): rescale the column", ErrBadValue, s)
	case err != nil:
		return 0, fmt.Errorf("%w: %q is not a number, but the column is numeric (its first value was a number); "+
			"fix the value, or read the column as categorical", ErrBadValue, s)
	case math.IsNaN(v) || math.IsInf(v, 0):
		return 0, fmt.Errorf("%w: %q: NaN and infinities are not allowed (a missing value? leave the field empty, and see -missing)", ErrBadValue, s)
	}
	return float32(v), nil
}

// float64Pow10 are the powers of ten that a float64 holds exactly.
var float64Pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseDecimal reads the common form of a CSV number quickly: an optional
// sign, digits, and an optional point with up to 22 digits after it, whose
// digits make an integer m < 2⁵³. Then m and 10^k are exact float64s and
// r = m / 10^k is the float64 nearest the number x; rounding r to float32
// gives the float32 nearest x — what strconv.ParseFloat(s, 32) returns —
// unless r is exactly halfway between two float32s (the one case where
// rounding twice can differ from rounding once: any other float32 midpoint
// between x and r would be a float64 nearer x than r). ok is false for that
// case and for anything else, which strconv then reads; lexing is what
// costs strconv most on such numbers.
func parseDecimal(s string) (v float32, ok bool) {
	i, neg := 0, false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg, i = s[0] == '-', 1
	}
	var m uint64
	digits, frac, point := 0, 0, false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			m = m*10 + uint64(c-'0')
			if m >= 1<<53 {
				return 0, false
			}
			digits++
			if point {
				frac++
			}
		case c == '.' && !point:
			point = true
		default:
			return 0, false
		}
	}
	if digits == 0 || frac >= len(float64Pow10) {
		return 0, false
	}
	r := float64(m) / float64Pow10[frac]
	// float32 keeps 23 of float64's 52 fraction bits: r is a float32
	// midpoint when the 29 bits below are exactly one half.
	if math.Float64bits(r)&(1<<29-1) == 1<<28 {
		return 0, false
	}
	v = float32(r)
	if neg {
		v = -v
	}
	return v, true
}

// csvError reports an error of encoding/csv (with its line and column) or
// of the input.
func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("data: %s: line %d, character %d: %w: %w", name, pe.Line, pe.Column, ErrCorrupt, pe.Err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("data: %s: %w: the gzip stream ends early: %w", name, ErrTruncated, err)
	}
	return fmt.Errorf("data: %s: %w: %w", name, ErrCorrupt, err)
}

// columnList names t's columns for an error message.
func (t *Table) columnList() string {
	names := make([]string, len(t.cols))
	for i, c := range t.cols {
		names[i] = strconv.Quote(c.name)
	}
	return strings.Join(names, ", ") + t.SeparatorHint()
}

// SeparatorHint returns, for an error about missing columns, a hint when
// the table has a single column whose name holds a likely separator (a
// file of "a;b;c" read with commas), else "".
func (t *Table) SeparatorHint() string {
	if len(t.cols) != 1 {
		return ""
	}
	for _, sep := range []string{";", "\t", "|"} {
		if strings.Contains(t.cols[0].name, sep) {
			flag := strings.ReplaceAll(sep, "\t", `\t`)
			return fmt.Sprintf("; one column only: is the file separated by %q? say so (-sep '%s'; in Go, CSVOptions.Comma)", sep, flag)
		}
	}
	return ""
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n atomic.Int64 // read by Progress while another goroutine reads
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
