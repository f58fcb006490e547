// Package curvature measures the curvature of a loss and turns it into a
// step-size bound: the tutorial's "if the step size is too large — larger
// than twice the largest eigenvalue of the second derivative matrix
// (Hessian) of C — then gradient steps will go upward".
//
// [Hessian] gives Hessian-vector products H·v of any scalar loss of a
// model's parameters by central differences of two backpropagated
// gradients, without forming H. [LambdaMax] estimates H's largest
// eigenvalue by power iteration on those products, deterministically from
// an explicit *rand.Rand, and [MaxStableRate] turns it into the largest
// stable constant rate of each momentum form (optim.MaxStableRate): the
// rate above which the loss's quadratic model diverges.
//
// The bound is local: it holds for the loss near the parameters where H
// was measured, and a network's λmax changes as it trains (it typically
// grows early in training). Treat it as a scale for the rate, not a
// guarantee; cmd/mnistdemo's -lr auto picks a fraction of it.
//
// The bound is for SGD (its four momentum forms). The adaptive optimisers
// (Adam, AdamW, RMSProp, Adagrad) have none, and the tools refuse them
// (optim.StabilityBound returns an error wrapping
// optim.ErrNoStabilityBound): they divide each coordinate's step by
// √v̂ᵢ + ε, a per-coordinate rate built from the gradients seen so far, so
// their stability is governed by the largest eigenvalue of P^½·H·P^½ with
// P = diag(1/(√v̂+ε)) — a preconditioned curvature that moves with v̂ and
// does not exist before training (v̂ = 0) — not by λmax of H and a
// constant rate. A bound for a frozen v̂ could be measured mid-training,
// but it would hold only while v̂ stays put: no rate to start from.
//
// Misuse in code (vectors of the wrong length, no parameters) panics with a
// message that starts with "curvature:"; non-convergence of power iteration
// is returned as an error wrapping [ErrNotConverged].
package curvature
