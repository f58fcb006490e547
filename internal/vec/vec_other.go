//go:build !(amd64 || arm64) || purego

package vec

// archImpl returns nil: no assembly path in this build (purego tag, or an
// architecture without one); the Go twins run.
func archImpl() *impl { return nil }
