package sweep

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/gomonnto/gomonnto/store"
)

// Point statuses (the table's status column).
const (
	statusDone        = store.StatusDone
	statusFailed      = store.StatusFailed
	statusPending     = "pending"     // queued in Slurm, not started
	statusRunning     = "running"     // running in Slurm
	statusInterrupted = "interrupted" // started, no result, not queued
	statusMissing     = "missing"     // never started, not queued
)

// Sweep is a sweep folder:
//
//	spec.json                 the spec
//	generations/0000.json     the points of each generation, as proposed
//	points/<id>/point.json    the point, its attempts, restarts, wall time
//	points/<id>/manifest.json its result: a results folder's manifest
//	                          (store.Open); its existence means "has a result"
//	points/<id>/log           the output of every attempt
//	points/<id>/ckpt/         its checkpoints ({ckpt})
//	results.csv, results.parquet   the table (Gather)
//	subs/0001.json            a submission (Slurm array, Kubernetes Job): its points
//	slurm/, kube/             scripts, manifests and job logs
type Sweep struct {
	Dir  string
	Spec Spec
	tmpl *template
}

// Create makes the sweep folder dir for spec, or opens it if it already
// holds the same spec (a rerun); a folder holding a different spec is an
// error, so that results of two sweeps never mix.
func Create(dir string, spec Spec) (*Sweep, error) {
	if err := spec.Check(); err != nil {
		return nil, fmt.Errorf("sweep: spec: %w", err)
	}
	b, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("sweep: spec: %w", err)
	}
	b = append(b, '\n')
	path := filepath.Join(dir, "spec.json")
	if old, err := os.ReadFile(path); err == nil {
		if !bytes.Equal(old, b) {
			return nil, fmt.Errorf("sweep: %s holds another sweep (its spec.json differs from this spec); give another -out, or remove the folder", dir)
		}
		return Open(dir)
	}
	if err := os.MkdirAll(filepath.Join(dir, "points"), 0o755); err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	if err := writeFile(path, b); err != nil {
		return nil, err
	}
	return Open(dir)
}

// Open opens the sweep folder dir.
func Open(dir string) (*Sweep, error) {
	b, err := os.ReadFile(filepath.Join(dir, "spec.json"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("sweep: %s is not a sweep folder (no spec.json); make it with run or submit and -spec", dir)
		}
		return nil, fmt.Errorf("sweep: %w", err)
	}
	spec, err := ParseSpec(b)
	if err != nil {
		return nil, fmt.Errorf("sweep: %s/spec.json: %w", dir, err)
	}
	s := &Sweep{Dir: dir, Spec: spec}
	if spec.Objective.Command != "" {
		if s.tmpl, err = spec.template(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// lock takes an exclusive lock on the folder (one driver at a time).
func (s *Sweep) lock() (func(), error) {
	f, err := os.OpenFile(filepath.Join(s.Dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("sweep: lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("sweep: %s is in use by another driver (run, submit or gather); wait for it to end", s.Dir)
	}
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

// PointDir is the folder of the point id.
func (s *Sweep) PointDir(id string) string { return filepath.Join(s.Dir, "points", id) }

// pointState is point.json: the point and what happened to it.
type pointState struct {
	Point
	// Attempts counts the starts of its objective (a requeued Slurm task
	// starts again), Failures the attempts that failed.
	Attempts int `json:"attempts"`
	Failures int `json:"failures"`
	// Restarts is SLURM_RESTART_COUNT at the last start.
	Restarts int `json:"restarts"`
	// ResumedFrom is the iteration of the checkpoint the last attempt
	// resumed from (0: none).
	ResumedFrom int `json:"resumed_from"`
	// WallS sums the attempts' wall times.
	WallS     float64   `json:"wall_s"`
	LastError string    `json:"last_error,omitempty"`
	Started   time.Time `json:"started"`
}

func (s *Sweep) readState(p Point) (pointState, error) {
	st := pointState{Point: p}
	b, err := os.ReadFile(filepath.Join(s.PointDir(p.ID), "point.json"))
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("sweep: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("sweep: %s/point.json is broken (%v); remove it to start the point afresh", s.PointDir(p.ID), err)
	}
	st.Point.Generation, st.Point.Index = p.Generation, p.Index
	return st, nil
}

func (s *Sweep) writeState(st *pointState) error {
	if err := os.MkdirAll(s.PointDir(st.ID), 0o755); err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	return writeJSON(filepath.Join(s.PointDir(st.ID), "point.json"), st)
}

// result reads a point's result (nil if it has none).
func (s *Sweep) result(id string) (*store.RunManifest, error) {
	dir := s.PointDir(id)
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	r, err := store.Open(dir)
	if err != nil {
		return nil, err
	}
	m := r.Manifest()
	return &m, nil
}

// writeResult writes a point's result as a results folder's manifest.
func (s *Sweep) writeResult(p Point, status string, res map[string]any, cmd []string, start time.Time, runErr error) error {
	end := time.Now().UTC()
	m := store.RunManifest{Format: "gomonnto-run", Version: 1, Name: s.Spec.Name, Params: map[string]any{},
		Seed: p.Seed, Build: store.Build(), Command: cmd, Start: start.UTC(), End: &end, Status: status,
		Results: res, Files: []store.FileInfo{}}
	if m.Command == nil {
		m.Command = []string{}
	}
	for k, v := range p.Params {
		m.Params[k] = v
	}
	if b, ok := res["backend"].(string); ok {
		m.Backend = b
	}
	if d, ok := res["device"].(string); ok {
		m.Device = d
	}
	if runErr != nil {
		m.Error = runErr.Error()
	}
	if err := os.MkdirAll(s.PointDir(p.ID), 0o755); err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	return writeJSON(filepath.Join(s.PointDir(p.ID), "manifest.json"), m)
}

// genPath is the file of generation g.
func (s *Sweep) genPath(g int) string {
	return filepath.Join(s.Dir, "generations", fmt.Sprintf("%04d.json", g))
}

// recordGeneration writes generation g's points, or checks them against
// the ones written before (a replayed optimiser must propose the same).
func (s *Sweep) recordGeneration(g int, pts []Point) error {
	path := s.genPath(g)
	if b, err := os.ReadFile(path); err == nil {
		var old []Point
		if err := json.Unmarshal(b, &old); err != nil {
			return fmt.Errorf("sweep: %s is broken: %v", path, err)
		}
		same := len(old) == len(pts)
		for k := 0; same && k < len(pts); k++ {
			same = old[k].ID == pts[k].ID
		}
		if !same {
			return fmt.Errorf("sweep: generation %d as proposed now differs from %s (%d points, then %d): the spec, the objective's results or the code changed; use a new folder", g, path, len(pts), len(old))
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	return writeJSON(path, pts)
}

// Generations returns the points of every generation recorded so far.
func (s *Sweep) Generations() ([][]Point, error) {
	var out [][]Point
	for g := 0; ; g++ {
		b, err := os.ReadFile(s.genPath(g))
		if errors.Is(err, os.ErrNotExist) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("sweep: %w", err)
		}
		var pts []Point
		if err := json.Unmarshal(b, &pts); err != nil {
			return nil, fmt.Errorf("sweep: %s is broken: %v", s.genPath(g), err)
		}
		out = append(out, pts)
	}
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return fmt.Errorf("sweep: %s: %w", path, err)
	}
	return writeFile(path, append(b, '\n'))
}

func writeFile(path string, b []byte) error {
	return writeAtomic(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// writeAtomic writes path with write atomically, as store's files.
func writeAtomic(path string, write func(w io.Writer) error) error {
	if err := store.WriteAtomic(path, write); err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	return nil
}

// copyExecutable copies the file src to dst atomically (mode 0755).
func copyExecutable(src, dst string) error {
	if a, err := filepath.Abs(src); err == nil {
		if b, err := filepath.Abs(dst); err == nil && a == b {
			return nil
		}
	}
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("sweep: copy the driver: %w", err)
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	if err := writeAtomic(dst, func(w io.Writer) error { _, err := io.Copy(w, in); return err }); err != nil {
		return err
	}
	return os.Chmod(dst, 0o755)
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
