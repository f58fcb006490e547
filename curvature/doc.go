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
// Misuse in code (vectors of the wrong length, no parameters) panics with a
// message that starts with "curvature:"; non-convergence of power iteration
// is returned as an error wrapping [ErrNotConverged].
package curvature
