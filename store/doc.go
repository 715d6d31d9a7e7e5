// Package store keeps what a GoMoNNto run computes: results folders that
// numpy opens, and checkpoints from which a run continues bit for bit.
//
// # Results folders
//
// Create makes a folder for one run (PymoNNto's StorageManager folder):
// manifest.json holds the parameters, seed, backend and device, the
// network's groups and sizes, the GoMoNNto version and VCS commit, the Go
// version, the command line, start and end time, status and results;
// SaveRecorders writes what every recorder holds, spikes as (iteration,
// index) pairs (spikes/<group>.<variable>.npy, int32, n x 2) and series
// as records x width float32 arrays with their iterations. Every file is
// written atomically and listed with its SHA-256. List and Table read the
// runs under a folder as a table of parameters and results (PymoNNto's
// StorageManagerGroup); ReadArray loads an array, checking its checksum.
// In numpy: np.load("run/spikes/E.fired.npy").
//
// Arrays are .npy (numpy's own format, read by every analysis stack) and
// not SONATA's HDF5 spike files: no maintained pure-Go HDF5 writer is
// served to this project (scigolib/hdf5 is a young beta, not in the
// module list), and the cgo one needs libhdf5 in every build. A spikes
// array maps onto SONATA's /spikes/<population>/{timestamps, node_ids}
// column for column (timestamps = iteration * dt).
//
// # Checkpoints
//
// Save writes a network's whole state (core.Snapshot: the iteration, the
// generator's seed and draw counter, every tensor of the backend in the
// order made, private ones included, sparse structures, delays, delay
// rings with the spikes still in transit, recorders' data so far,
// behaviours' own state through core.Stater) to one .npz file: a zip of
// .npy arrays (stored, not compressed) and manifest.json, which np.load
// opens. The format is versioned (FormatVersion). A checkpoint is written
// to a temporary file, fsync'd, renamed over its name and the folder
// fsync'd, so a crash at any point leaves either the previous file or the
// complete new one; Save refuses a state holding NaN or infinity, so a
// diverged run never replaces its last good checkpoint.
//
// Load reads a checkpoint into a network built and initialised by the same
// program. Before it changes anything it checks the format version
// (ErrVersion), the fingerprint of the network (groups, behaviours, every
// tensor's variables and shape, rings, recorders: ErrFingerprint, naming
// the first difference), each entry's SHA-256 and CRC-32 (ErrCorrupt,
// naming the file and entry), the sparse structures and the delays. A
// run resumed on the same backend continues bit for bit (the cpu always;
// gl with backend.Options.Deterministic, since its fast scatters add with
// float atomics in the order the device schedules them); a checkpoint of
// one backend loads on the other within the backends' conformance
// tolerance.
//
// Checkpointer writes checkpoints every N steps and on SIGUSR1 (Slurm's
// warning before preemption: --signal=B:USR1@S), SIGTERM and SIGINT (then
// the run stops with ErrStopped), keeps the newest K and removes files
// left half-written; give it to SimulateIterations as a step hook.
// Resume loads the newest valid checkpoint of a folder, skipping corrupt
// ones with a warning.
//
//	ck := &store.Checkpointer{Dir: "ckpt", Every: 10000, Signals: true}
//	if _, err := store.Resume(net, "ckpt", os.Stderr); err != nil && !errors.Is(err, store.ErrNoCheckpoint) {
//		return err
//	}
//	err := net.SimulateIterations(steps, core.SimOptions{Hooks: []core.StepHook{ck}})
//
// StateHash is a SHA-256 of the state, to compare two runs bit for bit.
package store
