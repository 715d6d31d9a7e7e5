package bench

import (
	"fmt"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/rng"
)

// BenchmarkPropagate is spike-driven propagation alone: a dense N x N
// synapse matrix, 1% of the sources spiking, in both layouts (trans=true is
// SxD: a spike's row is contiguous). It reports synaptic events/s (spikes
// times targets per second).
func BenchmarkPropagate(b *testing.B) {
	for _, name := range backends(b) {
		for _, n := range []int{1000, 4000} {
			for _, trans := range []bool{true, false} {
				layout := "SxD"
				if !trans {
					layout = "DxS"
				}
				b.Run(fmt.Sprintf("%s/n=%d/rate=1%%/%s", name, n, layout), func(b *testing.B) {
					be := open(b, name)
					w := must(be.NewTensor(n, n))
					be.Random(w, rng.UniformDist(0, 1), rng.Key{Seed: 1, Counter: 1})
					mask := must(be.NewTensor(n, 1))
					spikes := 0
					host := make([]float32, n)
					for i := 0; i < n; i += 100 {
						host[i] = 1
						spikes++
					}
					if err := be.Write(mask, 0, host); err != nil {
						b.Fatal(err)
					}
					dst := must(be.NewTensor(n, 1))
					if err := be.Sync(); err != nil {
						b.Fatal(err)
					}
					b.ReportAllocs()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						be.Propagate(dst, w, trans, mask, 1)
						if err := be.Flush(); err != nil {
							b.Fatal(err)
						}
					}
					if err := be.Sync(); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					b.ReportMetric(float64(b.N)*float64(spikes*n)/b.Elapsed().Seconds(), "syn-events/s")
				})
			}
		}
	}
}

func must(t backend.Tensor, err error) backend.Tensor {
	if err != nil {
		panic(err)
	}
	return t
}
