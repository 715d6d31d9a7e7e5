//go:build !linux

package cpu

// adviseHuge is a no-op where transparent huge pages do not exist.
func adviseHuge(d []float32) {}

// hugeSlice is make where transparent huge pages do not exist.
func hugeSlice[T any](n int) ([]T, func()) { return make([]T, n), func() {} }
