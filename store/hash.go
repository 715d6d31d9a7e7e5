package store

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/core"
)

// StateHash returns the SHA-256 (hex) of a network's state: the seed,
// draw counter and iteration, then every tensor except recorders' device
// blocks in the order made (a sparse matrix's values), then the input in
// flight in each delay ring (as sums per slot and destination), each as
// its float32 bits. Two runs whose hashes agree are in the same state bit
// for bit (the examples' -json state_sha256).
func StateHash(net *core.Network) (string, error) {
	sn, err := net.Snapshot()
	if err != nil {
		return "", fmt.Errorf("store: StateHash: %w", err)
	}
	h := sha256.New()
	var w [8]byte
	for _, x := range []uint64{sn.Host.Seed, sn.Host.Draws, uint64(sn.Host.Iteration)} {
		binary.LittleEndian.PutUint64(w[:], x)
		h.Write(w[:])
	}
	be := net.Backend()
	buf := chunkBuf(sn)
	for _, t := range sn.Tensors {
		if t.Recorder {
			continue
		}
		n := t.T.Len()
		for off := 0; off < n; off += len(buf) {
			c := buf[:min(len(buf), n-off)]
			if err := be.Read(c, t.T, off); err != nil {
				return "", fmt.Errorf("store: StateHash: %w", err)
			}
			hashFloats(h, c)
		}
	}
	for _, r := range sn.Rings {
		rs, ok := r.Ring.(backend.RingStater)
		if !ok {
			return "", fmt.Errorf("store: StateHash: the delay ring of %s cannot be read (backend.RingStater)", r.Name)
		}
		st, err := rs.RingState()
		if err != nil {
			return "", fmt.Errorf("store: StateHash: %w", err)
		}
		hashFloats(h, st.Sums())
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashFloats(h interface{ Write([]byte) (int, error) }, x []float32) {
	var b [4096]byte
	for len(x) > 0 {
		n := min(len(x), len(b)/4)
		for i, v := range x[:n] {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		h.Write(b[:4*n])
		x = x[n:]
	}
}
