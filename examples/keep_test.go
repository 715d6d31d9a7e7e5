package examples

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomonnto/gomonnto/store"
)

// runJSON runs an example and returns its JSON line and stderr.
func runJSON(t *testing.T, bin string, args ...string) map[string]any {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s", filepath.Base(bin), args, err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var res map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("last stdout line is not JSON: %q: %v", lines[len(lines)-1], err)
	}
	return res
}

// TestExamplesKeep runs every example as one run of N steps and as a run
// of 3N/5 steps with -checkpoint, then -resume with 2N/5 more: the end
// state (state_sha256), iteration and spikes must be the same; -resume
// -steps 0 reports the checkpoint's state; -save writes a results folder
// that store.Open and List read (with its parameters) and, where numpy is
// installed, numpy loads with the same values.
func TestExamplesKeep(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the example programs; skipped in -short mode")
	}
	dir := t.TempDir()
	cases := []struct {
		name string
		args []string
	}{
		{"basic", nil},
		{"lif", nil},
		{"izhikevich", []string{"-ne", "400", "-ni", "100"}},
		{"izhikevich2003", []string{"-ne", "400", "-ni", "100"}},
		{"coba", []string{"-n", "1000"}},
		{"lifstdp", []string{"-n", "400"}},
		{"izhstdp", []string{"-n", "400"}},
		{"pd14", []string{"-scale", "0.02", "-warmup", "2ms"}},
		{"sorn", []string{"-ne", "100"}},
		{"hh", []string{"-dt", "0.05ms"}},
		{"hindmarsh_rose", []string{"-dt", "0.1ms", "-i", "4"}},
		{"wang_buzsaki", []string{"-dt", "0.1ms", "-i", "10"}},
		{"brunel_hakim", []string{"-n", "1000", "-c", "200"}},
		{"hopfield", nil},
		{"synfire", nil},
		{"stdp", nil},
	}
	const n = 50
	for _, c := range cases {
		bin := build(t, c.name, dir)
		for _, be := range backends() {
			t.Run(c.name+"/"+be, func(t *testing.T) {
				base := append([]string{"-backend=" + be, "-deterministic", "-seed=5", "-json"}, c.args...)
				with := func(extra ...string) []string { return append(append([]string(nil), base...), extra...) }
				one := runJSON(t, bin, with("-steps=50")...)
				ck := filepath.Join(dir, c.name+"-"+be+"-ck")
				first := runJSON(t, bin, with("-steps=30", "-checkpoint", ck, "-checkpoint-every", "10")...)
				paths, err := store.Checkpoints(ck)
				if err != nil || len(paths) != 3 {
					t.Fatalf("checkpoints in %s: %v, %v (want those of iterations 20, 30 and the end, the newest 3)", ck, paths, err)
				}
				saved := filepath.Join(dir, c.name+"-"+be+"-runs")
				second := runJSON(t, bin, with("-steps=20", "-resume", ck, "-save", saved)...)
				for _, k := range []string{"state_sha256", "iteration", "spikes", "neurons", "synapses"} {
					if second[k] != one[k] {
						t.Errorf("%s: %v after 30 + resumed 20 steps, %v after 50 in one run", k, second[k], one[k])
					}
				}
				if first["iteration"] == one["iteration"] || second["steps"] != float64(20) {
					t.Errorf("iterations %v then %v, steps %v", first["iteration"], second["iteration"], second["steps"])
				}
				report := runJSON(t, bin, with("-steps=0", "-resume", ck)...)
				if report["state_sha256"] != first["state_sha256"] || report["iteration"] != first["iteration"] {
					t.Errorf("-resume -steps 0 reports %v at %v, the checkpointing run ended with %v at %v",
						report["state_sha256"], report["iteration"], first["state_sha256"], first["iteration"])
				}
				runs, err := store.List(saved)
				if err != nil || len(runs) != 1 {
					t.Fatalf("store.List(%s): %d runs, %v", saved, len(runs), err)
				}
				m := runs[0].Manifest()
				if m.Status != store.StatusDone || m.Params["steps"] != float64(20) || m.Results["state_sha256"] != one["state_sha256"] || m.Backend != be {
					t.Errorf("results folder manifest: status %q, params %v, results %v", m.Status, m.Params, m.Results)
				}
				var tbl bytes.Buffer
				if err := store.Table(&tbl, runs, "spikes"); err != nil || !strings.Contains(tbl.String(), "steps") {
					t.Errorf("Table: %v\n%s", err, tbl.String())
				}
				checkNumpy(t, runs[0])
			})
		}
	}
}

// checkNumpy loads every array of a results folder with numpy (where
// python3 with numpy is installed; CI installs it) and compares it with
// what Go reads.
func checkNumpy(t *testing.T, r *store.Run) {
	t.Helper()
	py := numpyPython()
	if py == "" {
		if os.Getenv("CI") == "true" || os.Getenv("GOMONNTO_REQUIRE_NUMPY") != "" {
			t.Fatal("numpy is required here (CI=true or GOMONNTO_REQUIRE_NUMPY) but python3 -c 'import numpy' fails; bash .ci/setup installs python3-numpy")
		}
		t.Log("python3 with numpy not found: skipping the numpy check")
		return
	}
	for _, f := range r.Manifest().Files {
		name := strings.TrimSuffix(f.Name, ".npy")
		var data []byte
		switch f.DType {
		case "<i4":
			x, _, err := store.ReadArray[int32](r, name)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range x {
				data = binary.LittleEndian.AppendUint32(data, uint32(v))
			}
		case "<f4":
			x, _, err := store.ReadArray[float32](r, name)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range x {
				data = binary.LittleEndian.AppendUint32(data, math.Float32bits(v))
			}
		case "<i8":
			x, _, err := store.ReadArray[int64](r, name)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range x {
				data = binary.LittleEndian.AppendUint64(data, uint64(v))
			}
		default:
			t.Errorf("%s: dtype %s not checked", f.Name, f.DType)
			continue
		}
		sum := sha256.Sum256(data)
		// numpy's values, little-endian, hashed: equal bit for bit.
		out, err := exec.Command(py, "-c", `import numpy as np, sys, json, hashlib
a = np.load(sys.argv[1])
print(json.dumps({"shape": list(a.shape), "dtype": a.dtype.str, "sha256": hashlib.sha256(np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes()).hexdigest()}))`, filepath.Join(r.Dir, f.Name)).CombinedOutput()
		if err != nil {
			t.Fatalf("numpy cannot load %s: %v\n%s", f.Name, err, out)
		}
		var got struct {
			Shape  []int
			DType  string
			SHA256 string
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("numpy on %s: %q", f.Name, out)
		}
		if fmt.Sprint(got.Shape) != fmt.Sprint(f.Shape) || got.DType != f.DType || got.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: numpy reads %s %v (values sha256 %.12s), Go %s %v (%.12s)", f.Name, got.DType, got.Shape, got.SHA256, f.DType, f.Shape, hex.EncodeToString(sum[:]))
		}
	}
}

// numpyPython returns a Python that imports numpy: Debian's
// /usr/bin/python3 (python3-numpy, which .ci/setup installs) before
// whatever python3 is first on PATH, or "" if neither does.
func numpyPython() string {
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(p, "-c", "import numpy").Run() == nil {
			return p
		}
	}
	return ""
}
