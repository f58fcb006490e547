package main

import (
	"bufio"
	"context"
	"io"

	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/internal/cli"
)

func predictCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("flowgrad predict", "usage: flowgrad predict -model model.fgm -data new.csv [-id COLUMN] > predictions.csv\n\n"+
		"Writes a CSV of predictions to stdout, one row per input row: the ID column if -id names one,\n"+
		"then the predicted class and one probability column per class (p_CLASS), or the predicted value\n"+
		"in the target's units.",
		stderr)
	var md modelData
	var sep, id string
	md.register(fs, &sep)
	fs.StringVar(&id, "id", "", "a column to copy into the output, such as a row ID")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := md.check(sep); err != nil {
		return err
	}
	var text []string
	if id != "" {
		text = []string{id}
	}
	m, tab, err := md.load(text...)
	if err != nil {
		return err
	}
	var idCol *data.Column
	if id != "" {
		if idCol = tab.Column(id); idCol == nil {
			return cli.Usagef("-id %q: %s has no such column", id, md.dataPath)
		}
	}
	pred, err := m.Predict(tab)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(stdout)
	if err := pred.WriteCSV(w, idCol); err != nil {
		return err
	}
	return w.Flush()
}
