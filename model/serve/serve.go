// Package serve answers prediction requests for a model over HTTP: the
// handler behind `flowgrad serve`, for a Go program to mount in its own
// server as well.
//
//	m, err := model.Load("model.fgm")
//	...
//	http.Handle("/", serve.New(m))
//
// Routes:
//
//	POST /predict   rows in, predictions out, as JSON or CSV:
//	                Content-Type application/json: {"rows": [{"column": value, …}, …]}
//	                  (numbers as JSON numbers or strings, null for a
//	                  missing value) → {"target": …, "predictions": [{"class": …,
//	                  "probabilities": {class: p, …}} or {"value": …}, …]}, the
//	                  probabilities in the order of the classes ({"values":
//	                  {target: v, …}} for a regression with several targets)
//	                Content-Type text/csv: a header row and rows → the CSV of
//	                  `flowgrad predict` (?id=COLUMN copies an ID column first)
//	GET  /model     what the model needs and gives, as JSON: the features
//	                (name, type, categories), the target, the task, the
//	                classes and the model's metadata
//	GET  /healthz   200 "ok"
//
// A request the model cannot take — malformed JSON or CSV, a missing or
// extra column, a value that is not a number, an unseen category — gets
// status 400 and {"error": "…"} naming the row and column; a body beyond
// the limit 413; a wrong method 405; a prediction that is not finite
// (JSON has no NaN) 500. The handler is safe for concurrent
// use: each request predicts with a clone of the model (shared weights,
// buffers of its own) from a pool.
package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"sync"

	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/model"
)

// DefaultMaxBody is the largest request body a Handler reads: 32 MiB.
const DefaultMaxBody = 32 << 20

// Handler serves one model; see the package documentation.
type Handler struct {
	// MaxBody is the largest request body read, in bytes; a larger one
	// gets status 413. New sets DefaultMaxBody.
	MaxBody int64

	base   *model.Model
	models sync.Pool // of *model.Model: clones with their own buffers
	info   []byte    // the GET /model answer
	opt    *data.CSVOptions
	mux    *http.ServeMux
	// target, classes and targets are the target's, the classes' and
	// the targets' names as JSON strings, for the answers.
	target  string
	classes []string
	targets []string
}

// quote returns s as a JSON string.
func quote(s string) string {
	b, _ := json.Marshal(s) // a string always encodes
	return string(b)
}

// New returns the handler that serves m. m must not change afterwards.
func New(m *model.Model) *Handler {
	h := &Handler{MaxBody: DefaultMaxBody, base: m, opt: m.Pre.CSVOptions(nil), target: quote(m.Pre.Target)}
	for _, c := range m.Pre.Classes {
		h.classes = append(h.classes, quote(c))
	}
	for _, t := range m.Pre.Targets() {
		h.targets = append(h.targets, quote(t))
	}
	h.models.New = func() any { return m.Clone() }
	var targets []string
	if len(m.Pre.ExtraTargets) > 0 {
		targets = m.Pre.Targets()
	}
	info, err := json.Marshal(modelInfo{Target: m.Pre.Target, Targets: targets, Task: m.Pre.Kind.String(), Classes: m.Pre.Classes,
		Features: m.Pre.Features, Ignored: m.Pre.Ignored, FillMissing: m.Pre.FillMissing, Meta: m.Meta})
	if err != nil {
		panic(err) // strings, numbers and the Preprocessor's JSON fields
	}
	h.info = info
	h.mux = http.NewServeMux()
	h.mux.HandleFunc("POST /predict", h.predict)
	h.mux.HandleFunc("GET /model", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(h.info)
	})
	h.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	return h
}

// modelInfo is the answer to GET /model.
type modelInfo struct {
	Target      string            `json:"target"`
	Targets     []string          `json:"targets,omitempty"` // several regression targets
	Task        string            `json:"task"`
	Classes     []string          `json:"classes,omitempty"`
	Features    []data.Feature    `json:"features"`
	Ignored     []string          `json:"ignored,omitempty"`
	FillMissing bool              `json:"fill_missing,omitempty"`
	Meta        map[string]string `json:"meta,omitempty"`
}

// ServeHTTP routes a request (see the package documentation).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// request is the JSON body of POST /predict.
type request struct {
	Rows []map[string]any `json:"rows"`
}

func (h *Handler) predict(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.MaxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		fail(w, http.StatusRequestEntityTooLarge, fmt.Errorf("the request body is larger than %d bytes; send fewer rows at a time", h.MaxBody))
		return
	case err != nil:
		fail(w, http.StatusBadRequest, fmt.Errorf("reading the request: %w", err))
		return
	}
	asCSV := isCSV(r.Header.Get("Content-Type"))
	var tab *data.Table
	if asCSV {
		tab, err = data.ReadCSV(bytes.NewReader(body), "CSV request", h.withID(r.URL.Query().Get("id")))
	} else {
		tab, err = h.tableOfJSON(body)
	}
	if err != nil {
		fail(w, http.StatusBadRequest, err)
		return
	}
	var id *data.Column
	if name := r.URL.Query().Get("id"); name != "" && asCSV {
		if id = tab.Column(name); id == nil {
			fail(w, http.StatusBadRequest, fmt.Errorf("?id=%s: the rows have no such column", name))
			return
		}
	}
	m := h.models.Get().(*model.Model)
	defer h.models.Put(m)
	pred, err := m.Predict(tab)
	if err != nil {
		fail(w, http.StatusBadRequest, err)
		return
	}
	if asCSV {
		w.Header().Set("Content-Type", "text/csv")
		pred.WriteCSV(w, id) // a failed write is the client's closed connection
		return
	}
	b, err := h.appendJSON(nil, pred)
	if err != nil {
		fail(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// appendJSON appends the JSON answer for pred to b:
// {"target": …, "predictions": [{"class": …, "probabilities": {…}}, …]}
// with the probabilities in the order of the classes, or [{"value": …}, …].
// Numbers are in the shortest form that reads back to the same float32.
// It returns an error for a prediction that is not finite (JSON has no
// NaN or infinity).
func (h *Handler) appendJSON(b []byte, pred *model.Prediction) ([]byte, error) {
	b = append(b, `{"target":`...)
	b = append(b, h.target...)
	b = append(b, `,"predictions":[`...)
	for i := range pred.Len() {
		if i > 0 {
			b = append(b, ',')
		}
		if pred.Kind == data.Regression {
			row := pred.Value.Row(i)
			for _, v := range row {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return nil, fmt.Errorf("the model predicts %v for row %d: retrain it (its weights or inputs are out of range)", v, i+1)
				}
			}
			if len(row) == 1 {
				b = append(b, `{"value":`...)
				b = strconv.AppendFloat(b, float64(row[0]), 'g', -1, 32)
				b = append(b, '}')
				continue
			}
			b = appendObject(append(b, `{"values":`...), h.targets, row)
			b = append(b, '}')
			continue
		}
		b = append(b, `{"class":`...)
		b = append(b, h.classes[pred.Class[i]]...)
		b = appendObject(append(b, `,"probabilities":`...), h.classes, pred.Prob.Row(i))
		b = append(b, '}')
	}
	return append(b, "]}\n"...), nil
}

// appendObject appends the JSON object {names[j]: values[j], …} to b; the
// names are JSON strings already.
func appendObject(b []byte, names []string, values []float32) []byte {
	b = append(b, '{')
	for j, v := range values {
		if j > 0 {
			b = append(b, ',')
		}
		b = append(b, names[j]...)
		b = append(b, ':')
		b = strconv.AppendFloat(b, float64(v), 'g', -1, 32)
	}
	return append(b, '}')
}

// withID returns the model's CSV options with the ID column, if any, read
// as text.
func (h *Handler) withID(id string) *data.CSVOptions {
	if id == "" {
		return h.opt
	}
	o := *h.opt
	o.Text = append(slices.Clone(o.Text), id)
	return &o
}

// tableOfJSON reads a JSON request into a table: one column per key of
// any row (the model's features first, in order, then any others, sorted,
// which Match will refuse by name), one record per row; a number is its
// decimal text, null or a key the row lacks a missing value.
func (h *Handler) tableOfJSON(body []byte) (*data.Table, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var req request
	if err := dec.Decode(&req); err != nil {
		return nil, fmt.Errorf("the request is not JSON of the form {\"rows\": [{\"column\": value, …}, …]}: %w", err)
	}
	if len(req.Rows) == 0 {
		return nil, fmt.Errorf("the request has no rows: send {\"rows\": [{\"column\": value, …}, …]}")
	}
	keys := map[string]bool{}
	for _, row := range req.Rows {
		for k := range row {
			keys[k] = true
		}
	}
	var header []string
	for _, f := range h.base.Pre.Features {
		if keys[f.Name] {
			header = append(header, f.Name)
			delete(keys, f.Name)
		}
	}
	header = append(header, slices.Sorted(maps.Keys(keys))...)
	records := make([][]string, len(req.Rows))
	for i, row := range req.Rows {
		rec := make([]string, len(header))
		for j, name := range header {
			switch v := row[name].(type) {
			case nil:
			case json.Number:
				rec[j] = v.String()
			case string:
				rec[j] = v
			default:
				return nil, fmt.Errorf("row %d, column %q: %v is neither a number nor a string", i+1, name, v)
			}
		}
		records[i] = rec
	}
	opt := *h.opt
	opt.Missing = true // null or absent; an error unless the model fills them in
	return data.TableFromRecords("JSON rows (line 2 is row 1)", header, records, &opt)
}

// isCSV reports whether a Content-Type names CSV.
func isCSV(contentType string) bool {
	return len(contentType) >= 8 && contentType[:8] == "text/csv"
}

// fail answers with status and {"error": err}.
func fail(w http.ResponseWriter, status int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}
