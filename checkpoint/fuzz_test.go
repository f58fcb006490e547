package checkpoint

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"testing"

	"github.com/flowgrad/flowgrad/optim"
	"github.com/flowgrad/flowgrad/tensor"
)

// FuzzRead checks that no input makes Read panic or allocate beyond its
// size, and that whatever Read accepts is a canonical checkpoint: writing
// the state back gives exactly the bytes read. Each input is also tried
// with its checksum recomputed, so that mutations reach the payload parser
// rather than stopping at the checksum. Plain `go test` runs the seeds;
// `go test -fuzz FuzzRead ./checkpoint` explores.
func FuzzRead(f *testing.F) {
	for _, form := range []optim.MomentumForm{optim.None, optim.HeavyBall} {
		_, file := trained(f, form)
		f.Add(file)
	}
	ds := synthetic(f, 1, 53, 20, 4)
	r := newRunWith(f, ds, 10, 1, optim.Must(optim.Constant(0.01)), "rmsprop/centered+momentum", 20, 8, 4)
	r.steps(f, 3)
	var multi bytes.Buffer
	Write(&multi, Capture(r.model.Params(), r.opt, r.batches))
	f.Add(multi.Bytes())
	f.Add(writeV1(Capture(r.model.Params(), newOptimizer(f, "sgd/heavyball", r.model.Params(), optim.Must(optim.Constant(0.1))), r.batches), optim.HeavyBall))
	var small bytes.Buffer
	Write(&small, State[float32]{Params: []Param[float32]{{"w", tensor.FromSlice(1, 2, []float32{1, -2})}},
		Meta: map[string]string{"a": "1", "b": "2"}})
	f.Add(small.Bytes())
	f.Add(small.Bytes()[:30])
	f.Add(withHeader(small.Bytes(), 1, 1<<40, 0))
	f.Add([]byte(Magic))
	f.Add([]byte{})
	f.Add(withExtras(f))
	f.Add(downgrade(small.Bytes()))
	var f64 bytes.Buffer
	Write(&f64, State[float64]{Params: []Param[float64]{{"w", tensor.FromSlice(1, 1, []float64{3})}}})
	f.Add(f64.Bytes())

	f.Fuzz(func(t *testing.T, in []byte) {
		check[float32](t, in)
		check[float64](t, in)
		fixed := resum(in)
		check[float32](t, fixed)
		check[float64](t, fixed)
	})
}

func check[T tensor.Float](t *testing.T, in []byte) {
	st, err := Read[T](bytes.NewReader(in))
	if err != nil {
		if st.Params != nil || st.Meta != nil {
			t.Fatal("an error and a state")
		}
		return
	}
	var out bytes.Buffer
	if err := Write(&out, st); err != nil {
		t.Fatalf("Read accepted a state Write refuses: %v", err)
	}
	switch binary.LittleEndian.Uint32(in[8:]) {
	case 1:
		// A version 1 file is written back as version 3: read that back.
		again, err := Read[T](bytes.NewReader(out.Bytes()))
		if err != nil || !reflect.DeepEqual(again, st) {
			t.Fatalf("a version 1 state rewritten as version 3 reads back as %+v, %v", again, err)
		}
		return
	case 2:
		// A version 2 file is written back as version 3: the same payload
		// with empty early-stopping and generator sections.
		length := binary.LittleEndian.Uint64(in[12:])
		want := append(bytes.Clone(in[headerSize:headerSize+length]), 0, 0, 0, 0, 0)
		if !bytes.Equal(out.Bytes()[headerSize:], want) {
			t.Fatalf("a version 2 state rewritten as version 3 is not the payload with empty extras")
		}
		return
	}
	if !bytes.HasPrefix(in, out.Bytes()) {
		t.Fatalf("the state read does not write back to the input")
	}
}
