package data

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"testing"
	"testing/iotest"
)

func TestReadImages(t *testing.T) {
	pix := ramp(3*4*5, 7)
	file := idxImages(3, 4, 5, pix)
	twoMembers := append(gz(file[:10]), gz(file[10:])...)
	for name, in := range map[string][]byte{"raw": file, "gzip": gz(file), "gzip 2 members": twoMembers} {
		for rname, wrap := range map[string]func(io.Reader) io.Reader{
			"whole": func(r io.Reader) io.Reader { return r },
			"1byte": iotest.OneByteReader,
			"half":  iotest.HalfReader,
		} {
			img, err := ReadImages(wrap(bytes.NewReader(in)), "x.idx")
			if err != nil {
				t.Fatalf("%s/%s: %v", name, rname, err)
			}
			if img.N != 3 || img.Rows != 4 || img.Cols != 5 || !bytes.Equal(img.Pixels, pix) {
				t.Errorf("%s/%s: got %d×%d×%d %v", name, rname, img.N, img.Rows, img.Cols, img.Pixels)
			}
		}
	}
}

// TestReadImagesLarge reads more than firstChunk, so the buffer grows.
func TestReadImagesLarge(t *testing.T) {
	const n = 7000
	pix := ramp(n*28*28, 13)
	file := idxImages(n, 28, 28, pix)
	for name, in := range map[string][]byte{"raw": file, "gzip": gz(file)} {
		img, err := ReadImages(bytes.NewReader(in), "big")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if img.N != n || !bytes.Equal(img.Pixels, pix) {
			t.Errorf("%s: wrong content", name)
		}
	}
}

func TestReadLabels(t *testing.T) {
	lab := []byte{0, 9, 3, 3, 7}
	file := idxLabels(5, lab)
	for name, in := range map[string][]byte{"raw": file, "gzip": gz(file)} {
		got, err := ReadLabels(bytes.NewReader(in), "l.idx", 10)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(got, lab) {
			t.Errorf("%s: got %v, want %v", name, got, lab)
		}
	}
	// 256 classes accept every byte.
	if _, err := ReadLabels(bytes.NewReader(idxLabels(2, []byte{0, 255})), "l", 256); err != nil {
		t.Error(err)
	}
}

// TestLyingHeader: a header that announces 784 MB in front of 100 bytes
// must not make the reader allocate anywhere near that.
func TestLyingHeader(t *testing.T) {
	in := idxImages(1_000_000, 28, 28, ramp(100, 1))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := ReadImages(bytes.NewReader(in), "liar")
	runtime.ReadMemStats(&after)
	wantErr(t, err, ErrTruncated, "liar", "100 of 784000000")
	if got := after.TotalAlloc - before.TotalAlloc; got > 2*firstChunk {
		t.Errorf("allocated %d bytes for a 116-byte file", got)
	}
}

// badCase is one bad input and the error it must give.
type badCase struct {
	name  string
	in    []byte
	kind  error
	parts []string
}

func imageCases() []badCase {
	good := idxImages(2, 3, 3, ramp(18, 5))
	gzGood := gz(good)
	flip := func(b []byte, i int) []byte {
		c := bytes.Clone(b)
		c[i] ^= 0xff
		return c
	}
	return []badCase{
		{"empty", nil, ErrTruncated, []string{"the file is empty"}},
		{"short header", good[:10], ErrTruncated, []string{"10 of the 16 header bytes"}},
		{"label magic", idxLabels(2, []byte{1, 2}), ErrBadMagic, []string{"0x00000801", "IDX label file", "want 0x00000803"}},
		{"zip file", []byte("PK\x03\x04 0123456789abcdef"), ErrBadMagic, []string{"not an IDX file"}},
		{"float magic", append([]byte{0, 0, 0x0d, 3}, good[4:]...), ErrBadMagic, []string{"0x00000d03", "type 0x0d, 3 dimensions"}},
		{"zero images", idxImages(0, 28, 28, nil), ErrEmpty, []string{"0 images"}},
		{"zero rows", idxImages(5, 0, 28, nil), ErrBadDims, []string{"0×28"}},
		{"huge dims", idxImages(0xffffffff, 0xffffffff, 0xffffffff, nil), ErrTooLarge, []string{"4294967295 images", "MaxIDXBytes"}},
		{"just too large", idxImages(1<<20, 32, 33, nil), ErrTooLarge, nil},
		{"truncated data", good[:len(good)-1], ErrTruncated, []string{"17 of 18 data bytes", "2 images of 3×3"}},
		{"header only", good[:16], ErrTruncated, []string{"0 of 18"}},
		{"trailing data", append(bytes.Clone(good), 0), ErrBadDims, []string{"more data follows", "2 images of 3×3"}},
		{"more images than header", idxImages(1, 3, 3, ramp(18, 5)), ErrBadDims, []string{"the 9 bytes of 1 image of 3×3"}},
		{"gzip magic only", gzGood[:2], ErrTruncated, []string{"gzip header"}},
		{"gzip half", gzGood[:len(gzGood)/2], ErrTruncated, nil},
		{"gzip no trailer", gzGood[:len(gzGood)-8], ErrTruncated, []string{"gzip stream ends early"}},
		{"gzip bad crc", flip(gzGood, len(gzGood)-6), ErrCorrupt, []string{"checksum"}},
		{"gzip bad size", flip(gzGood, len(gzGood)-2), ErrCorrupt, nil},
		{"gzip bad header", flip(gzGood, 2), ErrCorrupt, []string{"gzip"}},
		{"gzip of garbage", gz([]byte("hello, world, this is not IDX")), ErrBadMagic, nil},
		{"gzip then junk", append(bytes.Clone(gzGood), "some junk after the gzip stream"...), ErrCorrupt, []string{"gzip"}},
		{"gzip of truncated", gz(good[:len(good)-3]), ErrTruncated, []string{"15 of 18"}},
		{"gzip of label file", gz(idxLabels(1, []byte{3})), ErrBadMagic, []string{"IDX label file"}},
	}
}

func labelCases() []badCase {
	good := idxLabels(4, []byte{1, 2, 3, 9})
	gzGood := gz(good)
	return []badCase{
		{"empty", nil, ErrTruncated, []string{"the file is empty"}},
		{"short header", good[:5], ErrTruncated, []string{"5 of the 8 header bytes", "IDX label"}},
		{"image magic", idxImages(1, 1, 1, []byte{0}), ErrBadMagic, []string{"IDX image file", "want 0x00000801"}},
		{"zero labels", idxLabels(0, nil), ErrEmpty, []string{"0 labels"}},
		{"huge count", idxLabels(0xffffffff, nil), ErrTooLarge, []string{"4294967295 labels"}},
		{"truncated", good[:len(good)-1], ErrTruncated, []string{"3 of 4 data bytes"}},
		{"trailing", append(bytes.Clone(good), 5), ErrBadDims, []string{"more data follows"}},
		{"label 10", idxLabels(3, []byte{1, 10, 2}), ErrLabelRange, []string{"label 10 at index 1", "0..9"}},
		{"label 255", idxLabels(1, []byte{255}), ErrLabelRange, []string{"label 255 at index 0"}},
		{"gzip truncated", gzGood[:len(gzGood)-4], ErrTruncated, nil},
		{"gzip label 10", gz(idxLabels(3, []byte{1, 2, 10})), ErrLabelRange, []string{"index 2"}},
	}
}

// TestBadImages runs the battery of bad image files: each gives an error of
// the right kind that names the file, and never a panic.
func TestBadImages(t *testing.T) {
	for _, c := range imageCases() {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadImages(bytes.NewReader(c.in), "imgs.idx3")
			wantErr(t, err, c.kind, append([]string{"imgs.idx3"}, c.parts...)...)
			t.Log(err)
		})
	}
}

func TestBadLabels(t *testing.T) {
	for _, c := range labelCases() {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadLabels(bytes.NewReader(c.in), "labs.idx1", 10)
			wantErr(t, err, c.kind, append([]string{"labs.idx1"}, c.parts...)...)
			t.Log(err)
		})
	}
	for _, classes := range []int{0, -1, 257} {
		_, err := ReadLabels(bytes.NewReader(idxLabels(1, []byte{0})), "labs", classes)
		wantErr(t, err, ErrLabelRange, "labs", "classes")
	}
}

func TestReadErrors(t *testing.T) {
	boom := errors.New("disk on fire")
	good := idxImages(2, 3, 3, ramp(18, 5))
	for name, r := range map[string]io.Reader{
		"at once":     iotest.ErrReader(boom),
		"in header":   io.MultiReader(bytes.NewReader(good[:6]), iotest.ErrReader(boom)),
		"in data":     io.MultiReader(bytes.NewReader(good[:20]), iotest.ErrReader(boom)),
		"after data":  io.MultiReader(bytes.NewReader(good), iotest.ErrReader(boom)),
		"gzip inside": io.MultiReader(bytes.NewReader(gz(good)[:20]), iotest.ErrReader(boom)),
	} {
		_, err := ReadImages(r, "f")
		wantErr(t, err, ErrCorrupt, "f")
		if !errors.Is(err, boom) {
			t.Errorf("%s: %v does not wrap the I/O error", name, err)
		}
	}
}

func TestReadDataset(t *testing.T) {
	img := idxImages(3, 2, 2, ramp(12, 3))
	ds, err := ReadDataset(bytes.NewReader(gz(img)), bytes.NewReader(idxLabels(3, []byte{2, 0, 1})), "i", "l", 3)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 3 || ds.Features() != 4 || ds.Classes() != 3 || ds.Label(0) != 2 {
		t.Errorf("got N=%d F=%d C=%d", ds.Len(), ds.Features(), ds.Classes())
	}
	if r, c := ds.ImageShape(); r != 2 || c != 2 {
		t.Errorf("ImageShape = %d, %d", r, c)
	}
	_, err = ReadDataset(bytes.NewReader(img), bytes.NewReader(idxLabels(4, []byte{2, 0, 1, 1})), "imgs.gz", "labs.gz", 3)
	wantErr(t, err, ErrCountMismatch, "imgs.gz and labs.gz", "3 images, 4 labels")
	_, err = ReadDataset(bytes.NewReader(img), bytes.NewReader(idxLabels(3, []byte{2, 0, 3})), "imgs.gz", "labs.gz", 3)
	wantErr(t, err, ErrLabelRange, "labs.gz", "label 3 at index 2", "0..2")
	_, err = ReadDataset(bytes.NewReader(img[:20]), bytes.NewReader(idxLabels(3, []byte{2, 0, 1})), "imgs.gz", "labs.gz", 3)
	wantErr(t, err, ErrTruncated, "imgs.gz")
}
