// Package cli holds what flowgrad's commands share: flag parsing with the
// project's exit-status conventions (a bad flag is a UsageError, exit 2),
// list-valued flags, the progress bar, and the -optimizer flags.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// UsageError is a bad flag or argument: the command exits with status 2.
type UsageError struct{ Msg string }

func (e UsageError) Error() string { return e.Msg }

// Usagef returns a UsageError with a formatted message.
func Usagef(format string, args ...any) error { return UsageError{fmt.Sprintf(format, args...)} }

// ErrHelp is returned by Parse for -h: the usage has been printed and the
// command exits with status 0.
var ErrHelp = errors.New("help requested")

// NewFlagSet returns the flag set of a command for Parse: errors and -h
// go to stderr, and -h prints usage (the command's synopsis and what it
// does) followed by every flag.
func NewFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage+"\n\nflags:\n")
		fs.PrintDefaults()
	}
	return fs
}

// Parse parses args into fs, which must use flag.ContinueOnError. It
// returns ErrHelp for -h, a UsageError for a bad flag or for a positional
// argument (the commands take flags only).
func Parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ErrHelp
		}
		return UsageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return Usagef("unexpected argument %q (flags only; see -h)", fs.Arg(0))
	}
	return nil
}

// Given returns the names of the flags set on the command line.
func Given(fs *flag.FlagSet) map[string]bool {
	set := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// Ints parses a comma-separated list of integers ≥ min, such as "64,64";
// "" is the empty list. The error names the flag and the bad element.
func Ints(flagName, s string, min int) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < min {
			return nil, Usagef("-%s %q: %q is not an integer ≥ %d", flagName, s, f, min)
		}
		out = append(out, v)
	}
	return out, nil
}

// JoinInts formats xs with sep between them, e.g. "784-256-10" (the
// inverse of Ints for sep ",").
func JoinInts(xs []int, sep string) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, sep)
}

// Names splits a comma-separated list of names, trimming spaces and
// dropping empty elements.
func Names(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// CheckProgress validates a -progress flag value: auto, on or off.
func CheckProgress(mode string) error {
	switch mode {
	case "auto", "on", "off":
		return nil
	}
	return Usagef("-progress %q: want auto, on or off", mode)
}

// NewBar returns a progress bar of total steps writing to w, or nil when
// mode is "off", or "auto" and w is not a terminal. A nil bar is valid for
// the Bar methods.
func NewBar(w io.Writer, mode string, total int, description string) *Bar {
	if mode == "off" || mode == "auto" && !IsTerminal(w) {
		return nil
	}
	return &Bar{progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w), progressbar.OptionClearOnFinish(), progressbar.OptionSetDescription(description),
		progressbar.OptionShowCount(), progressbar.OptionSetWidth(30), progressbar.OptionThrottle(100*time.Millisecond))}
}

// Bar is a progress bar; the nil *Bar does nothing.
type Bar struct{ b *progressbar.ProgressBar }

// Set moves the bar to n.
func (b *Bar) Set(n int) {
	if b != nil {
		b.b.Set(n)
	}
}

// Close erases the bar for good: a bar of unknown total (a spinner)
// would otherwise go on redrawing itself every 100 ms.
func (b *Bar) Close() {
	if b != nil {
		b.b.Finish()
		b.b.Clear()
	}
}

// Clear resets the bar and erases it, before a line of output.
func (b *Bar) Clear() {
	if b != nil {
		b.b.Reset()
		b.b.Clear()
	}
}
