// Package cpu is GoMoNNto's host backend: every backend.Tensor is a
// row-major []float32 on the Go heap and every operation runs on the
// processor, in float32. Matrix-vector products use AVX2+FMA assembly
// kernels on amd64 processors that have them (build tag purego turns them
// off) and gonum's blas32 otherwise. Importing the package registers it
// as "cpu" with package backend.
//
// Invariants:
//   - Operations run on the calling goroutine before they return, except
//     two kinds that are queued and run together by the next operation of
//     another kind, Sync, Data or DelayRing.Read (not Flush):
//     PropagateDelayed and TakeSlot (one parallel dispatch per step for
//     all the rings, see delay.go), and Kernel.Run of fused kernels that
//     touch no tensor in conflict (the neuron updates of all groups, and
//     package backend's elementwise operations, which are such kernels;
//     see fuse.go). Kernel runs queued after delayed calls join their
//     dispatch, each after the tasks of the rings whose takes add into
//     its tensors, so that the neuron updates overlap the memory-bound
//     ring tasks. No operation observes the difference (each runs the
//     queue before it reads its tensors); a slice kept from an earlier
//     Data call shows queued results after the next operation, Sync or
//     Data.
//   - float32 storage; Reduce's Sum and Mean, and Normalize's sums and
//     scale factors, accumulate in float64 and round once to float32.
//   - Random writes rng.Sample(d, key, i) into element i, bit for bit.
//   - No operation allocates heap memory in steady state. Scratch index
//     buffers (spiking rows and columns) grow only when a longer mask than
//     before is seen.
//   - Large operations (32768 elements and more, or as many matrix elements
//     touched; 4096 for Random) are cut into chunks that the caller and a
//     fixed pool of worker goroutines, started by New, claim from an atomic
//     counter; the caller never waits for a worker that has not started,
//     so a busy machine degrades to inline speed. Small operations run on
//     the caller's goroutine alone.
//   - A Backend is used from one goroutine at a time; different Backends
//     may run concurrently. Close stops the workers (so does garbage
//     collection of a Backend that was not closed).
//   - Programmer misuse (shape mismatch, a released or foreign tensor, an
//     invalid op, a closed backend) panics with a message naming it, using
//     the shared backend.Check* helpers where they apply. Read and Write
//     return an error for a range outside the tensor, because that range
//     usually comes from user data, and leave the tensor unchanged.
//   - Data gives in-process code zero-copy access to a tensor's storage.
package cpu
