package sweep

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// SlurmOptions configure the Slurm jobs of a sweep.
type SlurmOptions struct {
	// Throttle runs at most this many of the array's tasks at once (%K;
	// 0: no limit).
	Throttle int `json:"throttle,omitempty"`
	// SignalBefore is how many seconds before a task's time limit (or
	// preemption) Slurm sends SIGUSR1, on which the point checkpoints
	// (--signal=B:USR1@S; 120 if 0).
	SignalBefore int `json:"signal_before,omitempty"`
	// Time, Partition and Account are sbatch's --time, --partition and
	// --account (none if empty).
	Time      string `json:"time,omitempty"`
	Partition string `json:"partition,omitempty"`
	Account   string `json:"account,omitempty"`
	// Args are more sbatch options, one per element ("--mem=2G").
	Args []string `json:"args,omitempty"`
	// Driver is the gomonnto binary the jobs run (empty: this program,
	// copied to bin/gomonnto in the sweep folder, so that jobs run the
	// same driver even when it was started with go run).
	Driver string `json:"driver,omitempty"`
	// Sbatch and Squeue are the commands (sbatch, squeue if empty).
	Sbatch string `json:"sbatch,omitempty"`
	Squeue string `json:"squeue,omitempty"`
	// DryRun writes the scripts but submits nothing.
	DryRun bool `json:"-"`
}

// Submission is one array of points sent to a scheduler
// (subs/<number>.json): task i of the array evaluates point IDs[i].
type Submission struct {
	Number     int       `json:"number"`
	Kind       string    `json:"kind"` // slurm, kube
	Generation int       `json:"generation"`
	IDs        []string  `json:"ids"`
	Time       time.Time `json:"time"`
	// ArrayJob and GatherJob are Slurm's job IDs.
	ArrayJob  string `json:"array_job,omitempty"`
	GatherJob string `json:"gather_job,omitempty"`
	// Script and GatherScript are the batch scripts (a Kubernetes Job's
	// manifest).
	Script       string `json:"script"`
	GatherScript string `json:"gather_script,omitempty"`
}

// ErrFinished is returned by Submit and Resubmit when every point has a
// result and no generation is left.
var ErrFinished = errors.New("the sweep is finished: every point has a result")

func (s *Sweep) subPath(n int) string {
	return filepath.Join(s.Dir, "subs", fmt.Sprintf("%04d.json", n))
}

// Submissions returns the sweep's submissions, oldest first.
func (s *Sweep) Submissions() ([]Submission, error) {
	var out []Submission
	for n := 1; ; n++ {
		b, err := os.ReadFile(s.subPath(n))
		if errors.Is(err, os.ErrNotExist) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("sweep: %w", err)
		}
		var sub Submission
		if err := json.Unmarshal(b, &sub); err != nil {
			return nil, fmt.Errorf("sweep: %s is broken: %v", s.subPath(n), err)
		}
		out = append(out, sub)
	}
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// absDir is the sweep folder's absolute path.
func (s *Sweep) absDir() (string, error) {
	d, err := filepath.Abs(s.Dir)
	if err != nil {
		return "", fmt.Errorf("sweep: %w", err)
	}
	return d, nil
}

// driver returns the gomonnto binary for the jobs, copying this program
// into the folder if o.Driver is empty.
func (s *Sweep) driver(o SlurmOptions) (string, error) {
	if o.Driver != "" {
		return filepath.Abs(o.Driver)
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("sweep: find this program to copy it for the jobs: %w; give SlurmOptions.Driver (-driver)", err)
	}
	dir, err := s.absDir()
	if err != nil {
		return "", err
	}
	dst := filepath.Join(dir, "bin", "gomonnto")
	return dst, copyExecutable(exe, dst)
}

// pendingIDs returns the current generation and its points without a
// result; skip drops more.
func (s *Sweep) pendingIDs(skip map[string]bool) (int, []string, error) {
	cur, pts, _, err := s.current()
	if err != nil {
		return 0, nil, err
	}
	if cur < 0 {
		return -1, nil, ErrFinished
	}
	var ids []string
	for _, p := range pts {
		m, err := s.result(p.ID)
		if err != nil {
			return 0, nil, err
		}
		if m == nil && !skip[p.ID] {
			ids = append(ids, p.ID)
		}
	}
	return cur, ids, nil
}

// Submit sends the current generation's points without a result to
// Slurm as an array job (one task per point, at most Throttle at once,
// requeued on preemption or node failure, warned with SIGUSR1 to
// checkpoint) and a gather job that runs when the array has ended
// (afterany): it writes the table and, for an optimiser, submits the
// next generation. Progress lines go to log.
func (s *Sweep) Submit(ctx context.Context, o SlurmOptions, log io.Writer) (*Submission, error) {
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := os.MkdirAll(filepath.Join(s.Dir, "slurm"), 0o755); err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	if err := writeJSON(filepath.Join(s.Dir, "slurm", "options.json"), o); err != nil {
		return nil, err
	}
	gen, ids, err := s.pendingIDs(nil)
	if err != nil {
		return nil, err
	}
	return s.submit(ctx, o, gen, ids, log)
}

// Resubmit sends the current generation's points that have no result
// and are neither pending nor running in Slurm (lost, cancelled, never
// started) as a new array and gather job.
func (s *Sweep) Resubmit(ctx context.Context, o SlurmOptions, log io.Writer) (*Submission, error) {
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	q, err := s.queue(ctx, o)
	if err != nil {
		return nil, err
	}
	skip := map[string]bool{}
	for id := range q {
		skip[id] = true
	}
	gen, ids, err := s.pendingIDs(skip)
	if err != nil {
		return nil, err
	}
	return s.submit(ctx, o, gen, ids, log)
}

func (s *Sweep) submit(ctx context.Context, o SlurmOptions, gen int, ids []string, log io.Writer) (*Submission, error) {
	if log == nil {
		log = io.Discard
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("sweep: nothing to submit: every point of generation %d has a result or is in the queue (see status)", gen)
	}
	subs, err := s.Submissions()
	if err != nil {
		return nil, err
	}
	sub := &Submission{Number: len(subs) + 1, Kind: "slurm", Generation: gen, IDs: ids, Time: time.Now().UTC()}
	drv, err := s.driver(o)
	if err != nil {
		return nil, err
	}
	dir, err := s.absDir()
	if err != nil {
		return nil, err
	}
	for _, d := range []string{"subs", "slurm/logs"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("sweep: %w", err)
		}
	}
	sub.Script = filepath.Join(dir, "slurm", fmt.Sprintf("sub-%04d.sh", sub.Number))
	sub.GatherScript = filepath.Join(dir, "slurm", fmt.Sprintf("gather-%04d.sh", sub.Number))
	arr, gat := s.slurmScripts(o, sub, drv, dir)
	if err := writeFile(sub.Script, []byte(arr)); err != nil {
		return nil, err
	}
	if err := writeFile(sub.GatherScript, []byte(gat)); err != nil {
		return nil, err
	}
	if err := writeJSON(s.subPath(sub.Number), sub); err != nil {
		return nil, err
	}
	if o.DryRun {
		fmt.Fprintf(log, "sweep %s: wrote %s (%d points of generation %d) and %s; not submitted (dry run)\n", s.Spec.Name, sub.Script, len(ids), gen, sub.GatherScript)
		return sub, nil
	}
	sbatch := o.Sbatch
	if sbatch == "" {
		sbatch = "sbatch"
	}
	if sub.ArrayJob, err = runSbatch(ctx, sbatch, sub.Script); err != nil {
		return nil, err
	}
	if err := writeJSON(s.subPath(sub.Number), sub); err != nil {
		return nil, err
	}
	if sub.GatherJob, err = runSbatch(ctx, sbatch, "--dependency=afterany:"+sub.ArrayJob, sub.GatherScript); err != nil {
		return nil, fmt.Errorf("%w (the array job %s was submitted; run gather yourself when it ends)", err, sub.ArrayJob)
	}
	if err := writeJSON(s.subPath(sub.Number), sub); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "sweep %s: generation %d: array job %s (%d points) and gather job %s submitted\n",
		s.Spec.Name, gen, sub.ArrayJob, len(ids), sub.GatherJob)
	return sub, nil
}

// slurmScripts writes the array and gather batch scripts.
func (s *Sweep) slurmScripts(o SlurmOptions, sub *Submission, drv, dir string) (string, string) {
	sig := o.SignalBefore
	if sig == 0 {
		sig = 120
	}
	th := s.Spec.threads()
	common := func(b *strings.Builder) {
		for _, x := range [][2]string{{"time", o.Time}, {"partition", o.Partition}, {"account", o.Account}} {
			if x[1] != "" {
				fmt.Fprintf(b, "#SBATCH --%s=%s\n", x[0], x[1])
			}
		}
		for _, a := range o.Args {
			fmt.Fprintf(b, "#SBATCH %s\n", a)
		}
	}
	var a strings.Builder
	fmt.Fprintf(&a, "#!/bin/bash\n# Written by gomonnto sweep submit: sweep %s, generation %d, submission %d: task i evaluates point i of %s.\n",
		s.Spec.Name, sub.Generation, sub.Number, s.subPath(sub.Number))
	array := fmt.Sprintf("0-%d", len(sub.IDs)-1)
	if o.Throttle > 0 {
		array += fmt.Sprintf("%%%d", o.Throttle)
	}
	fmt.Fprintf(&a, "#SBATCH --job-name=%s\n#SBATCH --array=%s\n#SBATCH --requeue\n#SBATCH --signal=B:USR1@%d\n#SBATCH --cpus-per-task=%d\n",
		s.Spec.Name, array, sig, th)
	fmt.Fprintf(&a, "#SBATCH --output=%s\n#SBATCH --open-mode=append\n", filepath.Join(dir, "slurm", "logs", fmt.Sprintf("sub-%04d_%%a.out", sub.Number)))
	common(&a)
	fmt.Fprintf(&a, "export GOMAXPROCS=${SLURM_CPUS_PER_TASK:-%d}\n", th)
	fmt.Fprintf(&a, "# exec: the driver is the batch shell, so that it gets --signal's USR1 and passes it on.\n")
	fmt.Fprintf(&a, "exec %s sweep task -out %s -sub %d\n", shellQuote(drv), shellQuote(dir), sub.Number)
	var g strings.Builder
	fmt.Fprintf(&g, "#!/bin/bash\n# Written by gomonnto sweep submit: gathers submission %d of sweep %s (runs after its array, afterany).\n", sub.Number, s.Spec.Name)
	fmt.Fprintf(&g, "#SBATCH --job-name=%s-gather\n#SBATCH --cpus-per-task=1\n#SBATCH --output=%s\n#SBATCH --open-mode=append\n",
		s.Spec.Name, filepath.Join(dir, "slurm", "logs", fmt.Sprintf("gather-%04d.out", sub.Number)))
	common(&g)
	fmt.Fprintf(&g, "exec %s sweep gather -out %s -next\n", shellQuote(drv), shellQuote(dir))
	return a.String(), g.String()
}

// runSbatch submits with sbatch --parsable and returns the job ID.
func runSbatch(ctx context.Context, sbatch string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, sbatch, append([]string{"--parsable"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("sweep: %s %s: %v: %s", sbatch, strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	id, _, _ := strings.Cut(strings.TrimSpace(out.String()), ";")
	if _, err := strconv.Atoi(id); err != nil {
		return "", fmt.Errorf("sweep: %s printed %q, not a job ID", sbatch, out.String())
	}
	return id, nil
}

// queue returns the Slurm state (pending, running) of the sweep's points
// that are in the queue, from squeue.
func (s *Sweep) queue(ctx context.Context, o SlurmOptions) (map[string]string, error) {
	subs, err := s.Submissions()
	if err != nil {
		return nil, err
	}
	task := map[string]string{} // "<job>_<index>" -> point
	jobs := map[string]bool{}
	for _, sub := range subs {
		if sub.Kind != "slurm" || sub.ArrayJob == "" {
			continue
		}
		jobs[sub.ArrayJob] = true
		for i, id := range sub.IDs {
			task[fmt.Sprintf("%s_%d", sub.ArrayJob, i)] = id
		}
	}
	out := map[string]string{}
	if len(jobs) == 0 {
		return out, nil
	}
	squeue := o.Squeue
	if squeue == "" {
		squeue = "squeue"
	}
	cmd := exec.CommandContext(ctx, squeue, "-h", "-r", "-o", "%i|%T")
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("sweep: %s: %v: %s", squeue, err, strings.TrimSpace(se.String()))
	}
	for _, line := range strings.Split(so.String(), "\n") {
		jid, state, ok := strings.Cut(strings.TrimSpace(line), "|")
		if !ok {
			continue
		}
		for _, jt := range expandTasks(jid) {
			id, ok := task[jt]
			if !ok {
				continue
			}
			setState(out, id, state)
		}
	}
	return out, nil
}

// expandTasks expands squeue's "<job>_[2-5,7%2]" (pending tasks not
// split out yet) into "<job>_2", ... ("<job>_3" stays as it is).
func expandTasks(jid string) []string {
	job, rest, ok := strings.Cut(jid, "_[")
	if !ok || !strings.HasSuffix(rest, "]") {
		return []string{jid}
	}
	rest, _, _ = strings.Cut(strings.TrimSuffix(rest, "]"), "%")
	var out []string
	for _, r := range strings.Split(rest, ",") {
		lo, hi, isRange := strings.Cut(r, "-")
		a, err1 := strconv.Atoi(lo)
		b, err2 := a, error(nil)
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || b-a > 1<<20 {
			continue
		}
		for i := a; i <= b; i++ {
			out = append(out, job+"_"+strconv.Itoa(i))
		}
	}
	return out
}

// setState records Slurm's state of a point's task: running, or pending
// (queued, held, requeued, suspended); the others are ignored.
func setState(out map[string]string, id, state string) {
	switch state {
	case "RUNNING", "COMPLETING", "STAGE_OUT", "SIGNALING":
		out[id] = statusRunning
	case "PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "CONFIGURING", "SUSPENDED", "RESIZING":
		if out[id] != statusRunning {
			out[id] = statusPending
		}
	}
}

// Report is the state of a sweep (Status).
type Report struct {
	// Generation is the one being evaluated (-1: the sweep is finished)
	// of Generations proposed.
	Generation, Generations int
	// Rows are the points, their Status overlaid with Slurm's pending and
	// running.
	Rows []Row
	// Counts counts the rows by status.
	Counts map[string]int
	Subs   []Submission
	// QueueErr says why Slurm's queue could not be read (nil: it was, or
	// nothing was submitted).
	QueueErr error
}

// Status reports the sweep's points: done, failed, running and pending
// (in Slurm's queue), interrupted (started, no result, not queued) and
// missing (never started, not queued).
func (s *Sweep) Status(ctx context.Context, o SlurmOptions) (*Report, error) {
	cur, _, gens, err := s.current()
	if err != nil {
		return nil, err
	}
	rows, err := s.Rows()
	if err != nil {
		return nil, err
	}
	r := &Report{Generation: cur, Generations: len(gens), Rows: rows, Counts: map[string]int{}}
	if r.Subs, err = s.Submissions(); err != nil {
		return nil, err
	}
	q, qerr := s.queue(ctx, o)
	r.QueueErr = qerr
	for k := range r.Rows {
		row := &r.Rows[k]
		if row.Status != statusDone && row.Status != statusFailed {
			if st, ok := q[row.ID]; ok {
				row.Status = st
			}
		}
		r.Counts[row.Status]++
	}
	return r, nil
}

// Print writes the report: a line of counts, then every point not done.
func (r *Report) Print(w io.Writer, all bool) {
	gen := fmt.Sprintf("generation %d of %d proposed", r.Generation, r.Generations)
	if r.Generation < 0 {
		gen = fmt.Sprintf("finished (%d generations)", r.Generations)
	}
	fmt.Fprintf(w, "%d points: %d done, %d failed, %d running, %d pending, %d interrupted, %d missing; %s\n",
		len(r.Rows), r.Counts[statusDone], r.Counts[statusFailed], r.Counts[statusRunning], r.Counts[statusPending],
		r.Counts[statusInterrupted], r.Counts[statusMissing], gen)
	if r.QueueErr != nil {
		fmt.Fprintf(w, "warning: Slurm's queue was not read (%v): pending and running points show as interrupted or missing\n", r.QueueErr)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	rows := append([]Row(nil), r.Rows...)
	sort.SliceStable(rows, func(a, b int) bool { return rows[a].Generation < rows[b].Generation })
	head := false
	for _, row := range rows {
		if !all && row.Status == statusDone {
			continue
		}
		if !head {
			fmt.Fprintln(tw, "id\tgen\tparams\tstatus\tattempts\trestarts\terror")
			head = true
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\t%d\t%s\n", row.ID, row.Generation, describe(row.Params), row.Status, row.Attempts, row.Restarts, row.Error)
	}
	tw.Flush()
}

// findPoint finds the point id among the generations.
func (s *Sweep) findPoint(id string) (Point, error) {
	gens, err := s.Generations()
	if err != nil {
		return Point{}, err
	}
	for _, pts := range gens {
		for _, p := range pts {
			if p.ID == id {
				return p, nil
			}
		}
	}
	return Point{}, fmt.Errorf("sweep: point %s is in no generation of %s", id, s.Dir)
}

// Task evaluates task index of submission sub (what a Slurm array task
// or a Kubernetes Job's pod runs): its point, unless it has a result
// already, resuming from its checkpoint after a requeue. sigs are passed
// on to the objective (SIGUSR1); cancel ctx on SIGTERM. It returns an
// error if the point failed or was interrupted.
func (s *Sweep) Task(ctx context.Context, obj Objective, sub, index int, sigs <-chan os.Signal, log io.Writer) error {
	if log == nil {
		log = io.Discard
	}
	b, err := os.ReadFile(s.subPath(sub))
	if err != nil {
		return fmt.Errorf("sweep: submission %d: %w", sub, err)
	}
	var su Submission
	if err := json.Unmarshal(b, &su); err != nil {
		return fmt.Errorf("sweep: %s is broken: %v", s.subPath(sub), err)
	}
	if index < 0 || index >= len(su.IDs) {
		return fmt.Errorf("sweep: task index %d: submission %d has tasks 0 to %d", index, sub, len(su.IDs)-1)
	}
	p, err := s.findPoint(su.IDs[index])
	if err != nil {
		return err
	}
	if m, err := s.result(p.ID); err != nil {
		return err
	} else if m != nil {
		fmt.Fprintf(log, "sweep %s: point %s has a result already (%s)\n", s.Spec.Name, p.ID, m.Status)
		return nil
	}
	if obj == nil {
		if obj, err = s.commandObjective(); err != nil {
			return err
		}
	}
	fmt.Fprintf(log, "sweep %s: point %s (%s), submission %d task %d, restart %s\n", s.Spec.Name, p.ID, describe(p.Params), sub, index, os.Getenv("SLURM_RESTART_COUNT"))
	t0 := time.Now()
	status, err := s.evaluate(ctx, p, obj, sigs, func(line string) { fmt.Fprintf(log, "sweep %s: %s\n", s.Spec.Name, line) })
	switch status {
	case "":
		return err
	case statusDone:
		fmt.Fprintf(log, "sweep %s: point %s done in %.1f s\n", s.Spec.Name, p.ID, time.Since(t0).Seconds())
		return nil
	}
	return fmt.Errorf("sweep %s: point %s %s: %w", s.Spec.Name, p.ID, status, err)
}

// GatherNext writes the table and, with next, continues the sweep on
// Slurm: if the current generation has no submission yet (an optimiser's
// next generation), it submits it with the options of the last Submit.
// Points of a submitted generation still without a result are reported
// (resubmit sends them).
func (s *Sweep) GatherNext(ctx context.Context, next bool, log io.Writer) error {
	if log == nil {
		log = io.Discard
	}
	rows, err := s.Gather()
	if err != nil {
		return err
	}
	counts := map[string]int{}
	for _, r := range rows {
		counts[r.Status]++
	}
	fmt.Fprintf(log, "sweep %s: table of %d points written to %s (results.csv, results.parquet): %d done, %d failed\n",
		s.Spec.Name, len(rows), s.Dir, counts[statusDone], counts[statusFailed])
	for _, r := range rows {
		if r.Status == statusFailed {
			fmt.Fprintf(log, "  failed: point %s (%s): %s\n", r.ID, describe(r.Params), r.Error)
		}
	}
	if !next {
		return nil
	}
	cur, pts, _, err := s.current()
	if err != nil {
		return err
	}
	if cur < 0 {
		fmt.Fprintf(log, "sweep %s: finished\n", s.Spec.Name)
		return nil
	}
	subs, err := s.Submissions()
	if err != nil {
		return err
	}
	for _, sub := range subs {
		if sub.Generation == cur {
			var left []string
			for _, p := range pts {
				if m, _ := s.result(p.ID); m == nil {
					left = append(left, p.ID)
				}
			}
			return fmt.Errorf("sweep %s: generation %d has %d points without a result (%s); if they are not in the queue (status), send them again with resubmit",
				s.Spec.Name, cur, len(left), strings.Join(left, ", "))
		}
	}
	var o SlurmOptions
	b, err := os.ReadFile(filepath.Join(s.Dir, "slurm", "options.json"))
	if err != nil {
		return fmt.Errorf("sweep: the options of the last submit: %w", err)
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return fmt.Errorf("sweep: slurm/options.json is broken: %v", err)
	}
	_, err = s.Submit(ctx, o, log)
	return err
}
