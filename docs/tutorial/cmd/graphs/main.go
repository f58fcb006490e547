// Command graphs draws the flow graphs of docs/tutorial.md: it writes them
// as Graphviz DOT (autograd.Tape.WriteDot, pure Go) and, if Graphviz's dot
// is installed (Debian: apt-get install graphviz), renders each to SVG:
//
//	go run ./docs/tutorial/cmd/graphs [-out docs/tutorial/img] [-dot dot]
//
// The DOT files are deterministic; TestGraphsUpToDate checks them.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/flowgrad/flowgrad/docs/tutorial"
)

func main() {
	out := flag.String("out", "docs/tutorial/img", "folder for the .dot and .svg files")
	dot := flag.String("dot", "dot", "Graphviz's dot command (empty: write DOT only)")
	flag.Parse()
	if *dot != "" {
		if _, err := exec.LookPath(*dot); err != nil {
			log.Printf("%v: writing DOT only (install Graphviz to render SVG)", err)
			*dot = ""
		}
	}
	for _, g := range []struct {
		name  string
		write func(io.Writer) error
	}{
		{"flowgraph", tutorial.FlowGraph},
		{"mlp-graph", tutorial.MLPGraph},
	} {
		var buf bytes.Buffer
		if err := g.write(&buf); err != nil {
			log.Fatalf("%s: %v", g.name, err)
		}
		file := filepath.Join(*out, g.name+".dot")
		if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
			log.Fatal(err)
		}
		fmt.Println(file)
		if *dot == "" {
			continue
		}
		svg := strings.TrimSuffix(file, ".dot") + ".svg"
		cmd := exec.Command(*dot, "-Tsvg", "-o", svg, file)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			log.Fatalf("%s: %v", cmd, err)
		}
		fmt.Println(svg)
	}
}
