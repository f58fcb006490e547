package serve_test

import (
	"fmt"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"

	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/model"
	"github.com/flowgrad/flowgrad/model/serve"
)

// A model served over HTTP: here an Iris model with random weights (a
// trained one comes from model.Load), asked through httptest.
func ExampleNew() {
	tab, err := data.LoadCSV(filepath.Join("..", "..", "data", "testdata", "tables", "iris.csv"), nil)
	if err != nil {
		log.Fatal(err)
	}
	pre, err := data.Fit(tab, data.FitOptions{Target: "species"})
	if err != nil {
		log.Fatal(err)
	}
	m, err := model.New(layers.MLP[float32](rand.New(rand.NewPCG(1, 2)), pre.Inputs(), 8, pre.Outputs()), pre, nil)
	if err != nil {
		log.Fatal(err)
	}
	h := serve.New(m) // http.Handle("/", h) in a server of one's own

	body := `{"rows": [{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}]}`
	r := httptest.NewRequest(http.MethodPost, "/predict", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Code, strings.HasPrefix(w.Body.String(), `{"target":"species","predictions":[{"class":`))

	bad := `{"rows": [{"sepal_length": 5.1}]}`
	r = httptest.NewRequest(http.MethodPost, "/predict", strings.NewReader(bad))
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Code, strings.Contains(w.Body.String(), `missing column \"sepal_width\"`))
	// Output:
	// 200 true
	// 400 true
}
