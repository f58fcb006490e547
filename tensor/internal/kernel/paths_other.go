//go:build purego || !(amd64 || arm64)

package kernel

// archSets lists the assembly paths of this build: none, with the purego
// tag or off amd64 and arm64.
func archSets() []*kset { return nil }
