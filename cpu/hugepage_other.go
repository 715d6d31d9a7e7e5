//go:build !linux

package cpu

// adviseHuge is a no-op where transparent huge pages do not exist.
func adviseHuge(d []float32) {}
