package serve

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/model"
)

var irisPath = filepath.Join("..", "..", "data", "testdata", "tables", "iris.csv")

// irisModel returns a model of Iris with random weights (what is tested
// is that the handler predicts what the model predicts) and the table.
func irisModel(t testing.TB, opt data.FitOptions) (*model.Model, *data.Table) {
	t.Helper()
	tab, err := data.LoadCSV(irisPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	pre, err := data.Fit(tab, opt)
	if err != nil {
		t.Fatal(err)
	}
	net := layers.MLP[float32](rand.New(rand.NewPCG(1, 2)), pre.Inputs(), 8, pre.Outputs())
	m, err := model.New(net, pre, map[string]string{"trained_by": "a test"})
	if err != nil {
		t.Fatal(err)
	}
	return m, tab
}

// jsonRows returns rows first..first+n−1 of tab (its features) as a JSON
// request; numbers as JSON numbers.
func jsonRows(tab *data.Table, first, n int, features []data.Feature) []byte {
	var rows []map[string]any
	for i := first; i < first+n; i++ {
		row := map[string]any{}
		for _, f := range features {
			c := tab.Column(f.Name)
			if f.Type == data.Numeric {
				row[f.Name] = json.Number(c.Value(i))
			} else {
				row[f.Name] = c.Value(i)
			}
		}
		rows = append(rows, row)
	}
	b, _ := json.Marshal(map[string]any{"rows": rows})
	return b
}

func post(t testing.TB, h http.Handler, target, contentType string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// JSON rows in, the model's classes and probabilities out, bit for bit.
func TestPredictJSON(t *testing.T) {
	m, tab := irisModel(t, data.FitOptions{Target: "species"})
	h := New(m)
	w := post(t, h, "/predict", "application/json", jsonRows(tab, 48, 5, m.Pre.Features))
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, %s", w.Code, w.Body)
	}
	var got struct {
		Target      string
		Predictions []struct {
			Class         string
			Probabilities map[string]float32
		}
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want, err := m.Predict(tab.Subset([]int{48, 49, 50, 51, 52}))
	if err != nil {
		t.Fatal(err)
	}
	if got.Target != "species" || len(got.Predictions) != 5 {
		t.Fatalf("%+v", got)
	}
	if !regexp.MustCompile(`^\{"target":"species","predictions":\[\{"class":"\w+","probabilities":\{"setosa":[0-9.e-]+,"versicolor":[0-9.e-]+,"virginica":[0-9.e-]+\}\},`).Match(w.Body.Bytes()) {
		t.Errorf("the answer's form (probabilities in class order): %s", w.Body)
	}
	for i, p := range got.Predictions {
		if p.Class != want.Classes[want.Class[i]] {
			t.Errorf("row %d: class %q, want %q", i, p.Class, want.Classes[want.Class[i]])
		}
		for j, c := range want.Classes {
			if p.Probabilities[c] != want.Prob.At(i, j) {
				t.Errorf("row %d: p(%s) = %v, want %v", i, c, p.Probabilities[c], want.Prob.At(i, j))
			}
		}
	}
}

// CSV in, the CSV of flowgrad predict out, with an ID column first.
func TestPredictCSV(t *testing.T) {
	m, tab := irisModel(t, data.FitOptions{Target: "species"})
	body := "key,sepal_length,sepal_width,petal_length,petal_width\nk1,5.1,3.5,1.4,0.2\nk2,6.7,3.0,5.2,2.3\n"
	w := post(t, New(m), "/predict?id=key", "text/csv; charset=utf-8", []byte(body))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d, %s", w.Code, w.Body)
	}
	recs, err := csv.NewReader(w.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := m.Predict(tab.Subset([]int{0, 145}))
	if len(recs) != 3 || strings.Join(recs[0], ",") != "key,species,p_setosa,p_versicolor,p_virginica" || recs[1][0] != "k1" || recs[2][0] != "k2" {
		t.Fatalf("%q", recs)
	}
	for i := range 2 {
		p, _ := strconv.ParseFloat(recs[i+1][2], 32)
		if float32(p) != want.Prob.At(i, 0) || recs[i+1][1] != want.Classes[want.Class[i]] {
			t.Errorf("row %d: %q, want %v", i, recs[i+1], want.Prob.Row(i))
		}
	}
}

// A regression model answers values in the target's units.
func TestPredictRegressionJSON(t *testing.T) {
	m, tab := irisModel(t, data.FitOptions{Target: "petal_width", ScaleTarget: true})
	w := post(t, New(m), "/predict", "application/json", jsonRows(tab, 0, 2, m.Pre.Features))
	var got struct {
		Target      string
		Predictions []struct{ Value float32 }
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != http.StatusOK {
		t.Fatalf("%d %s %v", w.Code, w.Body, err)
	}
	want, _ := m.Predict(tab.Subset([]int{0, 1}))
	if got.Target != "petal_width" || len(got.Predictions) != 2 || got.Predictions[1].Value != want.Value.At(1, 0) {
		t.Errorf("%+v, want %v", got, want.Value.Data())
	}
	// JSON has no NaN: a model that predicts one gets 500 and a reason.
	m.Net.Params()[0].Data().Set(0, 0, float32(math.NaN()))
	w = post(t, New(m), "/predict", "application/json", jsonRows(tab, 0, 2, m.Pre.Features))
	if w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), "predicts NaN for row 1") {
		t.Errorf("a NaN prediction: %d %s", w.Code, w.Body)
	}
}

// Bad requests get a status and an error that says what is wrong.
func TestBadRequests(t *testing.T) {
	m, _ := irisModel(t, data.FitOptions{Target: "species"})
	h := New(m)
	h.MaxBody = 4096
	row := `"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2`
	for _, c := range []struct {
		name, contentType, body string
		status                  int
		want                    string
	}{
		{"not JSON", "application/json", "{rows", 400, "not JSON of the form"},
		{"no rows", "application/json", `{"rows": []}`, 400, "no rows"},
		{"missing column", "application/json", `{"rows": [{"sepal_length": 5}]}`, 400, `missing column "sepal_width"`},
		{"extra column", "application/json", `{"rows": [{` + row + `, "colour": "red"}]}`, 400, `column "colour" was not in the training data`},
		{"not a number", "application/json", `{"rows": [{` + row + `}, {` + strings.Replace(row, "5.1", `"five"`, 1) + `}]}`, 400, "line 3"},
		{"a bool", "application/json", `{"rows": [{` + strings.Replace(row, "5.1", "true", 1) + `}]}`, 400, `row 1, column "sepal_length": true is neither`},
		{"null without filling", "application/json", `{"rows": [{` + strings.Replace(row, "5.1", "null", 1) + `}]}`, 400, "missing value"},
		{"ragged CSV", "text/csv", "sepal_length,sepal_width,petal_length,petal_width\n1,2,3\n", 400, "line 2"},
		{"too large", "application/json", `{"rows": [` + strings.Repeat(`{`+row+`},`, 100) + `{` + row + `}]}`, 413, "larger than 4096 bytes"},
	} {
		w := post(t, h, "/predict", c.contentType, []byte(c.body))
		var e struct{ Error string }
		json.Unmarshal(w.Body.Bytes(), &e)
		if w.Code != c.status || !strings.Contains(e.Error, c.want) {
			t.Errorf("%s: status %d, %s; want %d and %q", c.name, w.Code, w.Body, c.status, c.want)
		}
	}
	r := httptest.NewRequest(http.MethodGet, "/predict", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET /predict: %d", w.Code)
	}
}

// GET /model describes the model; GET /healthz answers ok.
func TestModelInfo(t *testing.T) {
	m, _ := irisModel(t, data.FitOptions{Target: "species"})
	h := New(m)
	for path, want := range map[string]string{
		"/model":   `"target":"species","task":"classification","classes":["setosa","versicolor","virginica"],"features":[{"name":"sepal_length","type":"numeric"`,
		"/healthz": "ok\n",
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != 200 || !strings.Contains(w.Body.String(), want) {
			t.Errorf("GET %s: %d %s", path, w.Code, w.Body)
		}
	}
}

// Concurrent requests each get their own rows' predictions (run with
// -race in CI).
func TestConcurrentRequests(t *testing.T) {
	m, tab := irisModel(t, data.FitOptions{Target: "species"})
	h := New(m)
	want, _ := m.Predict(tab)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 20 {
				first, n := (g*20+k)%140, 1+(g+k)%10
				w := post(t, h, "/predict", "application/json", jsonRows(tab, first, n, m.Pre.Features))
				var got struct{ Predictions []struct{ Class string } }
				if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || len(got.Predictions) != n {
					errs <- fmt.Errorf("goroutine %d request %d: %d %s", g, k, w.Code, w.Body)
					return
				}
				for i, p := range got.Predictions {
					if p.Class != want.Classes[want.Class[first+i]] {
						errs <- fmt.Errorf("goroutine %d: row %d is %s, want %s", g, first+i, p.Class, want.Classes[want.Class[first+i]])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// BenchmarkServeJSON measures a request through the handler, without the
// network: JSON parsing, the table, the prediction and the JSON answer.
//
//	go test ./model/serve -run '^$' -bench ServeJSON -count 6
func BenchmarkServeJSON(b *testing.B) {
	m, tab := irisModel(b, data.FitOptions{Target: "species"})
	h := New(m)
	for _, rows := range []int{1, 100} {
		body := jsonRows(tab, 0, rows, m.Pre.Features)
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "/predict", bytes.NewReader(body))
				r.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != 200 {
					b.Fatal(w.Body)
				}
				io.Copy(io.Discard, w.Body)
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// FuzzPredict: any body, JSON or CSV, gets 200 with predictions or 400
// with an error, never a panic.
func FuzzPredict(f *testing.F) {
	m, tab := irisModel(f, data.FitOptions{Target: "species"})
	h := New(m)
	f.Add(jsonRows(tab, 0, 2, m.Pre.Features), false)
	f.Add([]byte(`{"rows": [{"sepal_length": null, "petal_width": "x"}]}`), false)
	f.Add([]byte("sepal_length,sepal_width,petal_length,petal_width\n1,2,3,4\n"), true)
	f.Fuzz(func(t *testing.T, body []byte, asCSV bool) {
		ct := "application/json"
		if asCSV {
			ct = "text/csv"
		}
		w := post(t, h, "/predict", ct, body)
		switch w.Code {
		case http.StatusOK:
		case http.StatusBadRequest:
			var e struct{ Error string }
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == "" {
				t.Fatalf("400 without an error message: %s", w.Body)
			}
		default:
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	})
}

// BenchmarkServeLoopback measures one-row requests over a loopback TCP
// connection (kept alive), one at a time: the latency a client on the
// same machine sees.
//
//	go test ./model/serve -run '^$' -bench ServeLoopback -count 6
func BenchmarkServeLoopback(b *testing.B) {
	m, tab := irisModel(b, data.FitOptions{Target: "species"})
	srv := httptest.NewServer(New(m))
	defer srv.Close()
	body := jsonRows(tab, 0, 1, m.Pre.Features)
	client := srv.Client()
	b.ReportAllocs()
	for b.Loop() {
		resp, err := client.Post(srv.URL+"/predict", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatal(resp.Status)
		}
	}
}

// A regression with two targets answers both values by name.
func TestPredictTwoTargets(t *testing.T) {
	m, tab := irisModel(t, data.FitOptions{Targets: []string{"petal_width", "petal_length"}, ScaleTarget: true})
	w := post(t, New(m), "/predict", "application/json", jsonRows(tab, 0, 2, m.Pre.Features))
	var got struct {
		Predictions []struct{ Values map[string]float32 }
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != http.StatusOK {
		t.Fatalf("%d %s %v", w.Code, w.Body, err)
	}
	want, _ := m.Predict(tab.Subset([]int{0, 1}))
	if len(got.Predictions) != 2 || got.Predictions[1].Values["petal_width"] != want.Value.At(1, 0) || got.Predictions[1].Values["petal_length"] != want.Value.At(1, 1) {
		t.Errorf("%s, want %v", w.Body, want.Value.Data())
	}
}
