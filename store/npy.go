package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strings"
	"unsafe"

	"codeberg.org/sbinet/npyio/npy"
)

// Arrays are written in numpy's .npy format (NEP 1, version 1.0): the
// header, a Python dict padded so that the data starts at a multiple of
// 64 bytes as numpy itself writes it, then the raw little-endian data in
// one write per chunk. npyio (codeberg.org/sbinet/npyio) writes an array
// one element per Write call and only in one dimension from a flat slice,
// too slow for the hundreds of millions of weights of a cortical model,
// so the writer is ours; headers are read back with npyio, and the tests
// read whole files with npyio and with numpy.

// dtype names of the arrays we write.
const (
	dtF32 = "<f4"
	dtF64 = "<f8"
	dtI32 = "<i4"
	dtI64 = "<i8"
	dtU8  = "|u1"
	dtU16 = "<u2"
)

// elemSize is the size of an element of dtype dt.
func elemSize(dt string) int {
	switch dt {
	case dtF32, dtI32:
		return 4
	case dtF64, dtI64:
		return 8
	case dtU8:
		return 1
	case dtU16:
		return 2
	}
	return 0
}

// npyHeader is the .npy header of an array of dtype dt and shape shape.
func npyHeader(dt string, shape []int) []byte {
	var sh strings.Builder
	sh.WriteByte('(')
	for i, d := range shape {
		if i > 0 {
			sh.WriteString(", ")
		}
		fmt.Fprint(&sh, d)
	}
	if len(shape) == 1 {
		sh.WriteByte(',')
	}
	sh.WriteByte(')')
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", dt, sh.String())
	// magic (6) + version (2) + length (2) + dict + padding + '\n'
	total := (10 + len(dict) + 1 + 63) / 64 * 64
	var b bytes.Buffer
	b.Write(npy.Magic[:])
	b.Write([]byte{1, 0})
	binary.Write(&b, binary.LittleEndian, uint16(total-10))
	b.WriteString(dict)
	b.WriteString(strings.Repeat(" ", total-10-len(dict)-1))
	b.WriteByte('\n')
	return b.Bytes()
}

// numel is the number of elements of an array of shape shape.
func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// littleEndian reports whether the host stores numbers little-endian
// (then a slice's memory is the .npy data as is).
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// rawBytes returns the memory of a slice of fixed-size numbers, in the
// host's byte order.
func rawBytes(data any) ([]byte, string, error) {
	switch v := data.(type) {
	case []float32:
		return bytesOf(v), dtF32, nil
	case []float64:
		return bytesOf(v), dtF64, nil
	case []int32:
		return bytesOf(v), dtI32, nil
	case []int64:
		return bytesOf(v), dtI64, nil
	case []uint8:
		return v, dtU8, nil
	case []uint16:
		return bytesOf(v), dtU16, nil
	}
	return nil, "", fmt.Errorf("store: cannot write %T as an array; use []float32, []float64, []int32, []int64, []uint8 or []uint16", data)
}

func bytesOf[T any](v []T) []byte {
	if len(v) == 0 {
		return nil
	}
	var x T
	return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), len(v)*int(unsafe.Sizeof(x)))
}

// writeLE writes b (the memory of numbers of size size, host order) as
// little-endian bytes.
func writeLE(w io.Writer, b []byte, size int) error {
	if littleEndian || size == 1 {
		_, err := w.Write(b)
		return err
	}
	c := make([]byte, len(b))
	for i := 0; i < len(b); i += size {
		for k := range size {
			c[i+k] = b[i+size-1-k]
		}
	}
	_, err := w.Write(c)
	return err
}

// writeNPY writes data (a slice) as a .npy array of shape shape (nil:
// one dimension).
func writeNPY(w io.Writer, data any, shape []int) error {
	b, dt, err := rawBytes(data)
	if err != nil {
		return err
	}
	n := len(b) / elemSize(dt)
	if shape == nil {
		shape = []int{n}
	}
	if numel(shape) != n {
		return fmt.Errorf("store: %d elements do not have shape %v", n, shape)
	}
	if _, err := w.Write(npyHeader(dt, shape)); err != nil {
		return err
	}
	return writeLE(w, b, elemSize(dt))
}

// readNPYHeader reads a .npy header and returns its dtype and shape.
func readNPYHeader(r io.Reader) (string, []int, error) {
	rd, err := npy.NewReader(r)
	if err != nil {
		return "", nil, fmt.Errorf("not a .npy array: %w", err)
	}
	h := rd.Header
	if h.Descr.Fortran {
		return "", nil, fmt.Errorf(".npy array in Fortran order; GoMoNNto writes and reads C order")
	}
	dt := strings.Trim(h.Descr.Type, "'\"")
	if elemSize(dt) == 0 {
		return "", nil, fmt.Errorf(".npy dtype %s is not one GoMoNNto writes", dt)
	}
	for _, d := range h.Descr.Shape {
		if d < 0 {
			return "", nil, fmt.Errorf(".npy shape %v has a negative dimension", h.Descr.Shape)
		}
	}
	return dt, h.Descr.Shape, nil
}

// readInto reads the data of an array of dtype dt into dst (a slice of
// the matching type and length).
func readInto(r io.Reader, dt string, dst any) error {
	b, want, err := rawBytes(dst)
	if err != nil {
		return err
	}
	if want != dt {
		return fmt.Errorf("array of dtype %s read as %s", dt, want)
	}
	if _, err := io.ReadFull(r, b); err != nil {
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			return fmt.Errorf("truncated: %d bytes of data expected", len(b))
		}
		return err
	}
	if !littleEndian {
		size := elemSize(dt)
		for i := 0; i < len(b); i += size {
			for k := range size / 2 {
				b[i+k], b[i+size-1-k] = b[i+size-1-k], b[i+k]
			}
		}
	}
	return nil
}

// firstNonFinite returns the index of the first NaN or infinity in x
// (all exponent bits set), or -1.
func firstNonFinite(x []float32) int {
	for i, v := range x {
		if math.Float32bits(v)&0x7f800000 == 0x7f800000 {
			return i
		}
	}
	return -1
}

// WriteNPY writes data ([]float32, []float64, []int32, []int64, []uint8
// or []uint16) with shape as one .npy file to w (for a download or a
// pipe; SaveArray writes files atomically).
func WriteNPY(w io.Writer, data any, shape []int) error { return writeNPY(w, data, shape) }
