package data

import (
	"fmt"
	"iter"
	"math/rand/v2"

	"github.com/flowgrad/flowgrad/tensor"
)

// Stream is an endless source of batches for online learning: each batch
// holds B examples drawn independently and uniformly, with replacement, from
// a dataset ([NewStream]), or made by a generator function
// ([NewGeneratorStream]). There are no epochs.
//
// Like a [Batcher], a Stream fills buffers that it allocates once, so a
// batch is valid until the next one is requested and serving batches
// allocates nothing. It is not safe for concurrent use.
type Stream struct {
	ds      *Dataset
	rng     *rand.Rand
	gen     func(x []float32) int
	classes int

	x       *tensor.Dense[float32]
	labels  []int                  // classification
	targets *tensor.Dense[float32] // regression
	idx     []int
	served  int
}

// NewStream returns a Stream of batches of size examples drawn with
// replacement from ds using rng, which the Stream then uses (and advances)
// on every batch. size may exceed ds.Len(). It returns an error wrapping
// [ErrBatchSize] if size < 1, and panics if ds or rng is nil.
func NewStream(ds *Dataset, size int, rng *rand.Rand) (*Stream, error) {
	if ds == nil || rng == nil {
		panic("data: NewStream: nil dataset or rng")
	}
	if size < 1 {
		return nil, fmt.Errorf("data: %w: B = %d, want B ≥ 1", ErrBatchSize, size)
	}
	s := &Stream{
		ds:      ds,
		rng:     rng,
		classes: ds.Classes(),
		x:       tensor.New[float32](size, ds.Features()),
		idx:     make([]int, size),
	}
	if ds.Kind() == Regression {
		s.targets = tensor.New[float32](size, ds.Outputs())
	} else {
		s.labels = make([]int, size)
	}
	return s, nil
}

// NewGeneratorStream returns a Stream of batches of size examples, each made
// by gen: gen fills x (len features, holding the previous example's values)
// with one example and returns its label, which must be in 0..classes−1. gen
// owns its randomness: give it its own *rand.Rand.
//
// It returns an error wrapping [ErrBatchSize] if size < 1, and an error if
// features < 1 or classes < 1. It panics if gen is nil; the Stream panics if
// gen returns a label out of range.
func NewGeneratorStream(size, features, classes int, gen func(x []float32) int) (*Stream, error) {
	if gen == nil {
		panic("data: NewGeneratorStream: nil generator")
	}
	switch {
	case size < 1:
		return nil, fmt.Errorf("data: %w: B = %d, want B ≥ 1", ErrBatchSize, size)
	case features < 1:
		return nil, fmt.Errorf("data: NewGeneratorStream: %w: %d features (want ≥ 1)", ErrBadDims, features)
	case classes < 1:
		return nil, fmt.Errorf("data: NewGeneratorStream: %w: %d classes (want ≥ 1)", ErrLabelRange, classes)
	}
	return &Stream{
		gen:     gen,
		classes: classes,
		x:       tensor.New[float32](size, features),
		labels:  make([]int, size),
	}, nil
}

// Next returns the next batch, valid until the following call.
func (s *Stream) Next() Batch {
	if s.gen != nil {
		f := s.x.Cols()
		data := s.x.Data()
		for i := range s.labels {
			l := s.gen(data[i*f : (i+1)*f : (i+1)*f])
			if l < 0 || l >= s.classes {
				panic(fmt.Sprintf("data: generator returned label %d (want 0..%d)", l, s.classes-1))
			}
			s.labels[i] = l
		}
	} else {
		n := s.ds.Len()
		for i := range s.idx {
			s.idx[i] = s.rng.IntN(n)
		}
		s.ds.gather(s.x.Data(), s.idx)
		s.ds.gatherTargets(s.labels, s.targets, s.idx)
	}
	b := Batch{X: s.x, Labels: s.labels, Targets: s.targets, Index: s.served}
	s.served++
	return b
}

// All returns an endless iterator over the Stream's batches; stop it with
// break. Each batch is valid until the next one is requested.
func (s *Stream) All() iter.Seq[Batch] {
	return func(yield func(Batch) bool) {
		for yield(s.Next()) {
		}
	}
}
