package cpu

import "github.com/gomonnto/gomonnto/backend"

var _ backend.Delayer = (*Backend)(nil)

// The cpu's delayed propagation keeps no D x n ring of sums. A ring holds,
// for each slot, the list of what was sent to it, in the order sent;
// TakeSlot adds it to dst in that order. An item of a list is either one
// contribution (destination, alpha*W[e]) or a reference to a run of W's
// entries that share a spiking source and a delay, read in place from a
// layout of W sorted by delay (see layout): sending a spike then appends
// one reference per delay (PD14: ~20 per projection) instead of one event
// per synapse (~500), and taking it reads the entries once. Every W starts
// on events and gets its layout once its values have stayed unchanged for
// minStable sends; a W that changes is sent as events. A W whose runs are
// too short for references (minRun) is sent as events read in order from
// its layout (layout.events), not from W's column form, which reads the
// values of a source at scattered places. Every access is
// sequential, prefetched, or lands in dst, small enough to stay in cache,
// where a D x n ring is written at random: at the scale of the PD14
// microcircuit (~80k contributions per step into rings of 5 MB per
// population) every write to it was a cache miss.
//
// PropagateDelayed and TakeSlot are queued, not run: the queue is run, in
// call order per ring, by the next operation of any other kind on the
// backend (every operation reads its tensors through Backend.ten, which
// runs it first), by Sync, Data and DelayRing.Read (not by Flush). Every ring is
// cut into parts by destination, and the queued calls of every (ring,
// part), or of every ring when there are enough rings to keep the threads
// busy, are one task: the tasks of a step run in parallel, one parallel
// dispatch per step instead of one per call, and the result does not
// depend on the number of threads (except in the order of the additions
// into one element in a step where a ring goes from one task per part to
// one task per ring). What a queued call reads (W's values, the delays)
// cannot change before it runs, because any operation that could change
// them runs the queue first; the spike mask is read when the call is made.
// A layout holds a copy of W's values as of its making, and is used only
// while W's values are unchanged (tensor.gen), so references read them as
// of the call too.
