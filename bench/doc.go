// Package bench holds GoMoNNto's benchmarks: the reference models (M1, M3,
// and later M4-M9) on every backend, sizes in the names, reporting steps/s
// and allocations per step (one benchmark op is one simulation step).
//
//	go test ./bench -run XXX -bench . -benchmem
//
// bench/RESULTS.md records the figures with date, machine and command,
// next to the peer figures they are compared with.
package bench
