package model

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/flowgrad/flowgrad/data"
)

// WriteCSV writes p as CSV with a header row: for classification the
// predicted class name in a column named after the target, then one column
// "p_CLASS" of probability per class; for regression the predicted value
// in a column named after the target, one per target. If id is not nil (an ID column of
// the predicted table, for example a text column), its values come first,
// under its name, so each prediction can be matched with its row. Numbers
// are written in the shortest form that reads back to the same float32.
// It panics if id has fewer rows than p.
func (p *Prediction) WriteCSV(w io.Writer, id *data.Column) error {
	cw := csv.NewWriter(w)
	var rec []string
	if id != nil {
		rec = append(rec, id.Name())
	}
	if p.Kind == data.Classification {
		rec = append(rec, p.Target)
		for _, c := range p.Classes {
			rec = append(rec, "p_"+c)
		}
	} else {
		rec = append(rec, p.Targets...)
	}
	if err := cw.Write(rec); err != nil {
		return fmt.Errorf("model: write predictions: %w", err)
	}
	for i := range p.Len() {
		rec = rec[:0]
		if id != nil {
			rec = append(rec, id.Value(i))
		}
		if p.Kind == data.Classification {
			rec = append(rec, p.Classes[p.Class[i]])
			for _, v := range p.Prob.Row(i) {
				rec = append(rec, formatFloat(v))
			}
		} else {
			for _, v := range p.Value.Row(i) {
				rec = append(rec, formatFloat(v))
			}
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("model: write predictions: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("model: write predictions: %w", err)
	}
	return nil
}

func formatFloat(v float32) string { return strconv.FormatFloat(float64(v), 'g', -1, 32) }
