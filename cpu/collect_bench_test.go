package cpu

import "testing"

func BenchmarkCollect(b *testing.B) {
	m := make([]float32, 3200)
	for i := 0; i < 8; i++ {
		m[i*397] = 1
	}
	var buf []int
	for i := 0; i < b.N; i++ {
		collect(&buf, m)
	}
}
