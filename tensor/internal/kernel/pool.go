package kernel

// runShared computes g's chunks on the caller and up to g.helpers workers
// of the one worker pool (internal/parallel), and returns when all are
// done. Chunks are taken first come, first served, so a worker the OS has
// descheduled delays the call by at most the chunk it holds (but by all of
// it: Share scores the call, and the pool stops sharing for a while when
// shared calls do not pay).
func runShared(g *gemm) { g.grp.Share(g, g.chunks, g.helpers) }

// Part computes chunk i of the n = g.chunks chunks of C, for the pool.
func (g *gemm) Part(i, n int) { g.chunk(i) }
