//go:build race

package dist

// raceEnabled: the race detector makes sync.Pool drop items at random (the
// GEMM kernel pools its workspaces), so allocation counts are meaningless.
const raceEnabled = true
