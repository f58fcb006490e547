package kernel

import (
	"runtime"
	"sync"
	"unsafe"

	"github.com/flowgrad/flowgrad/internal/parallel"
	"github.com/flowgrad/flowgrad/internal/vec"
	"gonum.org/v1/gonum/blas"
)

// Blocking parameters. kcMax bounds the K-block and ncMax the columns of
// one B-block, so that a kcMax×ncMax block of B stays in L2. Together they
// bound one micro-kernel call, which is not preemptible: at most
// kcMax·ncMax·mr multiply-adds, about 30 µs.
const (
	kcMax = 256
	ncMax = 512
)

// The dot kernels serve Sgemm(NoTrans, Trans) when m ≤ dotMaxM and either
// k ≥ dotMinK or m ≤ 4 (below that, the lane reduction costs more than
// packing Bᵀ); they take K in blocks of at most kdMax. Measured on Zen 4.
const (
	dotMaxM = 128
	kdMax   = 2048
	dotMinK = 64
)

// Threading: a product is shared with pool workers only when it has at
// least parMin multiply-adds, and it is cut into one or two chunks per
// processor of at least chunkMin multiply-adds. Below parMin sharing may
// pay for the product alone but not for the training step around it: the
// standard MLP's first-layer products at B = 10 (2M multiply-adds) took
// 23 µs shared against 36 µs alone, yet the step was 11 % slower with them
// shared (53 600 against 59 900 examples/s, benchstat n = 6) — the halves
// of W and of its gradient then move between the cores' caches every step,
// and the update pays for it. Those small-batch products are shared
// instead by the weight's row halves (internal/parallel.RowHalves), which
// the optimiser's update keeps to as well: the step at B = 10 went from
// 57 000 to 88 000 examples/s. The generic path, ten to twenty times
// slower, shares from parMin/4 (its parShift).
var (
	parMin   = 1 << 22
	chunkMin = 1 << 18
)

// Sgemm computes C = alpha·op(A)·op(B) + beta·C, where op(X) is X or Xᵀ as
// tA and tB say (blas.ConjTrans means Trans), op(A) is m×k, op(B) k×n and C
// m×n, all row-major with leading dimensions lda, ldb and ldc. When beta is
// 0, C is not read, so NaNs in C do not propagate; when alpha is 0 or k is
// 0, A and B are not read. It panics, with a message starting "kernel:", on
// a bad transpose flag, a negative size, a leading dimension that is too
// small, or a slice that is too short.
//
// Results do not depend on GOMAXPROCS: every element of C is summed by one
// goroutine in the same order — in increasing p, except that a product
// X·W (no transposes) with at most 16 rows and a W cut in row halves
// (internal/parallel.RowHalves) sums each half of K in increasing p and
// adds the second half's sum to the first's result, on one core or two.
func (Implementation) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	transA, transB := checkTrans(tA), checkTrans(tB)
	if m < 0 {
		panic("kernel: Sgemm: m < 0")
	}
	if n < 0 {
		panic("kernel: Sgemm: n < 0")
	}
	if k < 0 {
		panic("kernel: Sgemm: k < 0")
	}
	rowsA, colsA := m, k
	if transA {
		rowsA, colsA = k, m
	}
	rowsB, colsB := k, n
	if transB {
		rowsB, colsB = n, k
	}
	if lda < max(1, colsA) {
		panic("kernel: Sgemm: bad lda")
	}
	if ldb < max(1, colsB) {
		panic("kernel: Sgemm: bad ldb")
	}
	if ldc < max(1, n) {
		panic("kernel: Sgemm: bad ldc")
	}
	if m == 0 || n == 0 {
		return
	}
	if len(a) < lda*(rowsA-1)+colsA {
		panic("kernel: Sgemm: A is too short")
	}
	if len(b) < ldb*(rowsB-1)+colsB {
		panic("kernel: Sgemm: B is too short")
	}
	if len(c) < ldc*(m-1)+n {
		panic("kernel: Sgemm: C is too short")
	}
	if alpha == 0 || k == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	sgemm(cur, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func checkTrans(t blas.Transpose) bool {
	switch t {
	case blas.NoTrans:
		return false
	case blas.Trans, blas.ConjTrans:
		return true
	}
	panic("kernel: Sgemm: bad transpose flag")
}

// scaleC sets C = beta·C, without reading C when beta is 0.
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// gemm is one Sgemm call: its arguments and how C is cut into chunks
// (blocks of rows or of columns) that the caller and pool workers take in
// turn. Any goroutine may compute any chunk: the arithmetic of an element
// of C does not depend on who computes it, or on how C is cut.
type gemm struct {
	ks             *kset
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int
	rows           int  // panel height
	dot            bool // use the dot kernels
	rowUnit        int  // chunks are multiples of rowUnit rows…
	colUnit        int  // …or of colUnit columns
	splitM         bool // chunks are blocks of rows; else of columns
	chunks         int
	helpers        int  // pool workers asked to help
	cut            int  // row halves: where the two chunks meet (0: Range's chunks)
	sparse         bool // A is mostly zeros: use ks.sparse (see sparseA)
	sparseT        bool // Aᵀ·B with A mostly zeros: use ks.sparseT
	grp            parallel.Group
}

var gemmPool freeList[gemm]

func sgemm(ks *kset, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	// Small-batch products follow the row halves of the weight they
	// involve (internal/parallel.RowHalves): X·W sums each half of K on its
	// own core; Xᵀ·dY (dW) and dY·Wᵀ (dX) cut C at the same row of W.
	if !transA && !transB && m <= parallel.HalvesMaxBatch {
		if cut, ok := parallel.RowHalves(k, n); ok {
			splitK(ks, cut, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
			return
		}
	}
	g := newGemm(ks, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	g.plan(runtime.GOMAXPROCS(0))
	if cut, ok := g.halves(); ok && runtime.GOMAXPROCS(0) >= 2 {
		g.cut, g.chunks = cut, 2
		g.grp.Run(g, 2)
	} else if g.helpers > 0 {
		runShared(g)
	} else {
		g.chunks = 1
		g.chunk(0)
	}
	g.a, g.b, g.c, g.ks = nil, nil, nil, nil
	gemmPool.put(g)
}

// newGemm returns a gemm of the arguments from the pool, with its kernels
// chosen and no plan yet.
func newGemm(ks *kset, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) *gemm {
	g := gemmPool.get()
	g.ks, g.transA, g.transB = ks, transA, transB
	g.m, g.n, g.k = m, n, k
	g.alpha, g.beta = alpha, beta
	g.a, g.b, g.c = a, b, c
	g.lda, g.ldb, g.ldc = lda, ldb, ldc
	g.cut = 0
	g.rows = ks.rowsWide
	if n <= ks.w {
		g.rows = ks.rowsNarrow
	}
	g.rowUnit, g.colUnit = g.rows, 2*ks.w
	// The choice of kernels depends on the shape only, never on GOMAXPROCS.
	g.dot = ks.dotRows > 0 && !transA && transB && m <= dotMaxM && (k >= dotMinK || m <= 4)
	if g.dot {
		g.rowUnit = ks.dotRows
		g.colUnit = ks.dotNRMax(min(m, ks.dotRows))
	}
	g.sparse = ks.sparse != nil && !transA && !transB && n%ks.w == 0 && k >= 64 && !sparseOff && sparseA(a, lda, m, k)
	g.sparseT = ks.sparseT != nil && transA && !transB && n%ks.w == 0 && k >= 32 && !sparseOff && sparseA(a, lda, k, m)
	return g
}

// sparseFn is the signature of the sparse row kernels (sparseRowAVX512).
type sparseFn func(kc int, a *float32, b *float32, ldb int, c *float32, n int, alpha, beta float32, load int, idx *int32) int

// sparseTFn is the signature of the sparse Aᵀ·B kernels (sparseColsAVX512).
type sparseTFn func(kc int, a *float32, lda int, rows int, b *float32, ldb int, c *float32, ldc int, n int, alpha, beta float32, load int, t *float32)

// sparseOff turns the sparse kernels off (for tests comparing the two).
var sparseOff = false

// sparseMin is the fraction of zeros, in 1/16ths, from which A·B is
// computed from A's nonzeros only: the input layer's minibatch of
// images, mostly background (MNIST: 81 % zeros). Skipping a term
// a·b with a = 0 leaves an FMA chain unchanged when b is finite and the
// partial sum is not −0, so the result is the dense kernels' (bar the
// sign of an exact-zero result, and NaN or ∞ in B where A is 0).
const sparseMin = 10 // 62.5 %

// sparseA reports whether A (m×k, row-major, leading dimension lda) is
// mostly zeros, from up to 8 of its rows spread evenly.
func sparseA(a []float32, lda, m, k int) bool {
	rows := min(m, 8)
	zeros := 0
	for s := range rows {
		i := s * m / rows
		for _, v := range a[i*lda : i*lda+k] {
			if v == 0 {
				zeros++
			}
		}
	}
	return zeros*16 >= sparseMin*rows*k
}

// halves reports whether g is the weight gradient Xᵀ·dY (C = W's shape)
// or the input gradient dY·Wᵀ (C's columns = W's rows) of a small batch
// and a weight cut in row halves, and where C is cut: at that row, by
// rows of C or by columns (g.splitM is set to match).
func (g *gemm) halves() (cut int, ok bool) {
	switch {
	case g.transA && !g.transB && g.k <= parallel.HalvesMaxBatch:
		if cut, ok = parallel.RowHalves(g.m, g.n); ok {
			g.splitM = true
		}
	case !g.transA && g.transB && g.m <= parallel.HalvesMaxBatch:
		if cut, ok = parallel.RowHalves(g.n, g.k); ok {
			g.splitM = false
		}
	}
	return cut, ok
}

// kHalves is X·W computed as X[:, :cut]·W[:cut, :] + X[:, cut:]·W[cut:, :],
// each half on its own core (one after the other on one core).
type kHalves struct {
	g   [2]*gemm
	grp parallel.Group
}

// Part computes half i (both halves if n is 1).
func (h *kHalves) Part(i, n int) {
	if n == 1 {
		h.g[0].chunk(0)
		h.g[1].chunk(0)
		return
	}
	h.g[i].chunk(0)
}

var kHalvesPool freeList[kHalves]

// splitK computes C = alpha·op(A)·op(B) + beta·C for A m×k and B k×n (no
// transposes) as two sums over K, [0, cut) and [cut, k), each in
// increasing p: C ← (alpha·S₀ + beta·C) + alpha·S₁. The halves run on two
// cores when GOMAXPROCS allows; the arithmetic is the same either way.
func splitK(ks *kset, cut, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ws := wsPool.get()
	s1 := ws.panel(m * n)
	h := kHalvesPool.get()
	h.g[0] = newGemm(ks, false, false, m, n, cut, alpha, a, lda, b, ldb, beta, c, ldc)
	h.g[1] = newGemm(ks, false, false, m, n, k-cut, alpha, a[cut:], lda, b[cut*ldb:], ldb, 0, s1, n)
	for _, g := range h.g {
		g.chunks, g.splitM = 1, true
	}
	if runtime.GOMAXPROCS(0) >= 2 {
		h.grp.Run(h, 2)
	} else {
		h.Part(0, 1)
	}
	for i := range m {
		vec.AddTo(c[i*ldc:i*ldc+n], s1[i*n:i*n+n])
	}
	for i, g := range h.g {
		g.a, g.b, g.c, g.ks = nil, nil, nil, nil
		gemmPool.put(g)
		h.g[i] = nil
	}
	kHalvesPool.put(h)
	wsPool.put(ws)
}

// plan decides how C is cut and how many workers help. It may depend on
// procs; nothing that changes the arithmetic of an element of C may.
func (g *gemm) plan(procs int) {
	g.chunks, g.helpers, g.splitM = 1, 0, true
	work := g.m * g.n * g.k
	if procs < 2 || work < parMin>>g.ks.parShift {
		return
	}
	// Row chunks each stream all of op(B); column chunks all of op(A). The
	// dot kernels and a packed Bᵀ (packed once per column chunk) want
	// columns; otherwise rows when there are plenty (X·W 784×256 at B=100,
	// best of: 205 GFLOP/s cut by 14-row units, 221–229 by columns or by
	// balanced rows).
	byCols := g.m < 8*procs*g.rowUnit && g.m < g.n
	if (g.dot || g.transB) && g.n >= 2*g.colUnit {
		byCols = true
	}
	units := ceilDiv(g.m, g.rowUnit)
	if byCols {
		g.splitM = false
		units = ceilDiv(g.n, g.colUnit)
	}
	// Few, large chunks keep each worker's blocks of B in its L2; a couple
	// per worker let the caller absorb a helper that starts late.
	g.chunks = min(units, 2*procs, max(procs, work/chunkMin))
	g.helpers = min(procs, g.chunks) - 1
}

// chunk computes chunk i of C.
func (g *gemm) chunk(i int) {
	r0, r1, c0, c1 := 0, g.m, 0, g.n
	switch {
	case g.cut > 0 && g.splitM: // row halves: chunk 0 is [0, cut), 1 the rest
		if i == 0 {
			r1 = g.cut
		} else {
			r0 = g.cut
		}
	case g.cut > 0:
		if i == 0 {
			c1 = g.cut
		} else {
			c0 = g.cut
		}
	case g.splitM:
		r0, r1 = parallel.Range(i, g.chunks, g.m, 1) // block() balances its panels
	default:
		c0, c1 = parallel.Range(i, g.chunks, g.n, g.colUnit)
	}
	if r0 >= r1 || c0 >= c1 {
		return
	}
	if g.dot {
		g.dotBlock(r0, r1, c0, c1)
		return
	}
	if g.sparse {
		g.sparseBlock(r0, r1, c0, c1)
		return
	}
	if g.sparseT {
		g.sparseTBlock(r0, r1, c0, c1)
		return
	}
	var ws *workspace
	if g.transB {
		ws = wsPool.get()
		defer wsPool.put(ws)
	}
	g.block(r0, r1, c0, c1, ws)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// freeList is a stack of reusable values that, unlike a sync.Pool, the
// garbage collector never empties, so that warm calls allocate nothing
// even across collections (the runtime forces one every two minutes, which
// slow runs — under emulation, say — reach). It holds at most as many
// values as there were calls in flight at once.
type freeList[T any] struct {
	mu    sync.Mutex
	items []*T
}

func (f *freeList[T]) get() *T {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := len(f.items); n > 0 {
		x := f.items[n-1]
		f.items = f.items[:n-1]
		return x
	}
	return new(T)
}

func (f *freeList[T]) put(x *T) {
	f.mu.Lock()
	f.items = append(f.items, x)
	f.mu.Unlock()
}

// workspace holds a chunk's packed panel of op(B).
type workspace struct {
	buf []float32
	bp  []float32 // 64-byte aligned view of buf
	idx []int32   // the sparse kernels' nonzero positions
}

var wsPool freeList[workspace]

// panel returns an aligned buffer of at least n floats.
func (ws *workspace) panel(n int) []float32 {
	if len(ws.bp) < n {
		ws.buf = make([]float32, n+16)
		off := 0
		for uintptr(unsafe.Pointer(&ws.buf[off]))%64 != 0 {
			off++
		}
		ws.bp = ws.buf[off : off+n]
	}
	return ws.bp[:n]
}

// block computes rows [r0, r1) and columns [c0, c1) of C: loops over
// column blocks (nc), K-blocks (kc), row panels and column tiles, in that
// order; the micro-kernel does the rest.
func (g *gemm) block(r0, r1, c0, c1 int, ws *workspace) {
	ks := g.ks
	w := ks.w
	ncols := c1 - c0
	njb := ceilDiv(ncols, ncMax)
	nkb := ceilDiv(g.k, kcMax)
	rows := r1 - r0
	npanels := ceilDiv(rows, g.rows)
	for jb := 0; jb < njb; jb++ {
		jc0, jc1 := parallel.Range(jb, njb, ncols, w)
		jc0, jc1 = jc0+c0, jc1+c0
		nc := jc1 - jc0
		for kb := 0; kb < nkb; kb++ {
			pc, kc, load, beta := g.kBlock(kb, nkb)
			var bsrc []float32
			ldbs := g.ldb
			if g.transB {
				ldbs = ceilDiv(nc, 16) * 16
				if ldbs%256 == 0 {
					ldbs += 16
				}
				bsrc = ws.panel(kc * ldbs)
				packBT(bsrc, ldbs, g.b, g.ldb, jc0, nc, pc, kc)
			} else {
				bsrc = g.b[pc*g.ldb+jc0:]
			}
			rsa, csa := g.lda, 1
			if g.transA {
				rsa, csa = 1, g.lda
			}
			for pi := 0; pi < npanels; pi++ {
				i0 := r0 + rows*pi/npanels
				mr := r0 + rows*(pi+1)/npanels - i0
				var aptr *float32
				if g.transA {
					aptr = &g.a[pc*g.lda+i0]
				} else {
					aptr = &g.a[i0*g.lda+pc]
				}
				// Full tiles in one call, then the narrower last one.
				nvm := ks.nvMax(mr)
				nt := nvm * w
				full := nc / nt
				if full > 0 {
					kern := ks.outer(mr, nvm, 0)
					kern(kc, aptr, rsa, csa, &bsrc[0], ldbs, &g.c[i0*g.ldc+jc0], g.ldc, nt, g.alpha, beta, load, full)
				}
				if j0 := full * nt; j0 < nc {
					nr := nc - j0
					kern := ks.outer(mr, ceilDiv(nr, w), nr%w)
					kern(kc, aptr, rsa, csa, &bsrc[j0], ldbs, &g.c[i0*g.ldc+jc0+j0], g.ldc, nr, g.alpha, beta, load, 1)
				}
			}
		}
	}
}

// kBlock returns K-block kb of nkb: its first row of op(B), its length,
// and whether and with what factor C is loaded (the first block uses the
// caller's beta; the later ones add to C).
func (g *gemm) kBlock(kb, nkb int) (pc, kc, load int, beta float32) {
	pc = g.k * kb / nkb
	kc = g.k*(kb+1)/nkb - pc
	load, beta = 1, 1
	if kb == 0 {
		beta = g.beta
		if beta == 0 {
			load = 0
		}
	}
	return pc, kc, load, beta
}

// sparseBlock computes rows [r0, r1) and columns [c0, c1) of C = A·B
// from A's nonzeros, a row at a time, in the K-blocks block() uses, so
// that each element is the dense kernels' sum.
func (g *gemm) sparseBlock(r0, r1, c0, c1 int) {
	ws := wsPool.get()
	defer wsPool.put(ws)
	if len(ws.idx) < kcMax+16 {
		ws.idx = make([]int32, kcMax+16)
	}
	nkb := ceilDiv(g.k, kcMax)
	for kb := 0; kb < nkb; kb++ {
		pc, kc, load, beta := g.kBlock(kb, nkb)
		for i := r0; i < r1; i++ {
			g.ks.sparse(kc, &g.a[i*g.lda+pc], &g.b[pc*g.ldb+c0], g.ldb, &g.c[i*g.ldc+c0], c1-c0, g.alpha, beta, load, &ws.idx[0])
		}
	}
}

// sparseTBlock computes rows [r0, r1) and columns [c0, c1) of C = Aᵀ·B
// from A's nonzeros, one vector's width of rows of C at a time (16 for
// AVX-512, 8 for AVX2), in the K-blocks block() uses, so that each element
// is the dense kernels' sum.
func (g *gemm) sparseTBlock(r0, r1, c0, c1 int) {
	ws := wsPool.get()
	defer wsPool.put(ws)
	t := ws.panel(g.ks.w * 4 * g.ks.w) // w rows of 4 vectors
	nkb := ceilDiv(g.k, kcMax)
	for kb := 0; kb < nkb; kb++ {
		pc, kc, load, beta := g.kBlock(kb, nkb)
		for i0 := r0; i0 < r1; i0 += g.ks.w {
			rows := min(g.ks.w, r1-i0)
			g.ks.sparseT(kc, &g.a[pc*g.lda+i0], g.lda, rows, &g.b[pc*g.ldb+c0], g.ldb, &g.c[i0*g.ldc+c0], g.ldc, c1-c0, g.alpha, beta, load, &t[0])
		}
	}
}

// packBT copies op(B)[pc:pc+kc, j0:j0+nc], where op(B) = Bᵀ, into dst as a
// row-major kc×nc matrix with leading dimension ldd. Four rows of B at a
// time, so that each row of dst gets four adjacent values per pass.
func packBT(dst []float32, ldd int, b []float32, ldb, j0, nc, pc, kc int) {
	j := 0
	for ; j+4 <= nc; j += 4 {
		s0 := b[(j0+j)*ldb+pc:][:kc]
		s1 := b[(j0+j+1)*ldb+pc:][:kc]
		s2 := b[(j0+j+2)*ldb+pc:][:kc]
		s3 := b[(j0+j+3)*ldb+pc:][:kc]
		for p := range s0 {
			d := dst[p*ldd+j:][:4]
			d[0], d[1], d[2], d[3] = s0[p], s1[p], s2[p], s3[p]
		}
	}
	for ; j < nc; j++ {
		src := b[(j0+j)*ldb+pc:][:kc]
		for p, v := range src {
			dst[p*ldd+j] = v
		}
	}
}

// dotBlock computes rows [r0, r1) and columns [c0, c1) of C = A·Bᵀ with the
// dot kernels: loops over K-blocks, tiles of nr rows of B (kept in L1) and
// panels of mr rows of A.
func (g *gemm) dotBlock(r0, r1, c0, c1 int) {
	ks := g.ks
	rows, ncols := r1-r0, c1-c0
	npanels := ceilDiv(rows, ks.dotRows)
	nt := ks.dotNRMax(ceilDiv(rows, npanels))
	ntiles := ceilDiv(ncols, nt)
	nkb := ceilDiv(g.k, kdMax)
	for kb := 0; kb < nkb; kb++ {
		pc, kc, load, beta := g.kBlock(kb, nkb)
		for ti := 0; ti < ntiles; ti++ {
			j0 := c0 + ncols*ti/ntiles
			nr := c0 + ncols*(ti+1)/ntiles - j0
			bptr := &g.b[j0*g.ldb+pc]
			for pi := 0; pi < npanels; pi++ {
				i0 := r0 + rows*pi/npanels
				mr := r0 + rows*(pi+1)/npanels - i0
				ks.dot(mr, nr)(kc, &g.a[i0*g.lda+pc], g.lda, bptr, g.ldb, &g.c[i0*g.ldc+j0], g.ldc, g.alpha, beta, load)
			}
		}
	}
}
