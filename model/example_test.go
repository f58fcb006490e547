package model_test

import (
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/model"
	"github.com/flowgrad/flowgrad/optim"
)

// From a CSV to a model file, and from the file to predictions in another
// program: the preprocessing and the class names travel inside the file.
func Example() {
	rng := rand.New(rand.NewPCG(1, 2))
	tab, err := data.LoadCSV("../data/testdata/tables/iris.csv", nil)
	if err != nil {
		log.Fatal(err)
	}
	opt := data.FitOptions{Target: "species"}
	train, _, err := data.Split(tab, opt, 0.2, rng) // stratified, seeded
	if err != nil {
		log.Fatal(err)
	}
	pre, err := data.Fit(train, opt) // standardisation and classes, from the training rows only
	if err != nil {
		log.Fatal(err)
	}
	ds, err := pre.Dataset(train)
	if err != nil {
		log.Fatal(err)
	}
	net := layers.MLP[float32](rng, pre.Inputs(), 16, pre.Outputs())
	sgd, _ := optim.NewSGD(net.Params(), optim.Must(optim.Constant(0.05)), optim.WithMomentum(optim.HeavyBall, 0.9))
	batches, _ := data.NewBatcher(ds, 16, rng)
	tape := autograd.NewTape[float32]()
	for range 50 {
		for b := range batches.Epoch() {
			tape.Reset()
			tape.Backward(autograd.SoftmaxCrossEntropy(net.Forward(tape.Input(b.X)), b.Labels))
			sgd.Step()
		}
	}
	m, err := model.New(net, pre, map[string]string{"data": "iris.csv"})
	if err != nil {
		log.Fatal(err)
	}
	path := filepath.Join(os.TempDir(), "iris-example.model")
	if err := m.Save(path); err != nil {
		log.Fatal(err)
	}
	defer os.Remove(path)

	// Another program: load, read new rows with the model's reading
	// options, predict.
	loaded, err := model.Load(path)
	if err != nil {
		log.Fatal(err)
	}
	rows := "id,sepal_length,sepal_width,petal_length,petal_width\n" +
		"a,5.0,3.4,1.5,0.2\n" +
		"b,6.4,2.9,4.3,1.3\n" +
		"c,7.7,3.0,6.1,2.3\n"
	newRows, err := data.ReadCSV(strings.NewReader(rows), "new.csv", loaded.Pre.CSVOptions(&data.CSVOptions{Text: []string{"id"}}))
	if err != nil {
		log.Fatal(err)
	}
	pred, err := loaded.Predict(newRows)
	if err != nil {
		log.Fatal(err)
	}
	for i := range pred.Len() {
		fmt.Println(newRows.Column("id").Value(i), pred.Classes[pred.Class[i]])
	}
	// Output:
	// a setosa
	// b versicolor
	// c virginica
}

// Prediction.WriteCSV writes what `flowgrad predict` prints: the ID
// column, the predicted value in the target's units (or the class and its
// probabilities).
func ExamplePrediction_WriteCSV() {
	csv := "id,x,y\nr1,1,10\nr2,3,30\nr3,3,30\nr4,1,10\n"
	tab, err := data.ReadCSV(strings.NewReader(csv), "lin.csv", &data.CSVOptions{Text: []string{"id"}})
	if err != nil {
		log.Fatal(err)
	}
	pre, err := data.Fit(tab, data.FitOptions{Target: "y", Task: data.RegressionTask, ScaleTarget: true}) // two values would be classes
	if err != nil {
		log.Fatal(err)
	}
	// A one-layer network set by hand to the exact fit: x is standardised
	// to ±1, y to ±1 (mean 20, standard deviation 10), so weight 1 fits.
	net := layers.MLP[float32](rand.New(rand.NewPCG(1, 1)), 1, 1)
	net.Params()[0].Data().Set(0, 0, 1)
	m, err := model.New(net, pre, nil)
	if err != nil {
		log.Fatal(err)
	}
	pred, err := m.Predict(tab)
	if err != nil {
		log.Fatal(err)
	}
	if err := pred.WriteCSV(os.Stdout, tab.Column("id")); err != nil {
		log.Fatal(err)
	}
	// Output:
	// id,y
	// r1,10
	// r2,30
	// r3,30
	// r4,10
}

// Which features a model uses: here one set by hand to y = x1, so x2
// does not matter at all.
func ExampleModel_PermutationImportance() {
	csv := "x1,x2,y\n1,5,1\n2,3,2\n3,4,3\n4,1,4\n5,2,5\n6,6,6\n"
	tab, err := data.ReadCSV(strings.NewReader(csv), "lin.csv", nil)
	if err != nil {
		log.Fatal(err)
	}
	pre, err := data.Fit(tab, data.FitOptions{Target: "y", ScaleTarget: true, Scaling: data.ScaleEach})
	if err != nil {
		log.Fatal(err)
	}
	// Both x1 and y are standardised alike, so weight 1 on x1 fits.
	net := layers.MLP[float32](rand.New(rand.NewPCG(1, 1)), 2, 1)
	net.Params()[0].Data().Set(0, 0, 1)
	net.Params()[0].Data().Set(1, 0, 0)
	m, err := model.New(net, pre, nil)
	if err != nil {
		log.Fatal(err)
	}
	base, imps, err := m.PermutationImportance(tab, 5, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("R² %.2f\n", base.R2)
	for _, imp := range imps {
		fmt.Printf("%s: R² falls by %.2f ± %.2f\n", imp.Feature, imp.Fall, imp.FallSD)
	}
	// Output:
	// R² 1.00
	// x1: R² falls by 2.03 ± 0.79
	// x2: R² falls by 0.00 ± 0.00
}
