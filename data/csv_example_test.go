package data_test

import (
	"fmt"
	"log"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/flowgrad/flowgrad/data"
)

// A CSV table to a training and a validation dataset: the split is done
// on the raw rows, the preprocessing is fitted on the training rows only
// and applied to both.
func ExampleFit() {
	csv := "id,size,color,price\n" +
		"a,10,red,100\n" +
		"b,20,blue,210\n" +
		"c,30,red,290\n" +
		"d,40,blue,420\n" +
		"e,50,red,500\n"
	tab, err := data.ReadCSV(strings.NewReader(csv), "prices.csv", &data.CSVOptions{Text: []string{"id"}})
	if err != nil {
		log.Fatal(err)
	}
	opt := data.FitOptions{Target: "price", ScaleTarget: true}
	train, val, err := data.Split(tab, opt, 0.2, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		log.Fatal(err)
	}
	pre, err := data.Fit(train, opt)
	if err != nil {
		log.Fatal(err)
	}
	ds, err := pre.Dataset(train)
	if err != nil {
		log.Fatal(err)
	}
	vds, err := pre.Dataset(val)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("task:", pre.Kind, "ignored:", pre.Ignored)
	fmt.Println("inputs:", pre.Inputs(), "(size, color=blue, color=red)")
	fmt.Println("rows:", ds.Len(), "training,", vds.Len(), "validation")
	// Output:
	// task: regression ignored: [id]
	// inputs: 3 (size, color=blue, color=red)
	// rows: 4 training, 1 validation
}

// How numeric features are scaled. Lengths in one unit with spreads
// within JointSpreadRatio of each other share one scale under ScaleAuto,
// so the wider-spread petal stays wider; ScaleEach gives each its own.
func ExampleFeatureScaling() {
	csv := "sepal,petal,species\n" +
		"5.0,1.4,setosa\n" +
		"6.0,4.5,versicolor\n" +
		"6.5,5.5,virginica\n" +
		"5.5,1.6,setosa\n"
	tab, err := data.ReadCSV(strings.NewReader(csv), "flowers.csv", nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range []data.FeatureScaling{data.ScaleAuto, data.ScaleEach, data.ScaleNone} {
		pre, err := data.Fit(tab, data.FitOptions{Scaling: s})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%-4v → %-5v", s, pre.Scaling())
		for _, f := range pre.Features {
			fmt.Printf("  %s: mean %.3f, scale %.3f", f.Name, f.Mean, f.Std)
		}
		fmt.Println()
	}
	// Output:
	// auto → joint  sepal: mean 5.750, scale 1.324  petal: mean 3.250, scale 1.324
	// each → each   sepal: mean 5.750, scale 0.559  petal: mean 3.250, scale 1.787
	// none → none   sepal: mean 0.000, scale 1.000  petal: mean 0.000, scale 1.000
}

// Errors name the file, the line and the column, and say what to do.
func ExampleReadCSV_errors() {
	_, err := data.ReadCSV(strings.NewReader("x,y\n1,2\n3,n/a\n"), "sensors.csv", nil)
	fmt.Println(err)
	// Output:
	// data: sensors.csv: line 3, column "y": bad value: "n/a" is not a number, but the column is numeric (its first value was a number); fix the value, or read the column as categorical
}

// Blank fields as missing values: read them with CSVOptions.Missing and
// fill them in with FitOptions.FillMissing — a numeric feature's with its
// training mean (Feature.Fill), a categorical one's with no category.
// The preprocessor keeps the choice: its CSVOptions read later files the
// same way, and Transform fills their blanks in too.
func ExampleFitOptions_fillMissing() {
	csv := "temp,site,ok\n" +
		"20,a,yes\n" +
		",b,no\n" +
		"30,,yes\n" +
		"40,b,no\n"
	tab, err := data.ReadCSV(strings.NewReader(csv), "sensors.csv", &data.CSVOptions{Missing: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("blank temps:", tab.Column("temp").Missing(), "blank sites:", tab.Column("site").Missing())
	pre, err := data.Fit(tab, data.FitOptions{FillMissing: true, Scaling: data.ScaleEach})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("temp: mean %.0f of the 3 values there\n", pre.Features[0].Mean)

	rows, err := data.ReadCSV(strings.NewReader("temp,site\n,\n30,a\n"), "new.csv", pre.CSVOptions(nil))
	if err != nil {
		log.Fatal(err)
	}
	x := make([]float32, rows.Len()*pre.Inputs())
	if err := pre.Transform(x, rows); err != nil {
		log.Fatal(err)
	}
	fmt.Println("inputs (temp, site=a, site=b):", x[:3], x[3:])
	// Output:
	// blank temps: 1 blank sites: 1
	// temp: mean 30 of the 3 values there
	// inputs (temp, site=a, site=b): [0 0 0] [0 1 0]
}

// Rare categories share one input, which also takes a value first seen
// after training.
func ExampleFitOptions_minCategoryRows() {
	csv := "shop,sold\n" +
		"north,12\nnorth,15\nnorth,11\n" +
		"south,7\nsouth,9\nsouth,8\n" +
		"kiosk 7,3\nkiosk 9,2\n"
	tab, err := data.ReadCSV(strings.NewReader(csv), "sales.csv", nil)
	if err != nil {
		log.Fatal(err)
	}
	pre, err := data.Fit(tab, data.FitOptions{MinCategoryRows: 2})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(pre.Features[0].InputNames())

	rows, err := data.ReadCSV(strings.NewReader("shop\nsouth\nkiosk 9\nkiosk 12\n"), "new.csv", pre.CSVOptions(nil))
	if err != nil {
		log.Fatal(err)
	}
	x := make([]float32, rows.Len()*pre.Inputs())
	if err := pre.Transform(x, rows); err != nil {
		log.Fatal(err)
	}
	fmt.Println(x[0:3], x[3:6], x[6:9])
	// Output:
	// [shop=north shop=south shop (other)]
	// [0 1 0] [0 0 1] [0 0 1]
}

// Five rounds of cross-validation on Iris: each trains on four folds and
// tests on the fifth, with the species in proportion.
func ExampleKFold() {
	tab, err := data.LoadCSV("testdata/tables/iris.csv", nil)
	if err != nil {
		log.Fatal(err)
	}
	folds, err := data.KFold(tab, data.FitOptions{Target: "species"}, 5, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		log.Fatal(err)
	}
	for i, f := range folds {
		fmt.Println("round", i+1, "trains on", f.Train.Len(), "rows, tests on", f.Test.Len(), "- by species:", f.Test.Column("species").Counts())
	}
	// Output:
	// round 1 trains on 120 rows, tests on 30 - by species: [10 10 10]
	// round 2 trains on 120 rows, tests on 30 - by species: [10 10 10]
	// round 3 trains on 120 rows, tests on 30 - by species: [10 10 10]
	// round 4 trains on 120 rows, tests on 30 - by species: [10 10 10]
	// round 5 trains on 120 rows, tests on 30 - by species: [10 10 10]
}

// Two targets predicted together: one output each, standardised each.
func ExampleFitOptions_targets() {
	csv := "speed,load,temp,wear\n" +
		"10,1,40,0.1\n20,2,45,0.3\n30,1,50,0.4\n40,3,60,0.9\n"
	tab, err := data.ReadCSV(strings.NewReader(csv), "machine.csv", nil)
	if err != nil {
		log.Fatal(err)
	}
	pre, err := data.Fit(tab, data.FitOptions{Targets: []string{"temp", "wear"}, ScaleTarget: true})
	if err != nil {
		log.Fatal(err)
	}
	ds, err := pre.Dataset(tab)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(pre.Targets(), "→", ds.Outputs(), "outputs from", pre.Inputs(), "inputs")
	y := slices.Clone(ds.Targets()[:2]) // the first row's, standardised (a copy: the dataset's are read-only)
	pre.Unscale(y)
	fmt.Printf("row 1 back in units: %.3g\n", y)
	// Output:
	// [temp wear] → 2 outputs from 2 inputs
	// row 1 back in units: [40 0.1]
}
