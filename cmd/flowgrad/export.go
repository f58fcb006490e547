package main

import (
	"context"
	"io"

	"github.com/flowgrad/flowgrad/internal/cli"
)

func exportCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	return cli.Usagef("export: ONNX export is not built in yet")
}
