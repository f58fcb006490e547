package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// -lr auto prints λmax, the bound and the rate, then trains exactly as
// -lr with that rate would (the estimate uses minibatches of its own and
// leaves the weights as they were).
func TestLRAuto(t *testing.T) {
	dir := fakeMNIST(t, 200, 50)
	common := []string{"-data", dir, "-epochs", "1", "-batch", "20", "-hidden", "16", "-target", "0", "-progress", "off", "-schedule", "constant"}
	code, out, stderr := runDemo(t, append([]string{"-lr", "auto"}, common...)...)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	m := regexp.MustCompile(`schedule Constant\(([^)]+)\)`).FindStringSubmatch(out) // the rate in full
	if m == nil || !strings.Contains(out, "training at 0.1 × bound = ") || !strings.Contains(out, "-lr auto: λmax ≈ ") || !strings.Contains(out, "stability bound for heavyball momentum 0.9: ε < ") {
		t.Fatalf("output lacks the estimate, the bound or the rate:\n%s", out)
	}
	code, out2, stderr := runDemo(t, append([]string{"-lr", m[1]}, common...)...)
	if code != 0 {
		t.Fatalf("-lr %s: exit %d, stderr %q", m[1], code, stderr)
	}
	epochLine := func(s string) string { return regexp.MustCompile(`\n    1 +\S+ +\S+ +\S+`).FindString(s) }
	if a, b := epochLine(out), epochLine(out2); a == "" || a != b {
		t.Errorf("-lr auto trained differently from -lr %s: %q vs %q", m[1], a, b)
	}
}

func TestFindLRWritesPlotAndExits(t *testing.T) {
	png := filepath.Join(t.TempDir(), "range.png")
	code, out, stderr := runDemo(t, "-data", fakeMNIST(t, 200, 50), "-batch", "20", "-hidden", "16",
		"-find-lr", "-find-lr-png", png, "-progress", "off")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{"learning-rate range test: heavyball momentum 0.9, B=20", "      rate        loss    smoothed", "suggested rate (lowest / 10): ", "plot written to " + png} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "epoch  train loss") {
		t.Error("-find-lr went on to train")
	}
	b, err := os.ReadFile(png)
	if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Errorf("plot file: %v, %d bytes", err, len(b))
	}
}

func TestLRToolFlagErrors(t *testing.T) {
	dir := fakeMNIST(t, 50, 20)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-lr", "fast"}, `invalid value "fast" for flag -lr: want a number or auto`},
		{[]string{"-lr", "auto", "-lr-batches", "0"}, "-lr-batches 0"},
		{[]string{"-lr", "auto", "-lr-fraction", "2"}, "-lr-fraction 2"},
		{[]string{"-find-lr", "-find-lr-png", filepath.Join(dir, "no", "such", "dir", "x.png")}, "-find-lr-png"},
	} {
		code, _, stderr := runDemo(t, append([]string{"-data", dir, "-batch", "10", "-hidden", "8", "-progress", "off"}, c.args...)...)
		if code == 0 || !strings.Contains(stderr, c.want) || strings.Contains(stderr, "goroutine") {
			t.Errorf("%v: exit %d, stderr %q; want an error mentioning %q", c.args, code, stderr, c.want)
		}
	}
}
