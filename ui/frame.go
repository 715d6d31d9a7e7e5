package ui

import (
	"encoding/binary"
	"encoding/json"
	"math"
)

// Wire format of a frame (one binary WebSocket message): "GMF1", a uint32
// count of parts, then per part a uint32 length, that many bytes of JSON,
// zero padding to a multiple of 4, a uint32 length and the part's blobs.
// In the JSON, {"$b": k, "t": "f32"|"i32"|"u8", "o": offset, "n": count}
// stands for a typed array over the part's blobs (every blob starts at a
// multiple of 4). Part 0 is the frame all clients share (state, panels);
// part 1 holds the history this client has not seen yet.
const frameMagic = "GMF1"

// blobRef is the JSON stand-in for a typed array.
type blobRef struct {
	B int    `json:"$b"`
	T string `json:"t"`
	O int    `json:"o"`
	N int    `json:"n"`
}

// part builds one part: JSON with typed arrays beside it.
type part struct {
	blobs []byte
	nblob int
}

func (p *part) align() {
	for len(p.blobs)%4 != 0 {
		p.blobs = append(p.blobs, 0)
	}
}

// F32 adds a float32 array and returns its stand-in.
func (p *part) F32(x []float32) blobRef {
	p.align()
	r := blobRef{B: p.nblob, T: "f32", O: len(p.blobs), N: len(x)}
	for _, v := range x {
		p.blobs = binary.LittleEndian.AppendUint32(p.blobs, math.Float32bits(v))
	}
	p.nblob++
	return r
}

// F64 adds x as float32.
func (p *part) F64(x []float64) blobRef {
	p.align()
	r := blobRef{B: p.nblob, T: "f32", O: len(p.blobs), N: len(x)}
	for _, v := range x {
		p.blobs = binary.LittleEndian.AppendUint32(p.blobs, math.Float32bits(float32(v)))
	}
	p.nblob++
	return r
}

// I32 adds an int32 array.
func (p *part) I32(x []int32) blobRef {
	p.align()
	r := blobRef{B: p.nblob, T: "i32", O: len(p.blobs), N: len(x)}
	for _, v := range x {
		p.blobs = binary.LittleEndian.AppendUint32(p.blobs, uint32(v))
	}
	p.nblob++
	return r
}

// Ints adds ints as int32.
func (p *part) Ints(x []int) blobRef {
	p.align()
	r := blobRef{B: p.nblob, T: "i32", O: len(p.blobs), N: len(x)}
	for _, v := range x {
		p.blobs = binary.LittleEndian.AppendUint32(p.blobs, uint32(int32(v)))
	}
	p.nblob++
	return r
}

// U8 adds a byte array.
func (p *part) U8(x []uint8) blobRef {
	p.align()
	r := blobRef{B: p.nblob, T: "u8", O: len(p.blobs), N: len(x)}
	p.blobs = append(p.blobs, x...)
	p.nblob++
	return r
}

// appendPart appends the encoded part (head marshalled to JSON) to dst.
func appendPart(dst []byte, head any, p *part) ([]byte, error) {
	js, err := json.Marshal(head)
	if err != nil {
		return dst, err
	}
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(js)))
	dst = append(dst, js...)
	for len(dst)%4 != 0 {
		dst = append(dst, 0)
	}
	var blobs []byte
	if p != nil {
		p.align()
		blobs = p.blobs
	}
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(blobs)))
	return append(dst, blobs...), nil
}

// message joins parts (each from appendPart) into one frame message.
func message(parts ...[]byte) []byte {
	n := 8
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n)
	out = append(out, frameMagic...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(parts)))
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// frame is one published state of the run; it is never modified.
type frame struct {
	Seq    uint64
	Iter   int
	shared []byte // part 0, encoded
	// histEnd is the number of records of each history when the frame was
	// made; a client gets the records after its cursor up to these.
	histEnd []int
	json    map[string]any // part 0's JSON, for GET /api/frame
}
