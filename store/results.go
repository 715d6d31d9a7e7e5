package store

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gomonnto/gomonnto/core"
)

// A results folder keeps one run: manifest.json (what ran, with which
// parameters, where, when, how it ended, its results) and the recorded
// data as .npy arrays that numpy opens (np.load). It is PymoNNto's
// StorageManager folder with typed metadata, atomic files and checksums.
//
//	run, err := store.Create("results", "coba", store.RunOptions{Params: map[string]any{"n": 4000}})
//	run.Describe(net)
//	... simulate ...
//	run.SaveRecorders(net)
//	run.Finish("done", map[string]any{"rate_hz": 5.1})
//
// List reads every run under a folder, and Table prints them as a table
// of parameters and results (PymoNNto's StorageManagerGroup).

// runFormat marks a results folder's manifest.
const runFormat = "gomonnto-run"

// Run statuses.
const (
	StatusRunning     = "running"
	StatusDone        = "done"
	StatusFailed      = "failed"
	StatusInterrupted = "interrupted"
)

// RunManifest is a results folder's manifest.json.
type RunManifest struct {
	Format  string         `json:"format"`
	Version int            `json:"version"`
	Name    string         `json:"name"`
	Params  map[string]any `json:"params"`
	Seed    uint64         `json:"seed"`
	Backend string         `json:"backend,omitempty"`
	Device  string         `json:"device,omitempty"`
	Network *NetworkInfo   `json:"network,omitempty"`
	Build   BuildInfo      `json:"build"`
	Command []string       `json:"command"`
	Start   time.Time      `json:"start"`
	End     *time.Time     `json:"end,omitempty"`
	Status  string         `json:"status"`
	Error   string         `json:"error,omitempty"`
	Results map[string]any `json:"results,omitempty"`
	Files   []FileInfo     `json:"files"`
}

// NetworkInfo summarises a network.
type NetworkInfo struct {
	Summary       string      `json:"summary"`
	Neurons       int         `json:"neurons"`
	Synapses      int         `json:"synapses"`
	Iteration     int         `json:"iteration"`
	Groups        []GroupInfo `json:"groups"`
	SynapseGroups []GroupInfo `json:"synapse_groups"`
}

// GroupInfo is a neuron group (Size neurons) or a synapse group (Size
// synapses, from Src to Dst).
type GroupInfo struct {
	Name string `json:"name"`
	Size int    `json:"size"`
	Src  string `json:"src,omitempty"`
	Dst  string `json:"dst,omitempty"`
}

// FileInfo is a file of a results folder.
type FileInfo struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"` // array, spikes, series, iterations
	DType  string `json:"dtype"`
	Shape  []int  `json:"shape"`
	SHA256 string `json:"sha256"`
	// Of says what the array holds (for example "E: fired").
	Of string `json:"of,omitempty"`
}

// RunOptions configure Create.
type RunOptions struct {
	// Params are the run's parameters (flags, model constants).
	Params map[string]any
	// Seed is the network's seed (Describe sets it too).
	Seed uint64
	// Command is the command line (os.Args if nil).
	Command []string
}

// Run is an open results folder.
type Run struct {
	Dir string
	m   RunManifest
}

// Create makes a results folder for a run named name under parent:
// parent/<name>-<UTC time>-<random>, so that runs started at once by
// several processes never share a folder, and writes its manifest with
// status "running".
func Create(parent, name string, o RunOptions) (*Run, error) {
	if name == "" || strings.ContainsAny(name, `/\`) {
		return nil, fmt.Errorf("store: Create: run name %q must be non-empty and hold no / or \\", name)
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("store: results folder: %w", err)
	}
	start := time.Now().UTC()
	var dir string
	for range 10 {
		var b [3]byte
		rand.Read(b[:])
		dir = filepath.Join(parent, fmt.Sprintf("%s-%s-%s", name, start.Format("20060102T150405Z"), hex.EncodeToString(b[:])))
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("store: results folder: %w", err)
		}
		dir = ""
	}
	if dir == "" {
		return nil, fmt.Errorf("store: results folder: no free name for %s under %s", name, parent)
	}
	cmd := o.Command
	if cmd == nil {
		cmd = os.Args
	}
	params := o.Params
	if params == nil {
		params = map[string]any{}
	}
	r := &Run{Dir: dir, m: RunManifest{Format: runFormat, Version: 1, Name: name, Params: params, Seed: o.Seed,
		Build: Build(), Command: slices.Clone(cmd), Start: start, Status: StatusRunning, Files: []FileInfo{}}}
	return r, r.writeManifest()
}

// Describe records the network's seed, backend, device and summary.
func (r *Run) Describe(net *core.Network) {
	ni := &NetworkInfo{Summary: net.Summary(), Iteration: net.Iteration}
	for _, g := range net.NeuronGroups() {
		ni.Neurons += g.Size
		ni.Groups = append(ni.Groups, GroupInfo{Name: g.Name(), Size: g.Size})
	}
	for _, s := range net.SynapseGroups() {
		ni.Synapses += s.Synapses()
		ni.SynapseGroups = append(ni.SynapseGroups, GroupInfo{Name: s.Name(), Size: s.Synapses(), Src: s.Src.Name(), Dst: s.Dst.Name()})
	}
	r.m.Network, r.m.Seed = ni, net.Seed()
	r.m.Backend, r.m.Device = net.Backend().Name(), net.Backend().Device()
}

// SetParam records a parameter.
func (r *Run) SetParam(key string, v any) { r.m.Params[key] = v }

// Manifest returns a copy of the run's manifest.
func (r *Run) Manifest() RunManifest { return r.m }

func (r *Run) writeManifest() error {
	b, err := json.MarshalIndent(r.m, "", " ")
	if err != nil {
		return fmt.Errorf("store: manifest of %s: %w", r.Dir, err)
	}
	return writeAtomic(filepath.Join(r.Dir, manifestEntry), func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

// SaveArray writes data (a []float32, []float64, []int32, []int64,
// []uint8 or []uint16) as name.npy, of shape shape (nil: flat). name may
// hold folders ("spikes/E").
func (r *Run) SaveArray(name string, data any, shape []int) error {
	if err := r.saveArray(name, data, shape, "array", ""); err != nil {
		return err
	}
	return r.writeManifest()
}

func (r *Run) saveArray(name string, data any, shape []int, kind, of string) error {
	if name == "" || strings.Contains(name, "..") || filepath.IsAbs(name) {
		return fmt.Errorf("store: SaveArray: %q is not a name inside the results folder", name)
	}
	b, dt, err := rawBytes(data)
	if err != nil {
		return err
	}
	if shape == nil {
		shape = []int{len(b) / elemSize(dt)}
	}
	if numel(shape) != len(b)/elemSize(dt) {
		return fmt.Errorf("store: SaveArray %s: %d elements do not have shape %v", name, len(b)/elemSize(dt), shape)
	}
	path := filepath.Join(r.Dir, name+".npy")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("store: SaveArray %s: %w", name, err)
	}
	h := sha256.New()
	err = writeAtomic(path, func(w io.Writer) error {
		return writeNPY(io.MultiWriter(w, h), data, shape)
	})
	if err != nil {
		return err
	}
	fi := FileInfo{Name: name + ".npy", Kind: kind, DType: dt, Shape: shape, SHA256: hex.EncodeToString(h.Sum(nil)), Of: of}
	if k := slices.IndexFunc(r.m.Files, func(f FileInfo) bool { return f.Name == fi.Name }); k >= 0 {
		r.m.Files[k] = fi
	} else {
		r.m.Files = append(r.m.Files, fi)
	}
	return nil
}

// SaveSpikes writes events as name.npy: an (n, 2) int32 array of
// (iteration, index) pairs in the order recorded.
func (r *Run) SaveSpikes(name string, ev *core.Events, of string) error {
	if err := r.saveSpikes(name, ev, of); err != nil {
		return err
	}
	return r.writeManifest()
}

func (r *Run) saveSpikes(name string, ev *core.Events, of string) error {
	pairs := make([]int32, 2*ev.Len())
	for k := range ev.Len() {
		pairs[2*k], pairs[2*k+1] = int32(ev.Iterations[k]), int32(ev.Indices[k])
	}
	return r.saveArray(name, pairs, []int{ev.Len(), 2}, "spikes", of)
}

// SaveSeries writes a recorded series as name.npy (records x width,
// float32) and name.iterations.npy (the iteration of each record).
func (r *Run) SaveSeries(name string, s *core.Series, of string) error {
	if err := r.saveSeries(name, s, of); err != nil {
		return err
	}
	return r.writeManifest()
}

func (r *Run) saveSeries(name string, s *core.Series, of string) error {
	if err := r.saveArray(name, s.Data, []int{s.Len(), s.Width}, "series", of); err != nil {
		return err
	}
	its := make([]int64, s.Len())
	for k, x := range s.Iterations {
		its[k] = int64(x)
	}
	return r.saveArray(name+".iterations", its, nil, "iterations", of)
}

// SaveRecorders writes what every recorder of net holds: the events of
// an event recorder as spikes/<group>.<variable>.npy, a series as
// series/<group>.<expression>.npy (see SaveSpikes and SaveSeries). It
// returns the files' names.
func (r *Run) SaveRecorders(net *core.Network) ([]string, error) {
	var out []string
	used := map[string]int{}
	for _, b := range net.Order() {
		rec, ok := b.(*core.Recorder)
		if !ok {
			continue
		}
		owner := core.ObjectName(rec.Owner())
		for _, v := range rec.Variables() {
			of := owner + ": " + v
			base := owner + "." + fileSafe(v)
			if used[base]++; used[base] > 1 {
				base = fmt.Sprintf("%s.%d", base, used[base])
			}
			if rec.IsEvents() {
				ev, err := rec.Events(v)
				if err != nil {
					return out, err
				}
				if err := r.saveSpikes("spikes/"+base, ev, of); err != nil {
					return out, err
				}
				out = append(out, "spikes/"+base+".npy")
				continue
			}
			s, err := rec.Series(v)
			if err != nil {
				return out, err
			}
			if err := r.saveSeries("series/"+base, s, of); err != nil {
				return out, err
			}
			out = append(out, "series/"+base+".npy")
		}
	}
	return out, r.writeManifest()
}

// fileSafe makes a recorder expression ("mean(v[0:10])") a file name.
func fileSafe(s string) string {
	return strings.Map(func(c rune) rune {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
			return c
		}
		return '_'
	}, s)
}

// Finish records how the run ended (StatusDone, StatusFailed with err,
// StatusInterrupted), its results and the network's final iteration.
func (r *Run) Finish(status string, results map[string]any, runErr error) error {
	end := time.Now().UTC()
	r.m.End, r.m.Status, r.m.Results = &end, status, results
	if runErr != nil {
		r.m.Error = runErr.Error()
	}
	return r.writeManifest()
}

// SetIteration records the network's iteration at the end.
func (r *Run) SetIteration(it int) {
	if r.m.Network != nil {
		r.m.Network.Iteration = it
	}
}

// Open opens the results folder dir.
func Open(dir string) (*Run, error) {
	b, err := os.ReadFile(filepath.Join(dir, manifestEntry))
	if err != nil {
		return nil, fmt.Errorf("store: open results folder: %w", err)
	}
	r := &Run{Dir: dir}
	if err := json.Unmarshal(b, &r.m); err != nil {
		return nil, fmt.Errorf("store: %s: %w: manifest.json is not valid JSON: %v", dir, ErrCorrupt, err)
	}
	if r.m.Format != runFormat {
		return nil, fmt.Errorf("store: %s: %w: manifest.json has format %q, not %q", dir, ErrCorrupt, r.m.Format, runFormat)
	}
	if r.m.Version > 1 {
		return nil, fmt.Errorf("store: %s: %w: results folder version %d; this GoMoNNto reads version 1", dir, ErrVersion, r.m.Version)
	}
	return r, nil
}

// ReadArray reads the array name (without .npy) into a new slice of T
// (float32, float64, int32, int64, uint8 or uint16, as saved), checking
// its SHA-256 against the manifest, and returns it with its shape.
func ReadArray[T float32 | float64 | int32 | int64 | uint8 | uint16](r *Run, name string) ([]T, []int, error) {
	k := slices.IndexFunc(r.m.Files, func(f FileInfo) bool { return f.Name == name+".npy" })
	if k < 0 {
		return nil, nil, fmt.Errorf("store: %s holds no array %q; it has %s", r.Dir, name, strings.Join(r.Names(), ", "))
	}
	fi := r.m.Files[k]
	path := filepath.Join(r.Dir, fi.Name)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("store: %w", err)
	}
	if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != fi.SHA256 {
		return nil, nil, fmt.Errorf("store: %s: %w: SHA-256 %x, the manifest says %s", path, ErrCorrupt, got, fi.SHA256)
	}
	rd := bytes.NewReader(b)
	dt, shape, err := readNPYHeader(rd)
	if err != nil {
		return nil, nil, fmt.Errorf("store: %s: %w: %v", path, ErrCorrupt, err)
	}
	out := make([]T, numel(shape))
	if err := readInto(rd, dt, any(out)); err != nil {
		return nil, nil, fmt.Errorf("store: %s: %v", path, err)
	}
	return out, shape, nil
}

// Names lists the arrays of the run (without .npy).
func (r *Run) Names() []string {
	out := make([]string, len(r.m.Files))
	for k, f := range r.m.Files {
		out[k] = strings.TrimSuffix(f.Name, ".npy")
	}
	return out
}

// List opens every results folder directly under parent, oldest first
// (folders that are not results folders are skipped; a results folder
// whose manifest is broken is an error).
func List(parent string) ([]*Run, error) {
	ents, err := os.ReadDir(parent)
	if err != nil {
		return nil, fmt.Errorf("store: list runs: %w", err)
	}
	var runs []*Run
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		if _, err := os.Stat(filepath.Join(dir, manifestEntry)); err != nil {
			continue
		}
		r, err := Open(dir)
		if err != nil {
			return nil, err
		}
		runs = append(runs, r)
	}
	sort.SliceStable(runs, func(a, b int) bool { return runs[a].m.Start.Before(runs[b].m.Start) })
	return runs, nil
}

// Table writes runs as a table: folder, status, every parameter that
// varies between them (all if there is one run) and the results (those
// named, or all).
func Table(w io.Writer, runs []*Run, results ...string) error {
	params := map[string]map[string]bool{}
	res := map[string]bool{}
	for _, r := range runs {
		for k, v := range r.m.Params {
			if params[k] == nil {
				params[k] = map[string]bool{}
			}
			params[k][fmt.Sprint(v)] = true
		}
		for k := range r.m.Results {
			res[k] = true
		}
	}
	var pcols []string
	for k, vals := range params {
		if len(runs) == 1 || len(vals) > 1 {
			pcols = append(pcols, k)
		}
	}
	sort.Strings(pcols)
	rcols := results
	if len(rcols) == 0 {
		for k := range res {
			rcols = append(rcols, k)
		}
		sort.Strings(rcols)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "run\tstatus")
	for _, c := range pcols {
		fmt.Fprintf(tw, "\t%s", c)
	}
	for _, c := range rcols {
		fmt.Fprintf(tw, "\t%s", c)
	}
	fmt.Fprintln(tw)
	for _, r := range runs {
		fmt.Fprintf(tw, "%s\t%s", filepath.Base(r.Dir), r.m.Status)
		for _, c := range pcols {
			fmt.Fprintf(tw, "\t%s", cell(r.m.Params[c]))
		}
		for _, c := range rcols {
			fmt.Fprintf(tw, "\t%s", cell(r.m.Results[c]))
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return "-"
	case float64:
		return fmt.Sprintf("%.6g", x)
	case map[string]any, []any:
		b, _ := json.Marshal(x)
		return string(b)
	}
	return fmt.Sprint(v)
}
