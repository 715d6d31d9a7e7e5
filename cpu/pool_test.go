package cpu

import (
	"fmt"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
)

// countJob adds one to every element of its range and records which chunk
// numbers ran.
type countJob struct {
	hits  []int32
	parts []int32
}

func (j *countJob) run(part, lo, hi int) {
	for i := lo; i < hi; i++ {
		j.hits[i]++
	}
	j.parts[part]++
}

// TestSplitCoversEachElementOnce runs many back-to-back calls, so that
// tokens of earlier calls are still queued when later calls start, and
// checks that every element is processed exactly once per call and chunk
// numbers stay below maxChunks.
func TestSplitCoversEachElementOnce(t *testing.T) {
	for _, threads := range []int{2, 3, 8} {
		for _, n := range []int{32, 33, 1000, 65537} {
			t.Run(fmt.Sprintf("threads%d/n%d", threads, n), func(t *testing.T) {
				b, err := New(backend.Options{Threads: threads})
				if err != nil {
					t.Fatal(err)
				}
				defer b.Close()
				j := &countJob{hits: make([]int32, n), parts: make([]int32, maxChunks(threads))}
				const calls = 300
				for c := range calls {
					b.split(j, n, threads, 16)
					// Every element has been counted c+1 times when split
					// returns: no chunk is still running or lost.
					for _, i := range []int{0, n / 2, n - 1} {
						if j.hits[i] != int32(c+1) {
							t.Fatalf("call %d: element %d counted %d times, want %d", c, i, j.hits[i], c+1)
						}
					}
				}
				for i, h := range j.hits {
					if h != calls {
						t.Fatalf("element %d counted %d times, want %d", i, h, calls)
					}
				}
			})
		}
	}
}
