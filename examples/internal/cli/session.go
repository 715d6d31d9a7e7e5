package cli

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strings"
	"time"

	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/store"
)

// The flags that keep a run: -save (a results folder), -checkpoint with
// -checkpoint-every, -resume, and -nan-guard.
type keepFlags struct {
	save, checkpoint, resume *string
	every, guard             *int
	deterministic            *bool
}

var keep keepFlags

// current is the results folder of this run (-save), finished by Fail
// with status failed.
var current *store.Run

func registerKeep() {
	keep = keepFlags{
		save:          flag.String("save", "", "write a results folder (manifest.json, recorded data as .npy) under this folder"),
		checkpoint:    flag.String("checkpoint", "", "write checkpoints into this folder (every -checkpoint-every steps, and on SIGUSR1, SIGTERM, SIGINT)"),
		every:         flag.Int("checkpoint-every", 0, "steps between checkpoints with -checkpoint (0: only on signals and at the end)"),
		resume:        flag.String("resume", "", "continue from the newest valid checkpoint in this folder; -steps then counts the steps still to run (-steps 0: load and report)"),
		guard:         flag.Int("nan-guard", 0, "stop with an error when a variable holds NaN or infinity, checked every N steps on the device (0: off)"),
		deterministic: flag.Bool("deterministic", false, "gl: ordered spike scatters instead of float atomics, so that runs (and resumed runs) agree bit for bit (slower on GPUs)"),
	}
}

// params are the flags as the results folder's parameters.
func params() map[string]any {
	p := map[string]any{}
	flag.VisitAll(func(f *flag.Flag) {
		if g, ok := f.Value.(flag.Getter); ok {
			p[f.Name] = g.Get()
		} else {
			p[f.Name] = f.Value.String()
		}
	})
	for k, v := range p {
		if d, ok := v.(time.Duration); ok {
			p[k] = d.String()
		}
	}
	return p
}

// Initialize adds the NaN guard (-nan-guard) and initialises the network.
func (f *Flags) Initialize(net *core.Network) error {
	if *keep.guard < 0 {
		return fmt.Errorf("-nan-guard=%d: must not be negative", *keep.guard)
	}
	if *keep.guard > 0 {
		if err := net.AddBehavior(1e12, &core.NaNGuard{Every: *keep.guard}); err != nil {
			return err
		}
	}
	return net.Initialize()
}

// Resuming reports whether -resume was given.
func (f *Flags) Resuming() bool { return *keep.resume != "" }

// Resume loads the newest valid checkpoint of -resume into an initialised
// network (once; Run calls it if the example did not) and reports whether
// it did.
func (f *Flags) Resume(net *core.Network) (bool, error) {
	if *keep.resume == "" || f.resumed {
		return f.resumed, nil
	}
	t0 := time.Now()
	path, err := store.Resume(net, *keep.resume, os.Stderr)
	if err != nil {
		return false, fmt.Errorf("-resume: %w", err)
	}
	f.resumed = true
	fmt.Fprintf(os.Stderr, "resumed from %s at iteration %d (loaded in %.2f s)\n", path, net.Iteration, time.Since(t0).Seconds())
	return true, nil
}

// Run runs -steps steps of an initialised network as every example does:
// it resumes from -resume first (if not done yet), writes checkpoints to
// -checkpoint (and one at the end), profiles the loop with -cpuprofile,
// and returns the wall time of the loop in seconds (after the backend has
// finished). With -ui it serves the browser UI instead and runs the
// network until a client quits or SIGINT/SIGTERM arrives; StepsRun tells
// the steps run.
func (f *Flags) Run(net *core.Network, opt core.SimOptions) (float64, error) {
	f.ran = 0
	if _, err := f.Resume(net); err != nil {
		return 0, err
	}
	if err := f.checkUIFlags(opt); err != nil {
		return 0, err
	}
	it0 := net.Iteration
	defer func() { f.ran = net.Iteration - it0 }()
	if *keep.every < 0 {
		return 0, fmt.Errorf("-checkpoint-every=%d: must not be negative", *keep.every)
	}
	if *keep.every > 0 && *keep.checkpoint == "" {
		return 0, errors.New("-checkpoint-every needs -checkpoint DIR")
	}
	var ck *store.Checkpointer
	if *keep.checkpoint != "" {
		ck = &store.Checkpointer{Dir: *keep.checkpoint, Every: *keep.every, Signals: true, Log: os.Stderr}
		if err := ck.Start(); err != nil {
			return 0, err
		}
		defer ck.Stop()
		opt.Hooks = append(opt.Hooks, ck)
	}
	if cpuProfile != nil && *cpuProfile != "" {
		pf, err := os.Create(*cpuProfile)
		if err != nil {
			return 0, fmt.Errorf("-cpuprofile: %w", err)
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return 0, fmt.Errorf("-cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	if f.UIEnabled() {
		wall, err := f.serveUI(net, opt.Hooks)
		if errors.Is(err, store.ErrStopped) { // SIGTERM/SIGINT: checkpointed, then stopped
			err = nil
		}
		if err == nil && ck != nil {
			_, err = ck.Save(net)
		}
		return wall, err
	}
	t0 := time.Now()
	if err := net.SimulateIterations(*f.Steps, opt); err != nil {
		return 0, err
	}
	if err := net.Backend().Sync(); err != nil {
		return 0, err
	}
	wall := time.Since(t0).Seconds()
	if ck != nil {
		if _, err := ck.Save(net); err != nil {
			return wall, err
		}
	}
	return wall, nil
}

// Recorded describes what the network's recorders record ("E: fired
// (events)", "S: mean(W[0:1048576]) every 10 steps").
func Recorded(net *core.Network) []string {
	out := []string{}
	for _, b := range net.Order() {
		r, ok := b.(*core.Recorder)
		if !ok {
			continue
		}
		how := ""
		if r.IsEvents() {
			how = " (events)"
		}
		if g := r.Options().Gap; g > 1 {
			how += fmt.Sprintf(" every %d steps", g)
		}
		for _, v := range r.Variables() {
			out = append(out, core.ObjectName(r.Owner())+": "+v+how)
		}
	}
	sort.Strings(out)
	return out
}

// startSave makes the results folder of -save, with status running until
// Finish (or Fail) ends it.
func startSave(net *core.Network) error {
	if *keep.save == "" || current != nil {
		return nil
	}
	name := filepath.Base(os.Args[0])
	run, err := store.Create(*keep.save, name, store.RunOptions{Params: params(), Seed: net.Seed()})
	if err != nil {
		return fmt.Errorf("-save: %w", err)
	}
	run.Describe(net)
	current = run
	return nil
}

// failSave ends the results folder with status failed (or interrupted).
func failSave(err error) {
	if current == nil {
		return
	}
	status := store.StatusFailed
	if errors.Is(err, store.ErrStopped) {
		status = store.StatusInterrupted
	}
	current.Finish(status, nil, err)
	current = nil
}

// Finish completes a run: it adds iteration, state_sha256 and recorded
// to the result, writes the results folder (-save) with every recorder's
// data and the result, and prints the -json line.
func (f *Flags) Finish(net *core.Network, r *Result) error {
	if r.Extra == nil {
		r.Extra = map[string]any{}
	}
	r.Extra["iteration"] = net.Iteration
	r.Extra["recorded"] = Recorded(net)
	if *f.JSON || *keep.save != "" {
		h, err := store.StateHash(net)
		if err != nil {
			return err
		}
		r.Extra["state_sha256"] = h
	}
	if run := current; run != nil {
		run.Describe(net)
		files, err := run.SaveRecorders(net)
		if err != nil {
			return fmt.Errorf("-save: %w", err)
		}
		res, err := r.Map()
		if err != nil {
			return err
		}
		if err := run.Finish(store.StatusDone, res, nil); err != nil {
			return fmt.Errorf("-save: %w", err)
		}
		current = nil
		fmt.Fprintf(os.Stderr, "results folder %s (%s)\n", run.Dir, strings.Join(files, ", "))
	}
	if *f.JSON {
		return r.Print(os.Stdout)
	}
	return nil
}

// Record adds to each group, at key 9 (after the model's behaviours), a
// recorder of vars, or an event recorder of them when events is set,
// tagged tag (tag_<group name> when there are several groups).
func Record(events bool, vars []string, tag string, groups ...*core.NeuronGroup) ([]*core.Recorder, error) {
	recs := make([]*core.Recorder, len(groups))
	for k, g := range groups {
		opts := core.RecorderOptions{Tag: tag}
		if len(groups) > 1 {
			opts.Tag = tag + "_" + g.Name()
		}
		if events {
			recs[k] = core.NewEventRecorder(vars, opts)
		} else {
			recs[k] = core.NewRecorder(vars, opts)
		}
		if err := g.AddBehavior(9, recs[k]); err != nil {
			return nil, err
		}
	}
	return recs, nil
}

// Simulate initialises net (Initialize) and runs it (Run, with opt), and
// returns the wall time of the loop in seconds. before, if not nil, runs
// between the two (a UI view that needs the initialised network).
func (f *Flags) Simulate(net *core.Network, opt core.SimOptions, before func()) (float64, error) {
	if err := f.Initialize(net); err != nil {
		return 0, err
	}
	if before != nil {
		before()
	}
	return f.Run(net, opt)
}
