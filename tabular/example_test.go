package tabular_test

import (
	"context"
	"fmt"
	"log"
	"math"
	"strings"

	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/tabular"
	"gonum.org/v1/gonum/stat"
)

// Train a classifier on a CSV table with the defaults of flowgrad train
// and predict the class of new rows.
func Example() {
	tab, err := data.LoadCSV("../data/testdata/tables/iris.csv", nil)
	if err != nil {
		log.Fatal(err)
	}
	opt := tabular.Defaults()
	opt.Fit.Target = "species"
	res, err := tabular.Train(context.Background(), tab, &opt)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("validation accuracy ≥ 90 %:", res.Validation().Accuracy >= 0.9)
	m, err := res.Model(map[string]string{"trained_by": "tabular.Example"}) // m.Save(path) writes the model file
	if err != nil {
		log.Fatal(err)
	}
	rows, err := data.ReadCSV(strings.NewReader("sepal_length,sepal_width,petal_length,petal_width\n5.0,3.4,1.5,0.2\n6.9,3.1,5.4,2.1\n"), "new.csv", nil)
	if err != nil {
		log.Fatal(err)
	}
	pred, err := m.Predict(rows)
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range pred.Class {
		fmt.Println(pred.Classes[c])
	}
	// Output:
	// validation accuracy ≥ 90 %: true
	// setosa
	// virginica
}

// A regression with its own choices: a smaller network without dropout,
// the loss watched, and a hook that reports the refit.
func ExampleOptions() {
	tab, err := data.LoadCSV("../data/testdata/tables/iris.csv", nil)
	if err != nil {
		log.Fatal(err)
	}
	opt := tabular.Defaults()
	opt.Fit.Target = "petal_width"
	opt.Hidden, opt.Dropout = []int{16}, 0
	opt.Hooks.End = func(r *tabular.Run) {
		if r.Refit {
			fmt.Printf("refit on all %d rows\n", r.Train.Len())
		}
	}
	res, err := tabular.Train(context.Background(), tab, &opt)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("for the epochs early stopping chose:", res.Final.Epochs == res.Split.BestEpoch)
	fmt.Printf("validation R² > 0.9: %v, RMSE < 0.3 cm: %v\n", res.Validation().R2 > 0.9, res.Validation().RMSE < 0.3)
	// Output:
	// refit on all 150 rows
	// for the epochs early stopping chose: true
	// validation R² > 0.9: true, RMSE < 0.3 cm: true
}

// Estimate the score on unseen rows by 5-fold cross-validation, each
// fold's model trained as Train trains.
func ExampleCrossValidate() {
	tab, err := data.LoadCSV("../data/testdata/tables/iris.csv", nil)
	if err != nil {
		log.Fatal(err)
	}
	opt := tabular.Defaults()
	opt.Fit.Target, opt.Epochs = "species", 200 // a quicker estimate than the default 1000
	scores, err := tabular.CrossValidate(context.Background(), tab, &opt, 5, nil)
	if err != nil {
		log.Fatal(err)
	}
	acc := make([]float64, len(scores))
	for i, s := range scores {
		acc[i] = s.Metrics.Accuracy
	}
	mean, sd := stat.MeanStdDev(acc, nil)
	fmt.Printf("%d folds of %d test rows; accuracy ≥ 90 %%: %v (sd < 10 points: %v)\n", len(scores), scores[0].Test, mean >= 0.9, sd < 0.1)
	// Output:
	// 5 folds of 30 test rows; accuracy ≥ 90 %: true (sd < 10 points: true)
}

// Train on data already in memory — rows from a database query, say —
// through data.NewTable, and predict a new row built the same way.
func Example_inMemory() {
	var area, age, price []float64
	var district []string
	for i := range 300 {
		a, y := 50+float64(i%97), float64(i%41)
		d := []string{"north", "south", "east"}[i%3]
		premium := map[string]float64{"north": 40, "south": 0, "east": 20}[d]
		area, age, district = append(area, a), append(age, y), append(district, d)
		price = append(price, 3*a-2*y+premium)
	}
	tab, err := data.NewTable("houses", data.NumericColumn("area", area), data.NumericColumn("age", age),
		data.CategoricalColumn("district", district), data.NumericColumn("price", price))
	if err != nil {
		log.Fatal(err)
	}
	opt := tabular.Defaults() // the target: the last column, price
	res, err := tabular.Train(context.Background(), tab, &opt)
	if err != nil {
		log.Fatal(err)
	}
	m, err := res.Model(nil)
	if err != nil {
		log.Fatal(err)
	}
	row, err := data.NewTable("new", data.NumericColumn("area", []float64{80}), data.NumericColumn("age", []float64{10}),
		data.CategoricalColumn("district", []string{"north"}))
	if err != nil {
		log.Fatal(err)
	}
	pred, err := m.Predict(row)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("validation R² > 0.99: %v; price of the new house within 15 of 3·80 − 2·10 + 40 = 260: %v\n",
		res.Validation().R2 > 0.99, math.Abs(float64(pred.Value.At(0, 0))-260) < 15)
	// Output:
	// validation R² > 0.99: true; price of the new house within 15 of 3·80 − 2·10 + 40 = 260: true
}
