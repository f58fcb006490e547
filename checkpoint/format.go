package checkpoint

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"math"
	"slices"
	"unicode/utf8"

	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/optim"
	"github.com/flowgrad/flowgrad/tensor"
	"github.com/flowgrad/flowgrad/train"
)

// Version is the format version Write writes. Read reads it, version 2
// (without the early stopping and generator sections) and version 1 (SGD
// only: a momentum-form byte and at most one buffer per parameter, read as
// the optimiser kind "sgd/<form>" with slot "momentum_buffer").
const Version = 3

// Magic is the first eight bytes of every checkpoint.
const Magic = "FLOWGRAD"

const headerSize = 24

// ErrCorrupt is wrapped by the error Read and Load return for input that is
// not a whole, intact checkpoint: wrong magic, truncated, checksum mismatch,
// malformed payload.
var ErrCorrupt = errors.New("corrupt checkpoint")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Write writes st to w as one checkpoint. The format, all integers little
// endian:
//
//	header (24 bytes)
//	  magic    [8]byte  "FLOWGRAD"
//	  version  uint32   3
//	  length   uint64   payload bytes that follow
//	  checksum uint32   CRC-32C (Castagnoli) of the payload
//	payload
//	  elemSize uint8    4 (float32) or 8 (float64)
//	  batcher  seed uint64, shuffle uint8 (0 or 1), epoch uint64,
//	           offset uint64, n uint64
//	  optim    step uint64, kind (string), slots count uint8 then count
//	           names (strings), plateau uint8 (0 or 1), and if 1:
//	           scale float64, best float64, bad uint64
//	  meta     count uint32, then count × (key, value), keys sorted
//	  params   count uint32, then count × (name, rows uint32, cols uint32,
//	           rows·cols values, then for each slot rows·cols buffer
//	           values), in st.Params' order
//	  early    uint8 (0 or 1: st.Early != nil), and if 1: best float64,
//	           best epoch uint64, bad epochs uint64, then if the best
//	           epoch is > 0 each parameter's best weights (rows·cols
//	           values) in st.Params' order
//	  rng      count uint32, then count × (name, state), names sorted
//
// where a string is a uint32 length and that many bytes of UTF-8 (a
// generator's state: that many bytes of any kind), and a value is the IEEE
// 754 bits of a T (float32 bits are kept exactly).
//
// Write returns an error, and writes nothing, if st is not a consistent
// state: parameters without a name, with the same name or without a
// matrix; buffers that do not match the parameters and slots by name,
// number and length; a negative step or position; state slots without an
// optimizer kind (an empty kind means no optimizer state), an empty or
// repeated slot name or more than 255 slots; strings that are
// not UTF-8; an early-stopping state with a negative epoch or count, or
// whose best weights are not exactly the parameters by name and shape (or
// not empty before the first epoch); a generator without a name; or a
// parameter, buffer or best-weight value that is NaN or infinite (a
// diverged run is not worth resuming, and refusing it keeps a good
// checkpoint from being overwritten by a bad one).
func Write[T tensor.Float](w io.Writer, st State[T]) error {
	payload, err := encode(st)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	buf := make([]byte, 0, headerSize+len(payload))
	buf = append(buf, Magic...)
	buf = binary.LittleEndian.AppendUint32(buf, Version)
	buf = binary.LittleEndian.AppendUint64(buf, uint64(len(payload)))
	buf = binary.LittleEndian.AppendUint32(buf, crc32.Checksum(payload, castagnoli))
	buf = append(buf, payload...)
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("checkpoint: write: %w", err)
	}
	return nil
}

func elemSize[T tensor.Float]() int {
	var x T
	if _, ok := any(x).(float32); ok {
		return 4
	}
	return 8
}

func dtype(size int) string {
	switch size {
	case 4:
		return "float32"
	case 8:
		return "float64"
	}
	return fmt.Sprintf("elements of %d bytes", size)
}

func validForm(f optim.MomentumForm) bool {
	g, err := optim.ParseMomentumForm(f.String())
	return err == nil && g == f
}

// checkSlots returns an error for an empty kind or a bad slot list.
func checkSlots(kind string, slots []string) error {
	if !utf8.ValidString(kind) || kind == "" && len(slots) > 0 {
		return fmt.Errorf("optimizer kind %q is not UTF-8, or empty with state slots %q", kind, slots)
	}
	if len(slots) > math.MaxUint8 {
		return fmt.Errorf("%d optimizer state slots (at most %d)", len(slots), math.MaxUint8)
	}
	for i, s := range slots {
		if s == "" || !utf8.ValidString(s) || slices.Contains(slots[:i], s) {
			return fmt.Errorf("optimizer state slot %d %q is empty, repeated or not UTF-8", i, s)
		}
	}
	return nil
}

func encode[T tensor.Float](st State[T]) ([]byte, error) {
	b := st.Batcher
	if b.Epoch < 0 || b.N < 0 || b.Offset < 0 || b.Offset > b.N {
		return nil, fmt.Errorf("bad batcher position epoch %d, offset %d of %d", b.Epoch, b.Offset, b.N)
	}
	o := st.Optim
	if o.Step < 0 {
		return nil, fmt.Errorf("negative optimizer step %d", o.Step)
	}
	if err := checkSlots(o.Kind, o.Slots); err != nil {
		return nil, err
	}
	nSlots := len(o.Slots)
	if nSlots == 0 && len(o.Buffers) > 0 {
		return nil, fmt.Errorf("%d optimizer buffers for a %s optimizer without state slots", len(o.Buffers), o.Kind)
	}
	if nSlots > 0 && len(o.Buffers) != len(st.Params) {
		return nil, fmt.Errorf("optimizer buffers for %d parameters, the checkpoint has %d", len(o.Buffers), len(st.Params))
	}

	size := 1 + 8*4 + 1 + 8 + 4 + len(o.Kind) + 1 + 1 + 24
	for _, s := range o.Slots {
		size += 4 + len(s)
	}
	seen := make(map[string]bool, len(st.Params))
	for i, p := range st.Params {
		switch {
		case p.Name == "" || !utf8.ValidString(p.Name):
			return nil, fmt.Errorf("parameter %d has no valid name (%q)", i, p.Name)
		case seen[p.Name]:
			return nil, fmt.Errorf("two parameters named %q", p.Name)
		case p.Data == nil:
			return nil, fmt.Errorf("parameter %q has no matrix", p.Name)
		case uint64(p.Data.Rows()) > math.MaxUint32 || uint64(p.Data.Cols()) > math.MaxUint32:
			return nil, fmt.Errorf("parameter %q of shape %v: the format stores at most 2³²−1 rows and columns", p.Name, p.Data.Shape())
		}
		seen[p.Name] = true
		if err := finite(p.Name, "", p.Data.Data()); err != nil {
			return nil, fmt.Errorf("%w: refusing to save a diverged state", err)
		}
		n := p.Data.Len()
		if nSlots > 0 {
			bufs, ok := o.Buffers[p.Name]
			if !ok {
				return nil, fmt.Errorf("no optimizer buffers for parameter %q", p.Name)
			}
			if len(bufs) != nSlots {
				return nil, fmt.Errorf("parameter %q has %d optimizer buffers for %d slots %q", p.Name, len(bufs), nSlots, o.Slots)
			}
			for s, buf := range bufs {
				if len(buf) != n {
					return nil, fmt.Errorf("optimizer buffer %s of %q has %d elements, the parameter %d", o.Slots[s], p.Name, len(buf), n)
				}
				if err := finite(p.Name, o.Slots[s]+" buffer of ", buf); err != nil {
					return nil, fmt.Errorf("%w: refusing to save a diverged state", err)
				}
			}
		}
		size += 12 + len(p.Name) + n*(1+nSlots)*elemSize[T]()
	}
	n, err := checkExtras(st)
	if err != nil {
		return nil, err
	}
	size += n
	keys := make([]string, 0, len(st.Meta))
	for k, v := range st.Meta {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, fmt.Errorf("metadata %q: %q is not UTF-8", k, v)
		}
		keys = append(keys, k)
		size += 8 + len(k) + len(v)
	}
	slices.Sort(keys)

	e := make([]byte, 0, size)
	e = append(e, byte(elemSize[T]()))
	e = binary.LittleEndian.AppendUint64(e, b.Seed)
	e = append(e, boolByte(b.Shuffle))
	e = binary.LittleEndian.AppendUint64(e, uint64(b.Epoch))
	e = binary.LittleEndian.AppendUint64(e, uint64(b.Offset))
	e = binary.LittleEndian.AppendUint64(e, uint64(b.N))
	e = binary.LittleEndian.AppendUint64(e, uint64(o.Step))
	e = appendString(e, o.Kind)
	e = append(e, byte(nSlots))
	for _, s := range o.Slots {
		e = appendString(e, s)
	}
	e = append(e, boolByte(o.Plateau != nil))
	if pl := o.Plateau; pl != nil {
		e = binary.LittleEndian.AppendUint64(e, math.Float64bits(pl.Scale))
		e = binary.LittleEndian.AppendUint64(e, math.Float64bits(pl.Best))
		e = binary.LittleEndian.AppendUint64(e, uint64(pl.Bad))
	}
	e = binary.LittleEndian.AppendUint32(e, uint32(len(keys)))
	for _, k := range keys {
		e = appendString(e, k)
		e = appendString(e, st.Meta[k])
	}
	e = binary.LittleEndian.AppendUint32(e, uint32(len(st.Params)))
	for _, p := range st.Params {
		e = appendString(e, p.Name)
		e = binary.LittleEndian.AppendUint32(e, uint32(p.Data.Rows()))
		e = binary.LittleEndian.AppendUint32(e, uint32(p.Data.Cols()))
		e = appendFloats(e, p.Data.Data())
		for _, buf := range o.Buffers[p.Name] {
			e = appendFloats(e, buf)
		}
	}
	e = append(e, boolByte(st.Early != nil))
	if es := st.Early; es != nil {
		e = binary.LittleEndian.AppendUint64(e, math.Float64bits(es.State.Best))
		e = binary.LittleEndian.AppendUint64(e, uint64(es.State.BestEpoch))
		e = binary.LittleEndian.AppendUint64(e, uint64(es.State.Bad))
		if es.State.BestEpoch > 0 {
			for _, p := range st.Params {
				e = appendFloats(e, es.Weights[p.Name].Data())
			}
		}
	}
	e = binary.LittleEndian.AppendUint32(e, uint32(len(st.RNG)))
	for _, name := range slices.Sorted(maps.Keys(st.RNG)) {
		e = appendString(e, name)
		e = appendString(e, string(st.RNG[name]))
	}
	return e, nil
}

// checkExtras returns an error if st's early stopping or generator states
// cannot be written (see Write), and otherwise the bytes they take.
func checkExtras[T tensor.Float](st State[T]) (int, error) {
	size := 1 + 4
	if es := st.Early; es != nil {
		size += 24
		switch {
		case es.State.BestEpoch < 0 || es.State.Bad < 0:
			return 0, fmt.Errorf("early stopping at best epoch %d, %d epochs since (want ≥ 0)", es.State.BestEpoch, es.State.Bad)
		case es.State.BestEpoch == 0 && len(es.Weights) > 0:
			return 0, fmt.Errorf("early stopping has best weights but no best epoch")
		case es.State.BestEpoch > 0 && len(es.Weights) != len(st.Params):
			return 0, fmt.Errorf("early stopping has best weights for %d parameters, the checkpoint has %d", len(es.Weights), len(st.Params))
		}
		for _, p := range st.Params {
			if es.State.BestEpoch == 0 {
				break
			}
			w := es.Weights[p.Name]
			if w == nil || w.Shape() != p.Data.Shape() {
				return 0, fmt.Errorf("early stopping has no best weights of shape %v for parameter %q", p.Data.Shape(), p.Name)
			}
			if err := finite(p.Name, "best weights of ", w.Data()); err != nil {
				return 0, fmt.Errorf("%w: refusing to save a diverged state", err)
			}
			size += w.Len() * elemSize[T]()
		}
	}
	for name, b := range st.RNG {
		if name == "" || !utf8.ValidString(name) {
			return 0, fmt.Errorf("generator name %q is empty or not UTF-8", name)
		}
		if uint64(len(b)) > math.MaxUint32 {
			return 0, fmt.Errorf("generator %q: a state of %d bytes (at most 2³²−1)", name, len(b))
		}
		size += 8 + len(name) + len(b)
	}
	return size, nil
}

// finite returns an error naming the parameter if xs holds a NaN or an
// infinity.
func finite[T tensor.Float](name, what string, xs []T) error {
	for i, x := range xs {
		if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("the %sparameter %q holds %v at element %d", what, name, f, i)
		}
	}
	return nil
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

func appendString(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func appendFloats[T tensor.Float](b []byte, xs []T) []byte {
	switch xs := any(xs).(type) {
	case []float32:
		for _, x := range xs {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
		}
	case []float64:
		for _, x := range xs {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
		}
	}
	return b
}

// Read reads one checkpoint from r (exactly its bytes: it does not read
// past the end) and returns its state, with parameters of element type T.
//
// It returns an error wrapping ErrCorrupt for input that is not a whole,
// intact checkpoint — another file type, a truncated file, a checksum
// mismatch, a malformed payload — and an error naming both versions or
// both element types for a checkpoint of another format version or of
// float64 parameters read as float32 (or the reverse). It never panics and
// allocates memory in proportion to the bytes it actually reads, whatever
// the header claims.
func Read[T tensor.Float](r io.Reader) (State[T], error) {
	st, err := read[T](r)
	if err != nil {
		return State[T]{}, fmt.Errorf("checkpoint: %w", err)
	}
	return st, nil
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}

func read[T tensor.Float](r io.Reader) (State[T], error) {
	var hdr [headerSize]byte
	n, err := io.ReadFull(r, hdr[:])
	switch {
	case err == io.EOF:
		return State[T]{}, corrupt("empty input")
	case err == io.ErrUnexpectedEOF:
		if !bytes.HasPrefix([]byte(Magic), hdr[:min(n, len(Magic))]) {
			return State[T]{}, corrupt("not a flowgrad checkpoint (%d bytes, starting %q)", n, hdr[:min(n, len(Magic))])
		}
		return State[T]{}, corrupt("truncated header: %d of %d bytes", n, headerSize)
	case err != nil:
		return State[T]{}, err
	}
	if string(hdr[:8]) != Magic {
		return State[T]{}, corrupt("not a flowgrad checkpoint (it starts with %q, want %q)", hdr[:8], Magic)
	}
	version := binary.LittleEndian.Uint32(hdr[8:])
	if version < 1 || version > Version {
		return State[T]{}, fmt.Errorf("format version %d is not supported (this flowgrad reads versions 1 to %d)", version, Version)
	}
	length := binary.LittleEndian.Uint64(hdr[12:])
	sum := binary.LittleEndian.Uint32(hdr[20:])
	if length > math.MaxInt64 {
		return State[T]{}, corrupt("the header announces %d payload bytes", length)
	}
	// Grow the buffer with the bytes that arrive, not with the header's
	// claim.
	var payload bytes.Buffer
	got, err := payload.ReadFrom(io.LimitReader(r, int64(length)))
	if err != nil {
		return State[T]{}, err
	}
	if uint64(got) < length {
		return State[T]{}, corrupt("truncated: the header announces a payload of %d bytes, %d follow", length, got)
	}
	if c := crc32.Checksum(payload.Bytes(), castagnoli); c != sum {
		return State[T]{}, corrupt("checksum mismatch: the header says %08x, the payload's is %08x", sum, c)
	}
	return decode[T](payload.Bytes(), version)
}

// decoder reads a payload front to back; after the first error every read
// returns zero values and err stays set.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = corrupt(format, args...)
	}
}

func (d *decoder) take(n uint64, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail("%s: %d bytes needed, %d left", what, n, len(d.b))
		return nil
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) u8(what string) uint8 {
	if p := d.take(1, what); p != nil {
		return p[0]
	}
	return 0
}

func (d *decoder) u32(what string) uint32 {
	if p := d.take(4, what); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (d *decoder) u64(what string) uint64 {
	if p := d.take(8, what); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

func (d *decoder) bool(what string) bool {
	v := d.u8(what)
	if v > 1 {
		d.fail("%s %d (want 0 or 1)", what, v)
	}
	return v == 1
}

// int reads a uint64 that must fit an int.
func (d *decoder) int(what string) int {
	v := d.u64(what)
	if v > uint64(math.MaxInt) {
		d.fail("%s %d out of range", what, v)
		return 0
	}
	return int(v)
}

func (d *decoder) str(what string) string {
	n := d.u32(what + " length")
	s := string(d.take(uint64(n), what))
	if d.err == nil && !utf8.ValidString(s) {
		d.fail("%s %q is not UTF-8", what, s)
	}
	return s
}

func floats[T tensor.Float](d *decoder, n int, what string) []T {
	p := d.take(uint64(n)*uint64(elemSize[T]()), what)
	if p == nil {
		return nil
	}
	xs := make([]T, n)
	switch xs := any(xs).(type) {
	case []float32:
		for i := range xs {
			xs[i] = math.Float32frombits(binary.LittleEndian.Uint32(p[4*i:]))
		}
	case []float64:
		for i := range xs {
			xs[i] = math.Float64frombits(binary.LittleEndian.Uint64(p[8*i:]))
		}
	}
	return xs
}

func decode[T tensor.Float](payload []byte, version uint32) (State[T], error) {
	d := &decoder{b: payload}
	if size := int(d.u8("element size")); d.err == nil && size != elemSize[T]() {
		if size == 4 || size == 8 {
			return State[T]{}, fmt.Errorf("the checkpoint holds %s parameters, not %s", dtype(size), dtype(elemSize[T]()))
		}
		d.fail("unknown element size %d", size)
	}
	var st State[T]
	st.Batcher = data.BatcherState{
		Seed:    d.u64("batcher seed"),
		Shuffle: d.bool("batcher shuffle flag"),
		Epoch:   d.int("batcher epoch"),
		Offset:  d.int("batcher offset"),
		N:       d.int("batcher dataset size"),
	}
	if b := st.Batcher; d.err == nil && b.Offset > b.N {
		d.fail("batcher offset %d beyond the dataset's %d examples", b.Offset, b.N)
	}
	st.Optim.Step = d.int("optimizer step")
	if version == 1 {
		form := optim.MomentumForm(d.u8("momentum form"))
		if d.err == nil && !validForm(form) {
			d.fail("unknown momentum form %d", int(form))
		}
		st.Optim.Kind = "sgd/" + form.String()
		if form != optim.None {
			st.Optim.Slots = []string{"momentum_buffer"}
		}
	} else {
		st.Optim.Kind = d.str("optimizer kind")
		nSlots := d.u8("slot count")
		for i := uint8(0); i < nSlots && d.err == nil; i++ {
			st.Optim.Slots = append(st.Optim.Slots, d.str("slot name"))
		}
		if d.err == nil {
			if err := checkSlots(st.Optim.Kind, st.Optim.Slots); err != nil {
				d.fail("%v", err)
			}
		}
		if d.bool("plateau flag") {
			st.Optim.Plateau = &optim.PlateauState{
				Scale: math.Float64frombits(d.u64("plateau scale")),
				Best:  math.Float64frombits(d.u64("plateau best")),
				Bad:   d.int("plateau count"),
			}
		}
	}
	nSlots := len(st.Optim.Slots)

	nMeta := d.u32("metadata count")
	var prev string
	for i := uint32(0); i < nMeta && d.err == nil; i++ {
		k := d.str("metadata key")
		v := d.str("metadata value")
		if d.err != nil {
			break
		}
		if st.Meta == nil {
			st.Meta = make(map[string]string)
		}
		if i > 0 && k <= prev {
			d.fail("metadata key %q after %q (want sorted, distinct keys)", k, prev)
		}
		st.Meta[k] = v
		prev = k
	}

	nParams := d.u32("parameter count")
	if nSlots > 0 && d.err == nil {
		st.Optim.Buffers = make(map[string][][]T)
	}
	seen := make(map[string]bool)
	for i := uint32(0); i < nParams && d.err == nil; i++ {
		name := d.str(fmt.Sprintf("parameter %d name", i))
		rows, cols := d.u32("rows of "+name), d.u32("cols of "+name)
		if d.err != nil {
			break
		}
		switch {
		case name == "":
			d.fail("parameter %d has an empty name", i)
		case seen[name]:
			d.fail("parameter %q appears twice", name)
		case rows == 0 || cols == 0:
			d.fail("parameter %q has shape %d×%d", name, rows, cols)
		}
		seen[name] = true
		n := uint64(rows) * uint64(cols)
		if d.err == nil && n*uint64(elemSize[T]()) > uint64(len(d.b)) {
			d.fail("parameter %q: %d×%d %s values need %d bytes, %d left", name, rows, cols, dtype(elemSize[T]()), n*uint64(elemSize[T]()), len(d.b))
		}
		if d.err != nil {
			break
		}
		xs := floats[T](d, int(n), name)
		st.Params = append(st.Params, Param[T]{Name: name, Data: tensor.FromSlice(int(rows), int(cols), xs)})
		if err := finite(name, "", xs); err != nil {
			d.fail("%v", err)
		}
		if nSlots > 0 {
			bufs := make([][]T, nSlots)
			for s, slot := range st.Optim.Slots {
				bufs[s] = floats[T](d, int(n), slot+" buffer of "+name)
				if err := finite(name, slot+" buffer of ", bufs[s]); d.err == nil && err != nil {
					d.fail("%v", err)
				}
			}
			st.Optim.Buffers[name] = bufs
		}
	}
	if version >= 3 {
		decodeExtras(d, &st)
	}
	if d.err == nil && len(d.b) > 0 {
		d.fail("%d bytes after the last section", len(d.b))
	}
	if d.err != nil {
		return State[T]{}, d.err
	}
	return st, nil
}

// decodeExtras reads the early stopping and generator sections of a
// version 3 payload into st, whose parameters are read.
func decodeExtras[T tensor.Float](d *decoder, st *State[T]) {
	if d.bool("early stopping flag") {
		es := &Early[T]{State: train.EarlyState{
			Best:      math.Float64frombits(d.u64("early stopping best")),
			BestEpoch: d.int("early stopping best epoch"),
			Bad:       d.int("early stopping count"),
		}}
		if es.State.BestEpoch > 0 && d.err == nil {
			es.Weights = make(map[string]*tensor.Dense[T], len(st.Params))
			for _, p := range st.Params {
				xs := floats[T](d, p.Data.Len(), "best weights of "+p.Name)
				if d.err != nil {
					break
				}
				if err := finite(p.Name, "best weights of ", xs); err != nil {
					d.fail("%v", err)
				}
				es.Weights[p.Name] = tensor.FromSlice(p.Data.Rows(), p.Data.Cols(), xs)
			}
		}
		st.Early = es
	}
	n := d.u32("generator count")
	var prev string
	for i := uint32(0); i < n && d.err == nil; i++ {
		name := d.str("generator name")
		state := d.take(uint64(d.u32("generator state length")), "state of generator "+name)
		if d.err != nil {
			break
		}
		if name == "" || i > 0 && name <= prev {
			d.fail("generator name %q after %q (want sorted, distinct, non-empty names)", name, prev)
		}
		if st.RNG == nil {
			st.RNG = make(map[string][]byte)
		}
		st.RNG[name] = bytes.Clone(state)
		prev = name
	}
}
