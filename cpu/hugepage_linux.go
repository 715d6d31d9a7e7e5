//go:build linux

package cpu

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugePageMin is the tensor size from which storage is advised onto
// transparent huge pages.
const hugePageMin = 32 << 20

// huge is the size of a transparent huge page.
const huge = 2 << 20

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

// hugeSlice returns a zeroed slice of n elements of a pointer-free type,
// mapped outside the Go heap on transparent huge pages when it is at least
// hugePageMin bytes: a fresh mapping, 2 MiB-aligned and advised before
// anything touches it, so that the kernel faults it in huge pages (heap
// memory that the Go runtime reuses is already faulted in 4 KiB pages,
// and madvise does not change those). free unmaps it; the slice must not
// be used after. Where mmap fails it falls back to the Go heap.
func hugeSlice[T any](n int) (s []T, free func()) {
	size := uintptr(n) * unsafe.Sizeof(*new(T))
	if size < hugePageMin {
		return make([]T, n), func() {}
	}
	mem, err := unix.Mmap(-1, 0, int(size+huge), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return make([]T, n), func() {}
	}
	base := uintptr(unsafe.Pointer(&mem[0]))
	skip := (base+huge-1)&^(huge-1) - base
	_ = unix.Madvise(mem[skip:skip+size], unix.MADV_HUGEPAGE)
	s = unsafe.Slice((*T)(unsafe.Pointer(&mem[skip])), n)
	return s, func() { _ = unix.Munmap(mem) }
}
