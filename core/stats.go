package core

import "math"

// Rate is the mean firing rate of a group of size neurons over steps
// steps, in spikes per neuron per step (divide by the step length in
// seconds for Hz). It is NaN when size or steps is not positive.
func (e *Events) Rate(size, steps int) float64 {
	if size <= 0 || steps <= 0 {
		return math.NaN()
	}
	return float64(e.Len()) / (float64(size) * float64(steps))
}

// ISICV is the mean, over the neurons (indices below size) with at least
// three spikes, of the coefficient of variation of their inter-spike
// intervals (population standard deviation over mean, as Brian2 users
// usually compute it), and the number of such neurons. The mean is NaN
// when no neuron qualifies.
func (e *Events) ISICV(size int) (cv float64, n int) {
	times := make([][]int, size)
	for k, i := range e.Indices {
		if i >= 0 && i < size {
			times[i] = append(times[i], e.Iterations[k])
		}
	}
	var sum float64
	for _, ts := range times {
		if len(ts) < 3 {
			continue
		}
		var m, m2 float64
		for k := 1; k < len(ts); k++ {
			m += float64(ts[k] - ts[k-1])
		}
		m /= float64(len(ts) - 1)
		for k := 1; k < len(ts); k++ {
			d := float64(ts[k]-ts[k-1]) - m
			m2 += d * d
		}
		sum += math.Sqrt(m2/float64(len(ts)-1)) / m
		n++
	}
	if n == 0 {
		return math.NaN(), 0
	}
	return sum / float64(n), n
}

// Select returns the events of the neurons [lo, lo+n) at iterations
// from on, with the indices counted from lo: the events of one
// population of a group that holds several (or of a window of time).
func (e *Events) Select(lo, n, from int) *Events {
	s := &Events{Name: e.Name}
	for k, i := range e.Indices {
		if i >= lo && i < lo+n && e.Iterations[k] >= from {
			s.Iterations = append(s.Iterations, e.Iterations[k])
			s.Indices = append(s.Indices, i-lo)
		}
	}
	return s
}
