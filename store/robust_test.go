package store

import (
	"archive/zip"
	"bytes"
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
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/cpu"
	"github.com/gomonnto/gomonnto/models"
	"github.com/gomonnto/gomonnto/models/pd14"
)

// small builds a small network with delays, a shared-nothing sparse
// matrix and recorders (PD14 at a tiny scale), on the cpu.
func small(t testing.TB, scale float64) *core.Network {
	t.Helper()
	net, err := buildSmall(scale, 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { net.Backend().Close() })
	return net
}

func buildSmall(scale float64, seed uint64) (*core.Network, error) {
	b, err := cpu.New(backend.Options{})
	if err != nil {
		return nil, err
	}
	net, err := core.NewNetwork(core.Config{Backend: b, Seed: seed, Layout: core.SxD})
	if err != nil {
		return nil, err
	}
	m, err := pd14.Build(net, pd14.Options{Scale: scale})
	if err != nil {
		return nil, err
	}
	if err := m.All.AddBehavior(1000, core.NewEventRecorder([]string{"fired"}, core.RecorderOptions{Block: 5})); err != nil {
		return nil, err
	}
	if err := m.All.AddBehavior(1001, core.NewRecorder([]string{"mean(v)", "v[0:3]"}, core.RecorderOptions{Block: 4})); err != nil {
		return nil, err
	}
	return net, net.Initialize()
}

func steps(t testing.TB, net *core.Network, n int) {
	t.Helper()
	if err := net.SimulateIterations(n, core.SimOptions{Quiet: true}); err != nil {
		t.Fatal(err)
	}
}

// saved writes a checkpoint of a small network after 12 steps and returns
// its path and bytes.
func saved(t *testing.T) (string, []byte) {
	t.Helper()
	net := small(t, 0.005)
	steps(t, net, 12)
	path := filepath.Join(t.TempDir(), "ckpt.npz")
	if err := Save(net, path, SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, b
}

// TestCorruptCheckpoints: a flipped byte in every entry, a truncation at
// many lengths, a newer version, a foreign zip and random bytes all give
// errors that name the file and entry, never a panic, and leave the
// network as it was.
func TestCorruptCheckpoints(t *testing.T) {
	path, good := saved(t)
	net := small(t, 0.005)
	before, err := StateHash(net)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(good), int64(len(good)))
	if err != nil {
		t.Fatal(err)
	}
	write := func(t *testing.T, b []byte) string {
		p := filepath.Join(t.TempDir(), "bad.npz")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	load := func(t *testing.T, p string, want error, says ...string) {
		t.Helper()
		err := Load(net, p, LoadOptions{})
		if !errors.Is(err, want) {
			t.Fatalf("Load: %v, want an error wrapping %v", err, want)
		}
		for _, s := range append(says, p) {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("Load: %q does not say %q", err, s)
			}
		}
		if h, _ := StateHash(net); h != before {
			t.Errorf("a failed Load changed the network")
		}
	}
	t.Run("flipped byte per entry", func(t *testing.T) {
		for _, zf := range zr.File {
			off, err := zf.DataOffset()
			if err != nil {
				t.Fatal(err)
			}
			if zf.UncompressedSize64 == 0 {
				continue
			}
			b := bytes.Clone(good)
			at := off + int64(zf.UncompressedSize64)/2
			b[at] ^= 0x10
			name := strings.TrimSuffix(zf.Name, ".npy")
			load(t, write(t, b), ErrCorrupt, name)
		}
	})
	t.Run("truncated", func(t *testing.T) {
		for _, n := range []int{0, 1, 30, len(good) / 3, len(good) / 2, len(good) - 100, len(good) - 1} {
			load(t, write(t, good[:n]), ErrCorrupt, "truncated")
		}
	})
	t.Run("newer version", func(t *testing.T) {
		b := rewriteManifest(t, good, func(m map[string]any) { m["version"] = FormatVersion + 1 })
		load(t, write(t, b), ErrVersion, "format version", strconv.Itoa(FormatVersion+1))
	})
	t.Run("not a checkpoint", func(t *testing.T) {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.Create("x.npy")
		w.Write([]byte("hello"))
		zw.Close()
		load(t, write(t, buf.Bytes()), ErrCorrupt, "manifest.json")
		load(t, write(t, []byte("not a zip at all, just text")), ErrCorrupt, "truncated or is not a checkpoint")
		b := rewriteManifest(t, good, func(m map[string]any) { m["format"] = "other" })
		load(t, write(t, b), ErrCorrupt, "not a GoMoNNto checkpoint")
	})
	t.Run("valid", func(t *testing.T) {
		if err := Load(net, path, LoadOptions{}); err != nil {
			t.Fatal(err)
		}
		if net.Iteration != 12 {
			t.Errorf("iteration %d after Load, want 12", net.Iteration)
		}
	})
}

// rewriteManifest returns the checkpoint b with its manifest changed by f.
func rewriteManifest(t *testing.T, b []byte, f func(map[string]any)) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, zf := range zr.File {
		rc, _ := zf.Open()
		data, _ := io.ReadAll(rc)
		rc.Close()
		if zf.Name == manifestEntry {
			m := map[string]any{}
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatal(err)
			}
			f(m)
			data, _ = json.Marshal(m)
		}
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: zf.Name, Method: zip.Store})
		w.Write(data)
	}
	zw.Close()
	return buf.Bytes()
}

// TestForeignCheckpoint: a checkpoint of a different network is refused
// with a message naming what differs first.
func TestForeignCheckpoint(t *testing.T) {
	path, _ := saved(t)
	other := small(t, 0.006)
	err := Load(other, path, LoadOptions{})
	if !errors.Is(err, ErrFingerprint) || !strings.Contains(err.Error(), "neuron group") {
		t.Errorf("Load into a larger network: %v; want ErrFingerprint naming the neuron group", err)
	}
	// Same sizes, another model of the same shape: a different behaviour.
	b, _ := cpu.New(backend.Options{})
	defer b.Close()
	net, _ := core.NewNetwork(core.Config{Backend: b, Seed: 3})
	g, _ := net.NewNeuronGroup("all", core.Size(385), nil)
	_ = g
	if err := net.Initialize(); err != nil {
		t.Fatal(err)
	}
	err = Load(net, path, LoadOptions{})
	if !errors.Is(err, ErrFingerprint) {
		t.Errorf("Load into another network: %v; want ErrFingerprint", err)
	}
	// A different seed draws other synapses: the structure differs.
	net2, err := buildSmall(0.005, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer net2.Backend().Close()
	err = Load(net2, path, LoadOptions{})
	if !errors.Is(err, ErrFingerprint) || !strings.Contains(err.Error(), "differ") {
		t.Errorf("Load into a network of another seed: %v; want ErrFingerprint naming what differs", err)
	}
}

// TestCheckpointerKeepsAndResumes: every N steps, the newest K kept,
// Resume takes the newest valid one and skips a corrupt newest one.
func TestCheckpointerKeepsAndResumes(t *testing.T) {
	dir := t.TempDir()
	net := small(t, 0.005)
	var log bytes.Buffer
	ck := &Checkpointer{Dir: dir, Every: 4, Keep: 2, Log: &log}
	if err := net.SimulateIterations(13, core.SimOptions{Quiet: true, Hooks: []core.StepHook{ck}}); err != nil {
		t.Fatal(err)
	}
	paths, err := Checkpoints(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 2 || filepath.Base(paths[0]) != "ckpt-000000000012.npz" || filepath.Base(paths[1]) != "ckpt-000000000008.npz" {
		t.Fatalf("checkpoints %v, want those of iterations 12 and 8", paths)
	}
	want, _ := StateHash(net)
	// Corrupt the newest: Resume falls back to iteration 8 and says so.
	b, _ := os.ReadFile(paths[0])
	os.WriteFile(paths[0], b[:len(b)/2], 0o644)
	fresh := small(t, 0.005)
	var warn bytes.Buffer
	p, err := Resume(fresh, dir, &warn)
	if err != nil || p != paths[1] || fresh.Iteration != 8 || !strings.Contains(warn.String(), "skipping") {
		t.Fatalf("Resume: %s, %v at iteration %d; warnings %q", p, err, fresh.Iteration, warn.String())
	}
	steps(t, fresh, 5)
	if got, _ := StateHash(fresh); got != want {
		t.Errorf("resumed at 8 and run to 13: state differs from the run that wrote the checkpoints")
	}
	if _, err := Resume(small(t, 0.005), t.TempDir(), nil); !errors.Is(err, ErrNoCheckpoint) {
		t.Errorf("Resume of an empty folder: %v, want ErrNoCheckpoint", err)
	}
}

// TestNonFiniteNotSaved: Save refuses a state with NaN (naming the
// variable and element), the NaN guard stops the run at the right step
// naming the variable, neuron and iteration, and the last good
// checkpoint stays the newest.
func TestNonFiniteNotSaved(t *testing.T) {
	b, _ := cpu.New(backend.Options{})
	defer b.Close()
	net, _ := core.NewNetwork(core.Config{Backend: b, Seed: 1})
	inject := &core.BehaviorFunc{Iter: func(o core.Object) error {
		if o.Net().Iteration == 23 {
			return b.Write(o.Var("v"), 6, []float32{float32(math.NaN())})
		}
		return nil
	}}
	g, err := net.NewNeuronGroup("E", core.Size(10), core.Behaviors{1: &models.LIF{}, 2: inject})
	if err != nil {
		t.Fatal(err)
	}
	_ = g
	if err := net.AddBehavior(100, &core.NaNGuard{Every: 5}); err != nil {
		t.Fatal(err)
	}
	if err := net.Initialize(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ck := &Checkpointer{Dir: dir, Every: 10}
	err = net.SimulateIterations(100, core.SimOptions{Quiet: true, Hooks: []core.StepHook{ck}})
	if !errors.Is(err, core.ErrNonFinite) {
		t.Fatalf("run with a NaN: %v, want core.ErrNonFinite", err)
	}
	for _, s := range []string{`"v"`, `"E"`, "element 6", "iteration 25"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("%q does not say %s", err, s)
		}
	}
	paths, _ := Checkpoints(dir)
	if len(paths) != 2 || !strings.HasSuffix(paths[0], "ckpt-000000000020.npz") {
		t.Errorf("checkpoints %v, want those of iterations 20 and 10", paths)
	}
	err = Save(net, filepath.Join(dir, "x.npz"), SaveOptions{})
	if !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), `variable "v" of "E"`) || !strings.Contains(err.Error(), "element 6") {
		t.Errorf("Save of a state with NaN: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.npz")); !os.IsNotExist(err) {
		t.Errorf("a refused Save left %s", filepath.Join(dir, "x.npz"))
	}
	if err := Save(net, filepath.Join(dir, "x.npz"), SaveOptions{AllowNonFinite: true}); err != nil {
		t.Errorf("Save with AllowNonFinite: %v", err)
	}
}

// TestKillDuringSave kills (SIGKILL) a process that writes a second
// checkpoint at many points of the write: before, inside every few
// kilobytes of data, after the fsync, after the rename and after the
// folder's fsync. Every time the folder holds no partial file under a
// final name, Resume loads a checkpoint whose checksums hold (the new one
// once renamed, else the first), and the next Checkpointer cleans the
// temporary file.
func TestKillDuringSave(t *testing.T) {
	if os.Getenv("GOMONNTO_KILL_HELPER") != "" {
		killHelper()
		return
	}
	probe := t.TempDir()
	size := helperRun(t, probe, "none", 0)
	if size <= 0 {
		t.Fatal("the helper wrote nothing")
	}
	var points []string
	for _, st := range []string{"synced", "renamed", "dirsynced"} {
		points = append(points, st+":0")
	}
	for k := range 30 {
		points = append(points, fmt.Sprintf("data:%d", 1+k*int(size)/30))
	}
	for _, p := range points {
		stage, at, _ := strings.Cut(p, ":")
		n, _ := strconv.ParseInt(at, 10, 64)
		dir := t.TempDir()
		helperRun(t, dir, stage, n)
		ents, _ := os.ReadDir(dir)
		finals := 0
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ckptSuffix) {
				finals++
				if _, err := Inspect(filepath.Join(dir, e.Name())); err != nil {
					t.Errorf("kill at %s: %s under its final name does not verify: %v", p, e.Name(), err)
				}
			}
		}
		net := small(t, 0.005)
		path, err := Resume(net, dir, nil)
		if err != nil {
			t.Errorf("kill at %s: Resume: %v", p, err)
			continue
		}
		wantIt := 5
		if stage == "renamed" || stage == "dirsynced" {
			wantIt = 9
		}
		if net.Iteration != wantIt {
			t.Errorf("kill at %s: resumed %s at iteration %d, want %d", p, filepath.Base(path), net.Iteration, wantIt)
		}
		ck := &Checkpointer{Dir: dir}
		if _, err := ck.Save(net); err != nil {
			t.Fatal(err)
		}
		if tmps, _ := filepath.Glob(filepath.Join(dir, "*"+tmpSuffix)); len(tmps) > 0 {
			t.Errorf("kill at %s: temporary files left after the next checkpoint: %v", p, tmps)
		}
		_ = finals
	}
}

// helperRun runs the kill helper in dir (killed at stage after n bytes;
// "none": not killed) and returns the size of the second checkpoint.
func helperRun(t *testing.T, dir, stage string, n int64) int64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillDuringSave$")
	cmd.Env = append(os.Environ(), "GOMONNTO_KILL_HELPER="+dir, "GOMONNTO_KILL_AT="+stage+":"+strconv.FormatInt(n, 10))
	out, err := cmd.CombinedOutput()
	if stage == "none" {
		if err != nil {
			t.Fatalf("helper: %v\n%s", err, out)
		}
		st, err := os.Stat(CheckpointPath(dir, 9))
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("helper at %s:%d was not killed: %v\n%s", stage, n, err, out)
	}
	return 0
}

// killHelper writes a checkpoint at iteration 5 and, with the kill hook
// armed, one at iteration 9.
func killHelper() {
	dir := os.Getenv("GOMONNTO_KILL_HELPER")
	stage, at, _ := strings.Cut(os.Getenv("GOMONNTO_KILL_AT"), ":")
	n, _ := strconv.ParseInt(at, 10, 64)
	net, err := buildSmall(0.005, 3)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ck := &Checkpointer{Dir: dir}
	if err := net.SimulateIterations(5, core.SimOptions{Quiet: true}); err != nil {
		os.Exit(2)
	}
	if _, err := ck.Save(net); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := net.SimulateIterations(4, core.SimOptions{Quiet: true}); err != nil {
		os.Exit(2)
	}
	SetKillHook(func(s string, written int64) {
		if s == stage && written >= n {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
	})
	if _, err := ck.Save(net); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Exit(0)
}
