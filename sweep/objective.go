package sweep

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gomonnto/gomonnto/store"
)

// ErrInterrupted is wrapped by the error of an evaluation stopped by its
// context or a signal (not a failure of the point: it runs again, from
// its checkpoint, when the sweep runs again).
var ErrInterrupted = errors.New("interrupted")

// Task is one attempt at a point, given to the Objective.
type Task struct {
	Point
	// Dir is the point's folder; Checkpoint the folder for its
	// checkpoints (resume from there if it holds one).
	Dir, Checkpoint string
	// Threads is the point's thread budget.
	Threads int
	// Attempt counts from 1.
	Attempt int
	// Log receives the point's output (the point's log file).
	Log io.Writer
	// Signals are passed on to what the objective runs (SIGUSR1 of
	// Slurm's warning before preemption); may be nil.
	Signals <-chan os.Signal

	// The objective may record what it ran and the iteration it resumed
	// from (the table's resumed_from).
	Command     []string
	ResumedFrom int
}

// Objective evaluates a point and returns its result: the fields of a
// JSON object (numbers as float64). It must stop soon when ctx ends,
// returning an error that wraps ErrInterrupted or ctx.Err().
type Objective func(ctx context.Context, t *Task) (map[string]any, error)

// newestCheckpoint returns the iteration of the newest valid checkpoint
// in dir (ok false if none).
func newestCheckpoint(dir string) (int, bool) {
	paths, err := store.Checkpoints(dir)
	if err != nil {
		return 0, false
	}
	for _, p := range paths {
		if _, err := store.Inspect(p); err != nil {
			continue
		}
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "ckpt-"), ".npz")
		if it, err := strconv.Atoi(name); err == nil {
			return it, true
		}
	}
	return 0, false
}

// tailBuffer keeps the last max bytes written.
type tailBuffer struct {
	b   []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

// lastLines returns the last n non-empty lines of b, joined by " | ".
func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var out []string
	for k := len(lines) - 1; k >= 0 && len(out) < n; k-- {
		if l := strings.TrimSpace(lines[k]); l != "" {
			out = append([]string{l}, out...)
		}
	}
	return strings.Join(out, " | ")
}

// errorLine picks what explains a failure from a program's stderr: the
// last line that says error, panic or fatal (or Go's flag package's
// "flag provided but not defined", which the usage follows), else the
// last three lines.
func errorLine(b []byte) string {
	lines := strings.Split(string(b), "\n")
	for k := len(lines) - 1; k >= 0; k-- {
		l := strings.ToLower(lines[k])
		if strings.Contains(l, "flag provided but not defined") || strings.Contains(l, "invalid value") {
			return strings.TrimSpace(lines[k])
		}
	}
	for k := len(lines) - 1; k >= 0; k-- {
		l := strings.ToLower(lines[k])
		if strings.Contains(l, "error") || strings.HasPrefix(l, "panic") || strings.Contains(l, "fatal") {
			return strings.TrimSpace(lines[k])
		}
	}
	return lastLines(b, 3)
}

// lastJSON parses the last non-empty line of out as a JSON object.
func lastJSON(out []byte) (map[string]any, error) {
	lines := strings.Split(strings.TrimRight(string(out), "\n\r\t "), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if last == "" {
		return nil, errors.New("the command printed nothing on stdout; it must print a JSON object as its last line (give the example -json)")
	}
	var m map[string]any
	d := json.NewDecoder(strings.NewReader(last))
	if err := d.Decode(&m); err != nil || d.More() || m == nil {
		if len(last) > 120 {
			last = last[:120] + "..."
		}
		return nil, fmt.Errorf("the command's last stdout line is not a JSON object (%q); it must print one as its last line (give the example -json)", last)
	}
	return m, nil
}

// commandObjective runs the spec's command template per point.
func (s *Sweep) commandObjective() (Objective, error) {
	if s.tmpl == nil {
		return nil, errors.New("sweep: the spec has no objective.command; give one, or run the sweep from Go with an Objective function")
	}
	return func(ctx context.Context, t *Task) (map[string]any, error) {
		it, resume := newestCheckpoint(t.Checkpoint)
		if !s.tmpl.names["resume"] {
			resume, it = false, 0
		}
		steps := s.Spec.Objective.Steps
		if resume {
			steps = max(steps-it, 0)
			t.ResumedFrom = it
		}
		vals := map[string]string{
			"seed": strconv.FormatUint(t.Seed, 10), "id": t.ID, "dir": t.Dir, "ckpt": t.Checkpoint,
			"steps": strconv.Itoa(steps), "threads": strconv.Itoa(t.Threads), "attempt": strconv.Itoa(t.Attempt),
		}
		for k, v := range s.Spec.Objective.Vars {
			vals[k] = v
		}
		argv := s.tmpl.expand(&s.Spec, vals, t.Point, resume)
		t.Command = argv
		if s.tmpl.names["ckpt"] {
			if err := os.MkdirAll(t.Checkpoint, 0o755); err != nil {
				return nil, err
			}
		}
		return runCommand(ctx, t, argv)
	}, nil
}

// stopGrace is how long a command may take to checkpoint and exit after
// SIGTERM before it is killed.
var stopGrace = 60 * time.Second

// runCommand runs argv for a task: in its own process group, with
// GOMAXPROCS set to the task's threads, its output appended to the log,
// SIGTERM (then SIGKILL after stopGrace) when ctx ends, and the task's
// signals passed on.
func runCommand(ctx context.Context, t *Task, argv []string) (map[string]any, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	th := strconv.Itoa(t.Threads)
	cmd.Env = append(os.Environ(), "GOMAXPROCS="+th, "OMP_NUM_THREADS="+th, "GOMONNTO_SWEEP_POINT="+t.ID)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	out := &tailBuffer{max: 4 << 20}
	errs := &tailBuffer{max: 64 << 10}
	log := t.Log
	if log == nil {
		log = io.Discard
	}
	cmd.Stdout = io.MultiWriter(out, log)
	cmd.Stderr = io.MultiWriter(errs, log)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	done := make(chan struct{})
	stopped := make(chan bool, 1)
	go func() {
		var kill <-chan time.Time
		term := false
		for {
			select {
			case <-done:
				stopped <- term
				return
			case <-ctx.Done():
				if !term {
					term = true
					syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
					kill = time.After(stopGrace)
				}
			case sig := <-t.Signals:
				if s, ok := sig.(syscall.Signal); ok {
					syscall.Kill(-cmd.Process.Pid, s)
				}
			case <-kill:
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			}
		}
	}()
	werr := cmd.Wait()
	close(done)
	term := <-stopped
	if term || ctx.Err() != nil {
		return nil, fmt.Errorf("%w: %v (the command was stopped with SIGTERM)", ErrInterrupted, context.Cause(ctx))
	}
	if werr != nil {
		tail := errorLine(errs.b)
		if strings.Contains(string(errs.b), store.ErrStopped.Error()) {
			// Stopped by a signal sent to it directly (Slurm signals every
			// process of a job): it wrote its checkpoint.
			return nil, fmt.Errorf("%w: %s", ErrInterrupted, tail)
		}
		if tail == "" {
			tail = "no output on stderr"
		}
		return nil, fmt.Errorf("%s: %v: %s", filepath.Base(argv[0]), werr, tail)
	}
	return lastJSON(out.b)
}

// cleanResult replaces NaN and infinities (which JSON cannot hold) by
// nil.
func cleanResult(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if x, ok := v.(float64); ok && (math.IsNaN(x) || math.IsInf(x, 0)) {
			v = nil
		}
		out[k] = v
	}
	return out
}

// evaluate gives a point its attempts until one succeeds or they are
// used up, and writes its result; it returns the point's status (done,
// failed, interrupted) and the last error. report receives a line per
// failed attempt.
func (s *Sweep) evaluate(ctx context.Context, p Point, obj Objective, sigs <-chan os.Signal, report func(string)) (string, error) {
	st, err := s.readState(p)
	if err != nil {
		return "", err
	}
	if unk := s.Spec.unknownParams(p); len(unk) > 0 {
		err := fmt.Errorf("unknown parameter %s: the spec's params are %s; fix the point or declare the parameter",
			strings.Join(unk, ", "), strings.Join(s.Spec.paramNames(), ", "))
		if werr := s.writeState(&st); werr != nil {
			return "", werr
		}
		if werr := s.writeResult(p, statusFailed, nil, nil, time.Now(), err); werr != nil {
			return "", werr
		}
		return statusFailed, err
	}
	dir := s.PointDir(p.ID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	logf, err := os.OpenFile(filepath.Join(dir, "log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return "", fmt.Errorf("sweep: point log: %w", err)
	}
	defer logf.Close()
	n := s.Spec.attempts()
	var lastErr error
	var first time.Time
	for st.Failures < n {
		st.Attempts++
		st.Restarts, _ = strconv.Atoi(os.Getenv("SLURM_RESTART_COUNT"))
		st.Started = time.Now().UTC()
		if first.IsZero() {
			first = st.Started
		}
		if err := s.writeState(&st); err != nil {
			return "", err
		}
		t := &Task{Point: p, Dir: dir, Checkpoint: filepath.Join(dir, "ckpt"), Threads: s.Spec.threads(),
			Attempt: st.Attempts, Log: logf, Signals: sigs}
		fmt.Fprintf(logf, "== sweep %s: point %s attempt %d (failures so far %d of %d), restarts %d, at %s\n",
			s.Spec.Name, p.ID, st.Attempts, st.Failures, n, st.Restarts, st.Started.Format(time.RFC3339))
		actx, cancel := ctx, context.CancelFunc(func() {})
		if d := s.Spec.timeout(); d > 0 {
			actx, cancel = context.WithTimeoutCause(ctx, d, fmt.Errorf("attempt timed out after %v", d))
		}
		t0 := time.Now()
		res, err := obj(actx, t)
		timedOut := actx.Err() != nil && ctx.Err() == nil
		cancel()
		st.WallS += time.Since(t0).Seconds()
		st.ResumedFrom = t.ResumedFrom
		if err == nil && res == nil {
			err = errors.New("the objective returned no result")
		}
		if timedOut {
			err = fmt.Errorf("attempt timed out after %v (objective: %v)", s.Spec.timeout(), err)
		} else if err != nil && (ctx.Err() != nil || errors.Is(err, ErrInterrupted)) {
			fmt.Fprintf(logf, "== interrupted: %v\n", err)
			st.LastError = ""
			if werr := s.writeState(&st); werr != nil {
				return "", werr
			}
			return statusInterrupted, err
		}
		if err == nil {
			st.LastError = ""
			if werr := s.writeState(&st); werr != nil {
				return "", werr
			}
			if werr := s.writeResult(p, statusDone, cleanResult(res), t.Command, first, nil); werr != nil {
				return "", werr
			}
			fmt.Fprintf(logf, "== done in %.2f s\n", time.Since(t0).Seconds())
			if !s.Spec.KeepCheckpoints {
				os.RemoveAll(t.Checkpoint)
			}
			return statusDone, nil
		}
		st.Failures++
		st.LastError = err.Error()
		lastErr = err
		fmt.Fprintf(logf, "== failed: %v\n", err)
		if werr := s.writeState(&st); werr != nil {
			return "", werr
		}
		if report != nil {
			report(fmt.Sprintf("point %s (%s) attempt %d of %d failed: %v", p.ID, describe(p.Params), st.Failures, n, err))
		}
		if ctx.Err() != nil {
			return statusInterrupted, ctx.Err()
		}
	}
	if lastErr == nil {
		lastErr = fmt.Errorf("failed %d of %d attempts before: %s", st.Failures, n, st.LastError)
	}
	err = fmt.Errorf("failed all %d attempts; the last: %w", n, lastErr)
	if werr := s.writeResult(p, statusFailed, nil, nil, first, err); werr != nil {
		return "", werr
	}
	return statusFailed, err
}

// describe writes parameters as "a=1, b=2".
func describe(params map[string]float64) string {
	var b bytes.Buffer
	for k, n := range sortedKeys(params) {
		if k > 0 {
			b.WriteString(", ")
		}
		b.WriteString(n + "=" + formatValue(params[n]))
	}
	return b.String()
}
