package data

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
)

// writeNumericCSV writes a CSV of rows×cols random numbers (8 significant
// digits, as a measuring instrument or a pandas export writes them) to path.
func writeNumericCSV(tb testing.TB, path string, rows, cols int) {
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for j := range cols {
		if j > 0 {
			w.WriteByte(',')
		}
		fmt.Fprintf(w, "x%d", j)
	}
	w.WriteByte('\n')
	var buf []byte
	for range rows {
		for j := range cols {
			if j > 0 {
				w.WriteByte(',')
			}
			buf = strconv.AppendFloat(buf[:0], rng.NormFloat64()*100, 'g', 8, 32)
			w.Write(buf)
		}
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// peakRSS returns the process's peak resident memory in bytes (VmHWM,
// Linux only; 0 elsewhere).
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range bytes.Lines(b) {
		if kb, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			n, _ := strconv.ParseInt(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(kb), []byte("kB")))), 10, 64)
			return n << 10
		}
	}
	return 0
}

// csvBenchRows is the size of BenchmarkReadCSVMillion's table; tests of the
// benchmark itself may lower it.
var csvBenchRows = 1_000_000

// BenchmarkReadCSVMillion reads a 1,000,000-row × 20-column numeric CSV
// (about 190 MB) and reports the memory it takes against the 80 MB of its
// float32 values: peak-RSS-ratio is the process's peak resident memory
// over the values' bytes (run it alone, so that nothing else has raised
// the peak: go test ./data -run '^$' -bench ReadCSVMillion -benchtime 1x),
// heap-ratio the Go heap in use after reading over the values' bytes.
func BenchmarkReadCSVMillion(b *testing.B) {
	rows, cols := csvBenchRows, 20
	path := filepath.Join(b.TempDir(), "million.csv")
	writeNumericCSV(b, path, rows, cols)
	fi, _ := os.Stat(path)
	values := float64(rows * cols * 4)
	b.SetBytes(fi.Size())
	b.ResetTimer()
	for b.Loop() {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		tab, err := LoadCSV(path, nil)
		if err != nil {
			b.Fatal(err)
		}
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		if tab.Len() != rows {
			b.Fatalf("%d rows", tab.Len())
		}
		b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/values, "heap-ratio")
		runtime.KeepAlive(tab)
	}
	if rss := peakRSS(); rss > 0 {
		b.ReportMetric(float64(rss)/values, "peak-RSS-ratio")
	}
}
