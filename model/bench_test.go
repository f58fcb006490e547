package model

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/layers"
)

// benchTable returns the header and n records of a table of 20 numeric
// features and a class label in {a, b, c}.
func benchTable(n int) ([]string, [][]string) {
	rng := rand.New(rand.NewPCG(1, 2))
	header := make([]string, 21)
	for j := range 20 {
		header[j] = fmt.Sprintf("x%d", j)
	}
	header[20] = "label"
	recs := make([][]string, n)
	for i := range recs {
		rec := make([]string, 21)
		for j := range 20 {
			rec[j] = strconv.FormatFloat(rng.NormFloat64(), 'f', 4, 64)
		}
		rec[20] = []string{"a", "b", "c"}[i%3]
		recs[i] = rec
	}
	return header, recs
}

// benchModel returns an untrained model 20-64-64-3 with the preprocessing
// of a generated table (prediction costs the same trained or not).
func benchModel(b *testing.B) *Model {
	header, recs := benchTable(1000)
	tab, err := data.TableFromRecords("bench", header, recs, nil)
	if err != nil {
		b.Fatal(err)
	}
	pre, err := data.Fit(tab, data.FitOptions{})
	if err != nil {
		b.Fatal(err)
	}
	m, err := New(layers.MLP[float32](rand.New(rand.NewPCG(3, 4)), pre.Inputs(), 64, 64, pre.Outputs()), pre, nil)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkPredict measures a warm prediction of a batch of rows already
// read into a table (standardisation, forward pass, softmax), reusing the
// result: rows/s, and for rows=1 the latency of one row (ns/op).
func BenchmarkPredict(b *testing.B) {
	m := benchModel(b)
	header, recs := benchTable(1000)
	for _, rows := range []int{1, 1000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			tab, err := data.TableFromRecords("bench", header, recs[:rows], m.Pre.CSVOptions(nil))
			if err != nil {
				b.Fatal(err)
			}
			p := &Prediction{}
			b.ReportAllocs()
			for b.Loop() {
				if err := m.PredictInto(p, tab); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkPredictRecords measures serving from raw strings: the rows of a
// request parsed into a table (TableFromRecords), then predicted into a new
// result.
func BenchmarkPredictRecords(b *testing.B) {
	m := benchModel(b)
	header, recs := benchTable(1000)
	opt := m.Pre.CSVOptions(nil)
	for _, rows := range []int{1, 1000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tab, err := data.TableFromRecords("request", header, recs[:rows], opt)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := m.Predict(tab); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
