package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The kinds of error that reading data can return. Every error the package
// returns for bad data wraps one of these, so callers can test with
// errors.Is; the message itself names the file and the details.
var (
	// ErrBadMagic: the file does not start with the IDX magic number that
	// the reader expects (0x00000803 for images, 0x00000801 for labels).
	ErrBadMagic = errors.New("bad magic number")
	// ErrBadDims: the header's dimensions are impossible (zero) or disagree
	// with the amount of data that follows (data left over after them).
	ErrBadDims = errors.New("dimensions disagree with the data")
	// ErrTooLarge: the header's dimensions describe more than [MaxIDXBytes],
	// or a table's model inputs would take more than [MaxInputBytes].
	ErrTooLarge = errors.New("dimensions too large")
	// ErrTruncated: the file ends before the header or the data it
	// announces is complete.
	ErrTruncated = errors.New("truncated")
	// ErrCorrupt: the data cannot be read (a damaged gzip stream, a failed
	// checksum, an I/O error).
	ErrCorrupt = errors.New("corrupt or unreadable")
	// ErrLabelRange: a label is not in 0..classes−1.
	ErrLabelRange = errors.New("label out of range")
	// ErrCountMismatch: an image file and a label file, or a pixel slice and
	// a label slice, hold different numbers of examples.
	ErrCountMismatch = errors.New("image and label counts differ")
	// ErrEmpty: a dataset or IDX file with no examples.
	ErrEmpty = errors.New("empty dataset")
)

// MaxIDXBytes bounds the data an IDX header may announce: 1 GiB, twenty
// times MNIST's training images. A header that claims more is reported as
// [ErrTooLarge] before anything is allocated. Below the bound, memory grows
// with the data actually read, not with what the header claims, so a short
// file with a lying header costs little.
const MaxIDXBytes = 1 << 30

const (
	imageMagic = 0x00000803 // unsigned bytes, 3 dimensions
	labelMagic = 0x00000801 // unsigned bytes, 1 dimension

	// firstChunk is the most that is allocated before any data has been
	// read; once it is full the buffer grows by growFactor at a time, up to
	// the size the header gives.
	firstChunk = 4 << 20
	// growFactor bounds what a lying header costs: at most growFactor
	// times the bytes actually read. A large factor means few copies: MNIST's
	// 47 MB of training images take one 4 MB chunk and then their exact
	// size (doubling took 4, 8, 16, 32 and 47 MB, 107 MB in all, and
	// raised the demo's peak RSS to 135 MB).
	growFactor = 16
)

// Images is the content of an IDX image file: N images of Rows×Cols
// unsigned bytes, stored row-major one image after the other, so image i is
// Pixels[i·Rows·Cols : (i+1)·Rows·Cols].
type Images struct {
	N, Rows, Cols int
	Pixels        []uint8
}

// ReadImages reads an IDX image file (magic 0x00000803, dimensions
// N×Rows×Cols, unsigned bytes) from r, gzip-compressed or not: the gzip magic
// bytes 0x1f 0x8b switch decompression on. name is used only in error
// messages; pass the file name.
//
// The file must hold exactly the N·Rows·Cols bytes its header announces,
// with N, Rows and Cols ≥ 1 and at most [MaxIDXBytes] in all. Any other
// input gives an error wrapping one of [ErrBadMagic], [ErrBadDims],
// [ErrTooLarge], [ErrTruncated], [ErrCorrupt] or [ErrEmpty]; ReadImages never
// panics.
func ReadImages(r io.Reader, name string) (*Images, error) {
	r, err := decompress(r, name)
	if err != nil {
		return nil, err
	}
	var hdr [16]byte
	if err := readHeader(r, hdr[:], 0, 4, name, "image"); err != nil {
		return nil, err
	}
	if err := checkMagic(binary.BigEndian.Uint32(hdr[0:]), imageMagic, name); err != nil {
		return nil, err
	}
	if err := readHeader(r, hdr[:], 4, 16, name, "image"); err != nil {
		return nil, err
	}
	n := uint64(binary.BigEndian.Uint32(hdr[4:]))
	rows := uint64(binary.BigEndian.Uint32(hdr[8:]))
	cols := uint64(binary.BigEndian.Uint32(hdr[12:]))
	if n == 0 {
		return nil, fmt.Errorf("data: %s: %w: the header says 0 images (of %d×%d)", name, ErrEmpty, rows, cols)
	}
	if rows == 0 || cols == 0 {
		return nil, fmt.Errorf("data: %s: %w: the header says images of %d×%d pixels", name, ErrBadDims, rows, cols)
	}
	// Each factor is < 2³², so rows·cols cannot overflow; n·(rows·cols)
	// is checked by division.
	per := rows * cols
	if per > MaxIDXBytes || n > MaxIDXBytes/per {
		return nil, fmt.Errorf("data: %s: %w: the header says %d images of %d×%d pixels, more than the %d-byte limit (MaxIDXBytes)",
			name, ErrTooLarge, n, rows, cols, MaxIDXBytes)
	}
	what := fmt.Sprintf("%s of %d×%d", plural(n, "image"), rows, cols)
	pix, err := readPayload(r, int(n*per), name, what)
	if err != nil {
		return nil, err
	}
	return &Images{N: int(n), Rows: int(rows), Cols: int(cols), Pixels: pix}, nil
}

// ReadLabels reads an IDX label file (magic 0x00000801, dimension N,
// unsigned bytes) from r, gzip-compressed or not, and checks that every
// label is in 0..classes−1 (classes = 10 for MNIST). name is used only in
// error messages; pass the file name.
//
// classes must be in 1..256. Bad input gives an error wrapping one of
// [ErrBadMagic], [ErrBadDims], [ErrTooLarge], [ErrTruncated], [ErrCorrupt],
// [ErrEmpty] or [ErrLabelRange]; ReadLabels never panics.
func ReadLabels(r io.Reader, name string, classes int) ([]uint8, error) {
	if classes < 1 || classes > 256 {
		return nil, fmt.Errorf("data: %s: %w: %d classes (want 1..256 for byte labels)", name, ErrLabelRange, classes)
	}
	r, err := decompress(r, name)
	if err != nil {
		return nil, err
	}
	var hdr [8]byte
	if err := readHeader(r, hdr[:], 0, 4, name, "label"); err != nil {
		return nil, err
	}
	if err := checkMagic(binary.BigEndian.Uint32(hdr[0:]), labelMagic, name); err != nil {
		return nil, err
	}
	if err := readHeader(r, hdr[:], 4, 8, name, "label"); err != nil {
		return nil, err
	}
	n := uint64(binary.BigEndian.Uint32(hdr[4:]))
	if n == 0 {
		return nil, fmt.Errorf("data: %s: %w: the header says 0 labels", name, ErrEmpty)
	}
	if n > MaxIDXBytes {
		return nil, fmt.Errorf("data: %s: %w: the header says %d labels, more than the %d-byte limit (MaxIDXBytes)",
			name, ErrTooLarge, n, MaxIDXBytes)
	}
	labels, err := readPayload(r, int(n), name, plural(n, "label"))
	if err != nil {
		return nil, err
	}
	if i, ok := checkLabels(labels, classes); !ok {
		return nil, fmt.Errorf("data: %s: %w: label %d at index %d (want 0..%d)", name, ErrLabelRange, labels[i], i, classes-1)
	}
	return labels, nil
}

// checkLabels returns the index of the first label ≥ classes and false, or
// 0 and true if all are in range.
func checkLabels(labels []uint8, classes int) (int, bool) {
	if classes >= 256 {
		return 0, true
	}
	for i, l := range labels {
		if int(l) >= classes {
			return i, false
		}
	}
	return 0, true
}

// decompress returns a reader of r's content, decompressed if r starts with
// the gzip magic bytes.
func decompress(r io.Reader, name string) (io.Reader, error) {
	br := bufio.NewReader(r)
	magic, err := br.Peek(2)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("data: %s: %w: %w", name, ErrCorrupt, err)
	}
	if len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
		return br, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("data: %s: %w: the gzip header is incomplete", name, ErrTruncated)
		}
		return nil, fmt.Errorf("data: %s: %w: %w", name, ErrCorrupt, err)
	}
	return zr, nil
}

// readHeader fills hdr[from:to] from r; the magic number is read first,
// so that a file of the wrong kind is reported as such.
func readHeader(r io.Reader, hdr []byte, from, to int, name, kind string) error {
	n, err := io.ReadFull(r, hdr[from:to])
	switch {
	case err == nil:
		return nil
	case from+n == 0 && err == io.EOF:
		return fmt.Errorf("data: %s: %w: the file is empty (want an IDX %s header of %d bytes)", name, ErrTruncated, kind, len(hdr))
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return fmt.Errorf("data: %s: %w: %d of the %d header bytes of an IDX %s file", name, ErrTruncated, from+n, len(hdr), kind)
	default:
		return fmt.Errorf("data: %s: %w: reading the header: %w", name, ErrCorrupt, err)
	}
}

// checkMagic compares an IDX magic number with the expected one and says
// what the file looks like when they differ.
func checkMagic(got, want uint32, name string) error {
	if got == want {
		return nil
	}
	kind := "images: unsigned bytes, 3 dimensions"
	if want == labelMagic {
		kind = "labels: unsigned bytes, 1 dimension"
	}
	hint := ""
	switch {
	case got == imageMagic:
		hint = ": this is an IDX image file"
	case got == labelMagic:
		hint = ": this is an IDX label file"
	case got>>16 != 0:
		hint = ": this is not an IDX file"
	default:
		hint = fmt.Sprintf(": IDX data of type 0x%02x, %d dimensions", got>>8&0xff, got&0xff)
	}
	return fmt.Errorf("data: %s: %w 0x%08x%s (want 0x%08x, IDX %s)", name, ErrBadMagic, got, hint, want, kind)
}

// readPayload reads exactly size bytes from r and then checks that r holds
// nothing more. Memory grows with the data read, from at most firstChunk by
// growFactor at a time, so a header that lies about the size cannot make it
// allocate much.
func readPayload(r io.Reader, size int, name, what string) ([]byte, error) {
	buf := make([]byte, 0, min(size, firstChunk))
	for len(buf) < size {
		if len(buf) == cap(buf) {
			bigger := make([]byte, len(buf), min(size, growFactor*cap(buf)))
			copy(bigger, buf)
			buf = bigger
		}
		n, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		switch {
		case err == nil:
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			return nil, fmt.Errorf("data: %s: %w: %d of %d data bytes (the header says %s)", name, ErrTruncated, len(buf), size, what)
		default:
			return nil, fmt.Errorf("data: %s: %w: after %d of %d data bytes: %w", name, ErrCorrupt, len(buf), size, err)
		}
	}
	// Reading to the end also makes a gzip reader verify its checksum.
	var extra [1]byte
	n, err := io.ReadFull(r, extra[:])
	switch {
	case n > 0:
		return nil, fmt.Errorf("data: %s: %w: more data follows the %d bytes of %s", name, ErrBadDims, size, what)
	case err == io.EOF:
		return buf, nil
	case err == io.ErrUnexpectedEOF:
		return nil, fmt.Errorf("data: %s: %w: the gzip stream ends early, or is followed by a few stray bytes (after the %d bytes of %s)", name, ErrTruncated, size, what)
	default:
		return nil, fmt.Errorf("data: %s: %w: after the %d bytes of %s: %w", name, ErrCorrupt, size, what, err)
	}
}

// plural returns "1 image", "2 images".
func plural(n uint64, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
