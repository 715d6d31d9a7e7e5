//go:build linux

package cpu

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugePageMin is the tensor size from which storage is advised onto
// transparent huge pages.
const hugePageMin = 32 << 20

// adviseHuge asks the kernel to back the 2 MiB-aligned interior of d with
// transparent huge pages (madvise MADV_HUGEPAGE; systems with THP in
// "madvise" mode need it, "always" does it anyway). Large synapse matrices
// are walked by scattered rows and columns (spike propagation, STDP):
// with 4 KiB pages nearly every access misses the TLB, and hardware
// prefetchers stop at every 4 KiB boundary. Fresh Go allocations of this
// size come untouched from the OS, so the pages are faulted in huge on
// first use. The advice is best effort: an error changes nothing else.
func adviseHuge(d []float32) {
	if len(d)*4 < hugePageMin {
		return
	}
	const huge = 2 << 20
	start := uintptr(unsafe.Pointer(&d[0]))
	end := start + uintptr(len(d))*4
	lo := (start + huge - 1) &^ (huge - 1)
	hi := end &^ (huge - 1)
	if hi <= lo {
		return
	}
	p := unsafe.Add(unsafe.Pointer(&d[0]), lo-start)
	_ = unix.Madvise(unsafe.Slice((*byte)(p), hi-lo), unix.MADV_HUGEPAGE)
}
