package kernel

import (
	"fmt"
	"testing"
)

// BenchmarkMicroKernel times single micro-kernel calls on cache-resident
// operands: the ceiling the blocked driver can reach.
func BenchmarkMicroKernel(b *testing.B) {
	for _, name := range Available() {
		var ks *kset
		for _, s := range sets {
			if s.name == name {
				ks = s
			}
		}
		for _, mr := range []int{1, 4, ks.rowsWide, ks.rowsNarrow} {
			nv := ks.nvMax(mr)
			nr := nv * ks.w
			const kc = 256
			for _, layout := range []string{"rowA", "colA"} {
				b.Run(fmt.Sprintf("%s/%dx%d/%s", name, mr, nr, layout), func(b *testing.B) {
					a := make([]float32, kc*32)
					bb := make([]float32, kc*nr)
					c := make([]float32, mr*nr)
					rsa, csa := kc, 1
					if layout == "colA" {
						rsa, csa = 1, mr
					}
					k := ks.outer(mr, nv, 0)
					for b.Loop() {
						k(kc, &a[0], rsa, csa, &bb[0], nr, &c[0], nr, nr, 1, 1, 1, 1)
					}
					b.ReportMetric(2*float64(mr*nr*kc)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}
