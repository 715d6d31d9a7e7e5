// Package backend defines GoMoNNto's Tensor abstraction: the Tensor and
// Backend interfaces that every compute backend implements, the registry
// that opens a backend by name (-backend=cpu|gl|auto), and the
// counter-based random number generator (Philox4x32-10) that makes random
// fills identical on every backend.
//
// Invariants:
//   - float32 everywhere; tensors are row-major Rows x Cols, vectors n x 1.
//   - Operations are destination-first and may be queued; only Read, Write
//     and Sync wait for the device.
//   - The per-step path allocates nothing and moves no data between host and
//     device.
//   - Programmer misuse (shape mismatch, foreign tensor) panics with a
//     message naming the problem; device failures are returned as errors.
//
// The conformance suite in backend/backendtest checks every backend against
// float64 reference values.
package backend
