package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/flowgrad/flowgrad/internal/cli"
	"github.com/flowgrad/flowgrad/model"
	"github.com/flowgrad/flowgrad/model/serve"
)

func serveCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("flowgrad serve", "usage: flowgrad serve -model model.fgm [-addr localhost:8080]\n\n"+
		"Answers prediction requests over HTTP until interrupted:\n"+
		"  POST /predict  JSON {\"rows\": [{\"column\": value, …}]} → {\"predictions\": […]},\n"+
		"                 or CSV (Content-Type: text/csv) → the CSV of flowgrad predict (?id=COLUMN)\n"+
		"  GET  /model    the features, target and classes the model has, as JSON\n"+
		"  GET  /healthz  ok",
		stderr)
	modelPath := fs.String("model", "model.fgm", "the model file (from flowgrad train)")
	addr := fs.String("addr", "localhost:8080", "the address to listen on, host:port (\":8080\" for every interface; port 0 picks a free one)")
	maxBody := fs.Int64("max-body", serve.DefaultMaxBody, "the largest request body in bytes; larger ones get status 413")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if *maxBody < 1 {
		return cli.Usagef("-max-body %d: want at least 1 byte", *maxBody)
	}
	if ranks() > 1 {
		return cli.Usagef("serve runs in one process, not on %d ranks", ranks())
	}
	m, err := model.Load(*modelPath)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("-addr %s: %w", *addr, err)
	}
	h := serve.New(m)
	h.MaxBody = *maxBody
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	stopped := make(chan error, 1)
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		stopped <- srv.Shutdown(shutdown) // lets requests in flight finish
	}()
	fmt.Fprintf(stdout, "flowgrad serve: %s (%s of %q) on http://%s: POST /predict, GET /model, GET /healthz\n",
		*modelPath, m.Kind(), m.Pre.Target, ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	if err := <-stopped; err != nil {
		return err
	}
	fmt.Fprintln(stdout, "flowgrad serve: stopped")
	return nil
}
