//go:build amd64 && !purego

package expr

import "golang.org/x/sys/cpu"

// fastLoops returns the AVX2 loops when the processor has AVX2.
func fastLoops() map[string]loopFunc {
	if cpu.X86.HasAVX2 {
		return avxLoops
	}
	return nil
}
