// Package sweep runs parameter sweeps and evolution: a program (any
// example binary with its flags, or a Go function) evaluated at the
// points of a spec, on every core of this machine or as Slurm array jobs
// (a Kubernetes Indexed Job on paper), with every point's result in one
// table (CSV and Parquet). It is PymoNNto's Evolution and
// StorageManagerGroup, made reproducible, restartable and safe.
//
// # Spec
//
// A spec is a JSON file (ReadSpec; unknown fields are errors):
//
//	{"name": "coba-we", "seed": 1, "method": "grid",
//	 "params": [{"name": "we", "values": [0.3, 0.45, 0.6, 0.75]}],
//	 "objective": {"command": "{bin} -backend cpu -n 400 -seed {seed} -we {we} -json -steps {steps} {resume} -checkpoint {ckpt} -checkpoint-every 5000",
//	               "vars": {"bin": "./coba"}, "steps": 20000},
//	 "attempts": 2, "threads": 1, "timeout": "10m"}
//
// Methods: grid (the Cartesian product of the parameters' values, or of
// steps values from min to max, log-spaced with log), list ("points":
// [{...}, ...]), random ("samples" draws in [min, max]), cmaes (gonum's
// CmaEsChol with a seeded source: "generations", "population",
// "cmaes": {"step"}; parameters in units of their range, reflected into
// it) and ga (PymoNNto's genetic algorithm, seeded: "population" is its
// individual_count, "ga": {"mutation": 0.4, "death_rate": 0.5,
// "constraints": ["b >= a"], "start": [{...}]}). Optimisers score a
// point by a field of its result: "objective": {"score": "rate_hz",
// "target": 8} minimises |rate_hz - 8|, "goal": "max" maximises.
//
// Every point has a stable ID, the first 12 hex digits of the SHA-256 of
// its parameters (PointID), and its own seed, derived from the sweep's
// seed and the ID (PointSeed), so a sweep run twice gives the same table
// and a point is the same wherever it runs.
//
// # Objective
//
// The objective is a command template run per point (see template.go for
// the placeholders: {<param>}, {seed}, {id}, {dir}, {ckpt}, {steps},
// {threads}, {attempt}, vars, and the whole words {flags} and {resume}),
// whose last stdout line is the point's result, a JSON object (what the
// examples print with -json), or a Go function (Objective) given to Run.
// The command runs without a shell, in its own process group, with
// GOMAXPROCS set to the spec's threads (the cpu backend then uses that
// many threads). With {resume}, a point that has a checkpoint continues
// from it (-resume) for the steps that are left ({steps}), so an attempt
// stopped by SIGTERM, a crash or a Slurm requeue does not start over.
//
// A point is tried up to attempts times; a point that fails every
// attempt, prints no JSON, names a parameter the spec does not declare
// or times out gets a failed result with the reason, on the console and
// in the table, and the other points go on.
//
// # Folder
//
// A sweep lives in one folder (Create, Open): spec.json,
// generations/NNNN.json (the points of each generation as proposed),
// points/<id>/ (point.json: attempts, restarts, wall time;
// manifest.json: the result, a results folder's manifest that
// store.Open, store.List and store.Table read; log: every attempt's
// output; ckpt/: checkpoints), results.csv and results.parquet (Gather),
// subs/NNNN.json (submissions to a scheduler), slurm/ and kube/ (scripts,
// manifests, job logs), bin/gomonnto (the driver the jobs run). Every
// file is written atomically (temporary file, fsync, rename, folder
// fsync). A point has a result once its manifest.json exists; running a
// sweep again evaluates only the points without one.
//
// # Local runs
//
// Run evaluates the points without a result on this machine, Workers at
// a time; Workers times the spec's threads never exceed the cores
// (WorkerBudget). It prints a progress line per point. SIGINT or
// SIGTERM to the driver (cancel ctx) stops the running points with
// SIGTERM, on which the examples write a checkpoint; a driver killed
// with SIGKILL takes its points with it (Pdeathsig). Run again, it goes
// on.
//
// # Optimisers and exact resume
//
// An optimiser's state is never stored. The driver replays the seeded
// optimiser from the start against the stored results (memoised by
// point ID) until it proposes a generation with a point without a
// result: that is the one to evaluate. Replayed generations are checked
// against generations/*.json. So a driver interrupted at any point, or a
// chain of Slurm jobs, proposes exactly what an uninterrupted run
// proposes, and no point is evaluated twice (a GA's survivors, proposed
// again, keep their result; PymoNNto evaluates them again).
//
// The GA ports PymoNNto's Default_Breed_And_Select: sort by score (best
// first), drop int(n*death_rate), update mate_chance = (mate_chance +
// score)/2 (1 at first), keep the survivors and fill the population with
// children of two parents drawn with probability proportional to
// mate_chance, each gene N(g, max(g*mutation, 0)) of one parent or the
// other, drawn again until the constraints and the parameters' bounds
// hold. Where PymoNNto's weights break (negative scores), they are
// shifted so the smallest is 1. It is seeded per generation.
//
// # Slurm
//
// Submit writes and submits an array job for the current generation's
// points without a result (one task per point, --array=0-N%K,
// --requeue, --signal=B:USR1@S, --cpus-per-task=threads, per-task logs
// in slurm/logs and per-point logs in points/<id>/log) and a gather job
// with --dependency=afterany on it. A task runs gomonnto sweep task,
// exec'd so that it is the batch shell: SIGUSR1 is passed on to the
// point (it checkpoints and goes on), SIGTERM stops it after a
// checkpoint, and a requeued task resumes from it (SLURM_RESTART_COUNT
// is the table's restarts). The gather job writes the table and, for an
// optimiser, submits the next generation, so no driver needs to stay up.
// Status reads squeue and the folder: done, failed, running, pending,
// interrupted (started, no result, not queued) and missing; Resubmit
// sends only the points without a result that are not queued.
//
// # Kubernetes
//
// KubeJob writes the same array as an Indexed Job manifest with the
// sweep folder on a volume: see KUBERNETES.md.
//
// # Table
//
// One row per point (Rows, WriteCSV, WriteParquet, ReadParquet): id,
// generation, index, the parameters, seed, status, attempts, failures,
// restarts, resumed_from, error, wall_s (all attempts), backend, device,
// and result_<field> for every field of the results (numbers as
// doubles, lists and objects as JSON text). Runs returns the points as
// results folders (store.List), which store.Table prints.
//
// The command is gomonnto sweep (cmd/gomonnto): run, submit, status,
// resubmit, gather, table, kube, task; gomonnto sweep -h says more.
package sweep
