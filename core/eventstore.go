package core

// eventStore holds recorded events (iteration, index) in chunks of fixed
// size: recording appends without ever copying what it holds (a growing
// slice would copy it at every doubling and leave the old copy to the
// garbage collector, which on a small machine competes with the
// simulation for the cores), and MaxLength drops whole chunks.
type eventStore struct {
	chunks []evChunk
	start  int // the first live event of chunks[0]
	n      int // live events
}

type evChunk struct{ it, idx []int32 }

// evChunkLen is the number of events per chunk (512 KiB).
const evChunkLen = 1 << 16

// add appends the events (iter, idx[k]).
func (s *eventStore) add(iter int, idx []int32) {
	for len(idx) > 0 {
		if len(s.chunks) == 0 || len(s.chunks[len(s.chunks)-1].it) == evChunkLen {
			s.chunks = append(s.chunks, evChunk{make([]int32, 0, evChunkLen), make([]int32, 0, evChunkLen)})
		}
		c := &s.chunks[len(s.chunks)-1]
		m := min(len(idx), evChunkLen-len(c.it))
		for range m {
			c.it = append(c.it, int32(iter))
		}
		c.idx = append(c.idx, idx[:m]...)
		idx = idx[m:]
		s.n += m
	}
}

// len is the number of events held.
func (s *eventStore) len() int { return s.n }

// dropBefore drops the events of iterations before iter (events are
// held in the order of their iterations).
func (s *eventStore) dropBefore(iter int) {
	for len(s.chunks) > 0 {
		c := s.chunks[0]
		k := s.start
		for k < len(c.it) && int(c.it[k]) < iter {
			k++
		}
		s.n -= k - s.start
		if k < len(c.it) || len(s.chunks) == 1 && len(c.it) < evChunkLen {
			s.start = k
			return
		}
		s.chunks[0] = evChunk{}
		s.chunks, s.start = s.chunks[1:], 0
	}
}

// each calls f with the live events, chunk by chunk.
func (s *eventStore) each(f func(it, idx []int32)) {
	for k, c := range s.chunks {
		lo := 0
		if k == 0 {
			lo = s.start
		}
		f(c.it[lo:], c.idx[lo:])
	}
}

// events returns copies of the events of iterations from on.
func (s *eventStore) events(from int) (its, idx []int) {
	its, idx = make([]int, 0, s.n), make([]int, 0, s.n)
	s.each(func(it, ix []int32) {
		for k, t := range it {
			if int(t) >= from {
				its = append(its, int(t))
				idx = append(idx, int(ix[k]))
			}
		}
	})
	return its, idx
}

// reset drops every event.
func (s *eventStore) reset() { *s = eventStore{} }
