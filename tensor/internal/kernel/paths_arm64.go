//go:build !purego

package kernel

import "github.com/klauspost/cpuid/v2"

// archSets lists the assembly paths of this build, best first, each marked
// with whether this CPU supports it: NEON (Advanced SIMD, which cpuid
// calls ASIMD): 6×16 outer micro-kernels and 4×4 dot kernels.
func archSets() []*kset {
	return []*kset{
		{
			name:       "neon",
			w:          4,
			rowsWide:   6,
			rowsNarrow: 12,
			nvMax:      func(mr int) int { return neonNVMax[mr] },
			outer:      func(mr, nv, rem int) outerFn { return neonOuter[mr][nv][rem] },
			dotRows:    4,
			dotNRMax:   func(mr int) int { return 4 },
			dot:        func(mr, nr int) dotFn { return neonDot[mr][nr] },
			supported:  cpuid.CPU.Supports(cpuid.ASIMD),
			lacks:      "Advanced SIMD (ASIMD)",
		},
	}
}
