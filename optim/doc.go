// Package optim updates parameters from their gradients: minibatch
// stochastic gradient descent ([SGD]) with optional momentum and L2 weight
// decay, the adaptive optimisers [Adam] (and AdamW), [RMSProp] and
// [Adagrad] — all behind one [Optimizer] interface — learning-rate
// schedules ([Schedule], and reduce-on-plateau rate control, [Plateau]),
// gradient clipping ([ClipGlobalNorm], [ClipValue]) and the step-size
// stability bounds of gradient descent on a quadratic ([MaxStableRate]).
//
// The three concerns are separate, as in the tutorial
// (gradient-based-learning): a schedule is a pure function of the step
// number k that gives the rate ε_k (a Plateau: of k and the validation
// metrics it has been told); the optimiser holds the state (the step
// counter and its state buffers per parameter) and asks the schedule for
// ε_k at every step; the update itself is a plain function over slices, one
// pass per parameter, which the optimiser calls. Each update formula is
// written once (internal/vec: a loop generic in the element type, which
// float64 and float32 both run), and the AVX2 kernel of the float32 case is
// tested against it.
//
// A training step is
//
//	tape.Reset()
//	loss := model.Loss(tape, batch)
//	tape.Backward(loss) // leaves dL/dθ in each parameter's Grad
//	opt.Step()          // θ ← θ − ε_k·(update direction); k ← k+1
//
// Hyperparameters usually come from flags, so constructors ([NewSGD] and
// the schedule constructors) validate them and return an error that names
// the bad value. Misuse in code (duplicate parameter names, a custom
// Schedule that returns a negative rate) panics with a message that starts
// with "optim:".
package optim
