// Package core is GoMoNNto's model: networks, neuron groups, synapse
// groups, behaviours, tags and recorders, with PymoNNto's semantics, written
// against the backend.Tensor abstraction so that the same model runs on the
// cpu and gl backends.
//
// A step (Network.SimulateIteration) increments Network.Iteration, runs
// every active behaviour of the network and all its groups in ONE global
// order of keys (stable on ties), then flushes the backend once. Behaviours
// queue backend operations; they neither allocate nor move tensor data to
// the host in steady state. Recorders keep their records on the device and
// read them back every Block records; event recorders gather spike
// indices where the spikes are (backend.EventGatherer), at a cost that
// grows with the spikes, not with the group. SimOptions.Hooks run after
// every step (checkpoints: package store).
//
// Snapshot lists a network's whole state in an order fixed by the program
// that built it (every backend tensor, delay rings and tables, recorders,
// counters, Stater behaviours); Restore puts the host part back. Package
// store writes and reads them as checkpoints. NaNGuard stops a run whose
// state holds NaN or infinity.
//
// Every random draw goes through Network.NextKey, a counter keyed by the
// network's seed: the same seed and backend give bit-identical results,
// and the cpu and gl backends draw the same numbers.
package core
