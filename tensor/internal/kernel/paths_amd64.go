//go:build !purego

package kernel

import "github.com/klauspost/cpuid/v2"

// archSets lists the assembly paths of this build, best first, each marked
// with whether this CPU supports it.
func archSets() []*kset {
	hasAVX2 := cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX2, cpuid.FMA3)
	hasAVX512 := hasAVX2 && cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512DQ, cpuid.AVX512BW, cpuid.AVX512VL)
	return []*kset{
		{
			name:       "avx512",
			w:          16,
			rowsWide:   14,
			rowsNarrow: 27,
			nvMax:      func(mr int) int { return avx512NVMax[mr] },
			outer:      func(mr, nv, rem int) outerFn { return avx512Outer[mr][nv][0] },
			dotRows:    4,
			dotNRMax:   func(mr int) int { return avx512DotNRMax[mr] },
			dot:        func(mr, nr int) dotFn { return avx512Dot[mr][nr] },
			sparse:     sparseRowAVX512,
			sparseT:    sparseColsAVX512,
			supported:  hasAVX512,
			lacks:      "AVX-512 F/DQ/BW/VL",
		},
		{
			name:       "avx2",
			w:          8,
			rowsWide:   6,
			rowsNarrow: 12,
			nvMax:      func(mr int) int { return avx2NVMax[mr] },
			outer: func(mr, nv, rem int) outerFn {
				if rem != 0 {
					return avx2Outer[mr][nv][1]
				}
				return avx2Outer[mr][nv][0]
			},
			dotRows:   3,
			dotNRMax:  func(mr int) int { return avx2DotNRMax[mr] },
			dot:       func(mr, nr int) dotFn { return avx2Dot[mr][nr] },
			sparse:    sparseRowAVX2,
			sparseT:   sparseColsAVX2,
			supported: hasAVX2,
			lacks:     "AVX2 and FMA3",
		},
	}
}
