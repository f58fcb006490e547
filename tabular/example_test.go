package tabular_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/tabular"
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
