package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/internal/cli"
)

func describeCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("flowgrad describe", "usage: flowgrad describe -data table.csv\n\n"+
		"Shows how flowgrad train reads a CSV: each column's type, blank fields, values (range and\n"+
		"mean, or the commonest categories) and what to watch for (an identifier, a constant, codes\n"+
		"read as numbers), before training on it.",
		stderr)
	var dataPath, sep, categorical string
	fs.StringVar(&dataPath, "data", "", "the CSV (plain or gzip, header row); required")
	fs.StringVar(&sep, "sep", ",", "the field separator (one character; \\t for tab)")
	fs.StringVar(&categorical, "categorical", "", "comma-separated columns to read as categories even if their values are numbers (as for train)")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if dataPath == "" {
		return cli.Usagef("-data: give a CSV (see -h)")
	}
	comma, err := separator(sep)
	if err != nil {
		return err
	}
	tab, err := data.LoadCSV(dataPath, &data.CSVOptions{Comma: comma, Categorical: cli.Names(categorical), Missing: true})
	if err != nil {
		return err
	}
	cols := tab.Columns()
	fmt.Fprintf(stdout, "%s: %d rows, %d columns (flowgrad train's default target is the last, %q)%s\n\n", dataPath, tab.Len(), len(cols), cols[len(cols)-1].Name(), tab.SeparatorHint())
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "column\ttype\tblank\tvalues\tnote")
	var notes []string
	for _, c := range cols {
		values, note := describeColumn(tab, c)
		blank := "-"
		if c.Missing() > 0 {
			blank = strconv.Itoa(c.Missing())
			notes = append(notes, c.Name())
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Name(), c.Type(), blank, values, note)
	}
	tw.Flush()
	if len(notes) > 0 {
		fmt.Fprintf(stdout, "\nblank fields in %s: train stops at them unless -missing mean fills them in (a blank target is always an error)\n",
			strings.Join(notes, ", "))
	}
	return nil
}

// describeColumn returns a numeric column's range and mean, or a
// categorical one's number of values and the commonest, and a note on
// what to watch for.
func describeColumn(tab *data.Table, c *data.Column) (values, note string) {
	n := tab.Len() - c.Missing()
	if n == 0 {
		return "none", "no values: ignore it"
	}
	if c.Type() == data.Categorical {
		counts := c.Counts()
		order := make([]int, 0, len(counts))
		for k, m := range counts {
			if m > 0 {
				order = append(order, k)
			}
		}
		slices.SortStableFunc(order, func(a, b int) int { return counts[b] - counts[a] })
		var top []string
		for _, k := range order[:min(3, len(order))] {
			top = append(top, fmt.Sprintf("%s (%d)", shorten(c.Levels()[k], 20), counts[k]))
		}
		values = fmt.Sprintf("%d distinct: %s", len(order), strings.Join(top, ", "))
		if len(order) > 3 {
			values += ", …"
		}
		_, once, advice := rareValues(c)
		switch {
		case len(order) == 1:
			note = "constant: ignore it"
		case len(order) == n && n >= manyCategories:
			note = "a different value in every row: an identifier? -ignore it"
		case advice != "":
			note = fmt.Sprintf("%d values in one row only: %s", once, advice)
		}
		return values, note
	}
	lo, hi, sum := math.Inf(1), math.Inf(-1), 0.0
	for i := range tab.Len() {
		if v := float64(c.Float(i)); v == v { // not blank
			lo, hi, sum = min(lo, v), max(hi, v), sum+v
		}
	}
	values = fmt.Sprintf("%.4g … %.4g, mean %.4g", lo, hi, sum/float64(n))
	codes := wholeValues(c, tab.Len())
	switch {
	case lo == hi:
		note = "constant: ignore it"
	case risesByRow(c, tab.Len()):
		note = "whole numbers rising with every row: a row number? -ignore it"
	case len(codes) == 2:
		note = "two whole numbers: as a target, classes"
	case codes != nil:
		note = fmt.Sprintf("%d whole numbers: if they are codes, -categorical; as a target, regression unless -task classify", len(codes))
	}
	return values, note
}

// shorten cuts s to at most n runes, marking a cut with "…".
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
