package data

import (
	"encoding/csv"
	"io"
	"runtime"
	"sync"
	"unsafe"
)

// Reading a large CSV takes about as long to split the text into fields
// (encoding/csv) as to parse the numbers (strconv.ParseFloat). With two
// or more cores ReadCSV does the two at once: a goroutine splits records
// into batches while the caller parses the previous batch into the table,
// in file order, so the table and the first error are those of reading
// serially.

// batchRecords is how many records a batch holds; readSerially forces the
// one-goroutine path (for tests that compare the two).
var (
	batchRecords = 4096
	readSerially = false
)

// recordBatch holds records copied out of the csv.Reader (whose record
// memory is reused), and after them the reader's error, if any.
type recordBatch struct {
	text  []byte        // the fields' bytes, back to back
	ends  []int         // per field, its end in text
	recs  []int         // per record, the end of its fields in ends
	lines []int         // per record, the line it starts on
	multi map[int][]int // per record that spans lines: each field's line
	err   error         // the reader's error after the last record (io.EOF at the end)
}

func (b *recordBatch) reset() {
	b.text, b.ends, b.recs, b.lines = b.text[:0], b.ends[:0], b.recs[:0], b.lines[:0]
	clear(b.multi)
	b.err = nil
}

// add copies rec, which starts on line line, into b.
func (b *recordBatch) add(rec []string, line int, cr *csv.Reader) {
	for _, f := range rec {
		b.text = append(b.text, f...)
		b.ends = append(b.ends, len(b.text))
	}
	b.recs = append(b.recs, len(b.ends))
	b.lines = append(b.lines, line)
	if len(rec) > 0 {
		if last, _ := cr.FieldPos(len(rec) - 1); last != line {
			if b.multi == nil {
				b.multi = make(map[int][]int)
			}
			ls := make([]int, len(rec))
			for j := range rec {
				ls[j], _ = cr.FieldPos(j)
			}
			b.multi[len(b.recs)-1] = ls
		}
	}
}

// record returns record r's fields in dst, as strings that share b's text:
// they are valid only until b is reused, so whatever keeps one must copy it
// (Column.add clones the strings it stores).
func (b *recordBatch) record(dst []string, r int) []string {
	dst = dst[:0]
	from := 0
	if r > 0 {
		from = b.recs[r-1]
	}
	start := 0
	if from > 0 {
		start = b.ends[from-1]
	}
	for _, end := range b.ends[from:b.recs[r]] {
		dst = append(dst, unsafe.String(unsafe.SliceData(b.text[start:end]), end-start))
		start = end
	}
	return dst
}

// readRecords reads the records after the header from cr into t as
// ReadCSV does, splitting them on another goroutine when GOMAXPROCS ≥ 2;
// progress is called every progressEvery rows.
func (t *Table) readRecords(cr *csv.Reader, name string, progress func()) error {
	if readSerially || runtime.GOMAXPROCS(0) < 2 {
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return csvError(name, err)
			}
			line, _ := cr.FieldPos(0)
			if err := t.addRecord(rec, line, cr.FieldPos); err != nil {
				return err
			}
			if t.Len()%progressEvery == 0 {
				progress()
			}
		}
	}
	full := make(chan *recordBatch, 2)
	free := make(chan *recordBatch, 3)
	for range 3 {
		free <- new(recordBatch)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the splitter
		defer wg.Done()
		for {
			var b *recordBatch
			select {
			case b = <-free:
			case <-done:
				return
			}
			b.reset()
			for len(b.recs) < batchRecords && b.err == nil {
				rec, err := cr.Read()
				if err != nil {
					b.err = err
					break
				}
				line, _ := cr.FieldPos(0)
				b.add(rec, line, cr)
			}
			select {
			case full <- b:
			case <-done:
				return
			}
			if b.err != nil {
				return
			}
		}
	}()
	defer func() {
		close(done) // stop the splitter (it may be waiting for a batch) and
		wg.Wait()   // let it finish with cr before the caller closes the input
	}()
	var rec []string
	for b := range full {
		for r := range b.recs {
			rec = b.record(rec, r)
			var fieldPos func(j int) (int, int)
			if ls := b.multi[r]; ls != nil {
				fieldPos = func(j int) (int, int) { return ls[j], 0 }
			}
			if err := t.addRecord(rec, b.lines[r], fieldPos); err != nil {
				return err
			}
			if t.Len()%progressEvery == 0 {
				progress()
			}
		}
		if b.err == io.EOF {
			return nil
		}
		if b.err != nil {
			return csvError(name, b.err)
		}
		free <- b
	}
	return nil
}
