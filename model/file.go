package model

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/internal/atomicfile"
	"github.com/flowgrad/flowgrad/layers"
)

// Version is the model file version that Write writes and the only one
// Read reads.
const Version = 1

// Format is the "format" metadata entry of every model file.
const Format = "flowgrad.model"

// The kinds of error that reading a model file returns; each message
// names the file and says what is wrong.
var (
	// ErrNotModel: the input is not a safetensors file, or one without
	// flowgrad's metadata.
	ErrNotModel = errors.New("not a flowgrad model file")
	// ErrVersion: a model file of another format version.
	ErrVersion = errors.New("unsupported model file version")
	// ErrCorrupt: a model file that is truncated, damaged (checksum
	// mismatch) or inconsistent.
	ErrCorrupt = errors.New("corrupt model file")
)

// MaxHeader bounds the JSON header of a model file (as the safetensors
// reference implementation does): 100 MB.
const MaxHeader = 100 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// tensorInfo is a safetensors header entry.
type tensorInfo struct {
	Dtype       string   `json:"dtype"`
	Shape       []int    `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// Save writes m to the file path atomically (see the package doc): the
// file at path is either the previous one or the whole new model, never a
// part. Its errors are [Model.Encode]'s and the file system's.
func (m *Model) Save(path string) error {
	b, err := m.Encode()
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, b); err != nil {
		return fmt.Errorf("model: save %s: %w", path, err)
	}
	return nil
}

// WriteTo writes m to w in the model file format.
func (m *Model) WriteTo(w io.Writer) (int64, error) {
	b, err := m.Encode()
	if err != nil {
		return 0, err
	}
	n, err := w.Write(b)
	if err != nil {
		err = fmt.Errorf("model: write: %w", err)
	}
	return int64(n), err
}

// Encode returns m in the model file format. It returns an error, and
// nothing, for a weight that is NaN or infinite (a diverged model is not
// worth keeping, and refusing it keeps a good file from being overwritten
// by a bad one) or metadata that is not UTF-8.
func (m *Model) Encode() ([]byte, error) {
	spec, err := json.Marshal(m.Spec)
	if err != nil {
		return nil, fmt.Errorf("model: spec: %w", err)
	}
	pre, err := json.Marshal(m.Pre)
	if err != nil {
		return nil, fmt.Errorf("model: preprocessing: %w", err)
	}
	meta, err := json.Marshal(m.Meta)
	if err != nil || m.Meta == nil {
		meta = []byte("{}")
	}
	header := map[string]any{}
	var payload []byte
	for _, p := range m.Net.Params() {
		d := p.Data()
		for i, v := range d.Data() {
			if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, fmt.Errorf("model: parameter %q holds %v at element %d: refusing to save a diverged model", p.Name(), f, i)
			}
		}
		begin := int64(len(payload))
		for _, v := range d.Data() {
			payload = binary.LittleEndian.AppendUint32(payload, math.Float32bits(v))
		}
		header[p.Name()] = tensorInfo{Dtype: "F32", Shape: []int{d.Rows(), d.Cols()}, DataOffsets: [2]int64{begin, int64(len(payload))}}
	}
	md := map[string]string{
		"format":        Format,
		"version":       strconv.Itoa(Version),
		"spec":          string(spec),
		"preprocessing": string(pre),
		"meta":          string(meta),
	}
	md["checksum"] = checksum(payload, md)
	header["__metadata__"] = md
	h, err := json.Marshal(header)
	if err != nil {
		return nil, fmt.Errorf("model: header: %w", err)
	}
	if pad := len(h) % 8; pad != 0 {
		h = append(h, bytes.Repeat([]byte(" "), 8-pad)...)
	}
	out := binary.LittleEndian.AppendUint64(make([]byte, 0, 8+len(h)+len(payload)), uint64(len(h)))
	out = append(out, h...)
	return append(out, payload...), nil
}

// checksum returns "crc32c:" and the CRC-32C of payload followed by each
// metadata entry but "checksum", in ascending key order, as key 0 value 0.
func checksum(payload []byte, md map[string]string) string {
	c := crc32.Checksum(payload, castagnoli)
	keys := make([]string, 0, len(md))
	for k := range md {
		if k != "checksum" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		c = crc32.Update(c, castagnoli, []byte(k+"\x00"+md[k]+"\x00"))
	}
	return fmt.Sprintf("crc32c:%08x", c)
}

// Load reads the model file at path (see [Read]); errors name the file.
func Load(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	defer f.Close()
	return Read(f, path)
}

// Read reads a model file from r to its end; name names it in errors.
// It checks the whole file (see the package doc) and returns an error
// wrapping [ErrNotModel], [ErrVersion] or [ErrCorrupt] that says what is
// wrong; it never panics on bad input.
func Read(r io.Reader, name string) (*Model, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("model: %s: %w", name, err)
	}
	m, err := decode(b)
	if err != nil {
		return nil, fmt.Errorf("model: %s: %w", name, err)
	}
	return m, nil
}

func decode(b []byte) (*Model, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("%w: %d bytes, too short for a safetensors header (a model file starts with 8 bytes of header length)", ErrNotModel, len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > MaxHeader || n < 2 {
		return nil, fmt.Errorf("%w: header length %d (a model file's is 2..%d bytes)", ErrNotModel, n, MaxHeader)
	}
	if n > uint64(len(b)-8) {
		return nil, fmt.Errorf("%w: truncated: the header needs %d bytes, the file has %d after the length", ErrCorrupt, n, len(b)-8)
	}
	hdr, payload := b[8:8+n], b[8+n:]
	if hdr[0] != '{' {
		return nil, fmt.Errorf("%w: the header is not a JSON object", ErrNotModel)
	}
	var entries map[string]json.RawMessage
	if err := json.Unmarshal(hdr, &entries); err != nil {
		return nil, fmt.Errorf("%w: the header is not valid JSON: %v", ErrNotModel, err)
	}
	var md map[string]string
	if raw, ok := entries["__metadata__"]; !ok || json.Unmarshal(raw, &md) != nil || md["format"] != Format {
		return nil, fmt.Errorf("%w: a safetensors file without flowgrad's metadata (format %q)", ErrNotModel, Format)
	}
	delete(entries, "__metadata__")
	if v := md["version"]; v != strconv.Itoa(Version) {
		return nil, fmt.Errorf("%w: version %q; this flowgrad reads version %d (use the flowgrad that wrote the file, or retrain)", ErrVersion, v, Version)
	}
	tensors, err := checkTensors(entries, len(payload))
	if err != nil {
		return nil, err
	}
	if got, want := checksum(payload, md), md["checksum"]; got != want {
		return nil, fmt.Errorf("%w: checksum %s, the file says %q: the file is damaged", ErrCorrupt, got, want)
	}

	m := &Model{Pre: new(data.Preprocessor)}
	if err := strictJSON(md["spec"], &m.Spec); err != nil {
		return nil, fmt.Errorf("%w: spec: %v", ErrCorrupt, err)
	}
	if err := strictJSON(md["preprocessing"], m.Pre); err != nil {
		return nil, fmt.Errorf("%w: preprocessing: %v", ErrCorrupt, err)
	}
	if err := strictJSON(md["meta"], &m.Meta); err != nil {
		return nil, fmt.Errorf("%w: meta: %v", ErrCorrupt, err)
	}
	if err := m.Pre.Check(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if err := m.Spec.Check(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if err := fits(m.Spec, m.Pre); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	// Every parameter of the spec has its tensor before anything is built,
	// so that the network's size is bounded by the file's.
	want := 0
	for _, l := range m.Spec.Layers {
		if l.Type != layers.LinearType {
			continue
		}
		for _, p := range []struct {
			name       string
			rows, cols int
		}{{l.Name + ".W", l.In, l.Out}, {l.Name + ".b", 1, l.Out}} {
			if ti, ok := tensors[p.name]; !ok || ti.Shape[0] != p.rows || ti.Shape[1] != p.cols {
				return nil, fmt.Errorf("%w: parameter %q (%d×%d) has no tensor of that shape", ErrCorrupt, p.name, p.rows, p.cols)
			}
			want++
		}
	}
	if want != len(tensors) {
		return nil, fmt.Errorf("%w: %d tensors for the %d parameters of the spec", ErrCorrupt, len(tensors), want)
	}
	// The weights Build draws are all overwritten.
	if m.Net, err = layers.Build[float32](m.Spec, rand.New(rand.NewPCG(0, 0))); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	params := m.Net.Params()
	for _, p := range params {
		ti, d := tensors[p.Name()], p.Data()
		raw := payload[ti.DataOffsets[0]:ti.DataOffsets[1]]
		for i := range d.Data() {
			v := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, fmt.Errorf("%w: parameter %q holds %v", ErrCorrupt, p.Name(), f)
			}
			d.Data()[i] = v
		}
	}
	return m, nil
}

// checkTensors decodes the tensor entries of a header and checks them
// against the safetensors rules for this format: F32 matrices whose byte
// ranges lie back to back and cover the size bytes of data exactly.
func checkTensors(entries map[string]json.RawMessage, size int) (map[string]tensorInfo, error) {
	tensors := make(map[string]tensorInfo, len(entries))
	type span struct {
		name       string
		begin, end int64
	}
	var spans []span
	for name, raw := range entries {
		var ti tensorInfo
		if err := strictJSON(string(raw), &ti); err != nil {
			return nil, fmt.Errorf("%w: tensor %q: %v", ErrCorrupt, name, err)
		}
		if ti.Dtype != "F32" || len(ti.Shape) != 2 || ti.Shape[0] < 1 || ti.Shape[1] < 1 || ti.Shape[0] > size/4/ti.Shape[1] {
			return nil, fmt.Errorf("%w: tensor %q is %s of shape %v (want an F32 matrix)", ErrCorrupt, name, ti.Dtype, ti.Shape)
		}
		b, e := ti.DataOffsets[0], ti.DataOffsets[1]
		if b < 0 || e < b || e > int64(size) || e-b != 4*int64(ti.Shape[0])*int64(ti.Shape[1]) {
			return nil, fmt.Errorf("%w: tensor %q of shape %v has bytes %d..%d of %d (truncated?)", ErrCorrupt, name, ti.Shape, b, e, size)
		}
		tensors[name] = ti
		spans = append(spans, span{name, b, e})
	}
	slices.SortFunc(spans, func(a, b span) int { return int(a.begin - b.begin) })
	var at int64
	for _, s := range spans {
		if s.begin != at {
			return nil, fmt.Errorf("%w: tensor %q starts at byte %d, want %d (tensors must lie back to back)", ErrCorrupt, s.name, s.begin, at)
		}
		at = s.end
	}
	if at != int64(size) {
		return nil, fmt.Errorf("%w: the tensors hold %d bytes, the file has %d after the header (truncated, or data appended)", ErrCorrupt, at, size)
	}
	return tensors, nil
}

// strictJSON decodes s into v, refusing unknown fields and trailing data.
func strictJSON(s string, v any) error {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the JSON value")
	}
	return nil
}
