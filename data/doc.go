// Package data reads training data and serves it to a training loop: IDX
// files (the MNIST format) from any io.Reader, in-memory datasets of uint8
// images, shuffled minibatches of any size B, and endless streams of
// examples for online learning.
//
// The pieces, in the order data flows through them:
//
//   - [ReadImages] and [ReadLabels] parse IDX image and label files, gzipped
//     or not (gzip is recognised by its magic bytes). [ReadDataset] pairs the
//     two; [LoadIDX] opens files; [LoadMNIST] finds MNIST by itself.
//   - A [Dataset] holds N examples of Features uint8 values each (pixels stay
//     bytes in memory: 47 MB for MNIST's training set) and a label in
//     0..Classes−1 per example. [NewDataset] builds one from slices for
//     synthetic data.
//   - A [Batcher] cuts a dataset into minibatches of B examples, from B = 1
//     (online SGD) to B = N (batch gradient descent), in a new random order
//     each epoch. Each [Batch] holds a B×Features float32 matrix of pixel/255
//     values in [0, 1] and B labels, converted into buffers that the Batcher
//     allocates once and reuses: serving batches allocates nothing.
//   - A [Stream] is endless: batches of examples drawn with replacement from a
//     dataset, or made by a generator function.
//
// # Errors and panics
//
// Everything that comes from outside the program — files, their contents,
// batch sizes that come from flags — is checked and reported as an error
// starting with "data: " that names the file and the problem. The kind of
// problem can be tested with errors.Is against [ErrBadMagic], [ErrBadDims],
// [ErrTooLarge], [ErrTruncated], [ErrCorrupt], [ErrLabelRange],
// [ErrCountMismatch], [ErrEmpty], [ErrBatchSize] and [ErrMNISTNotFound]. No
// input makes a reader panic. Misuse in code (an index out of range, a
// generator that returns a bad label) panics with a message that starts with
// "data: ".
//
// # Usage
//
//	train, test, err := data.LoadMNIST("") // "" = find the files
//	...
//	batches, err := data.NewBatcher(train, 100, rng)
//	...
//	for range 10 { // epochs
//		for b := range batches.Epoch() {
//			// b.X: 100×784 float32, b.Labels: 100 ints in 0..9
//		}
//	}
//
// # Randomness
//
// Nothing here uses global randomness. Shuffling and sampling take an
// explicit *rand.Rand (math/rand/v2), so a run is reproducible from its seed,
// and a [Batcher]'s position can be saved and restored exactly
// ([Batcher.State], [Batcher.Restore]).
package data
