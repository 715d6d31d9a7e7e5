package sweep

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"testing"
)

var (
	binDir   string
	binMu    sync.Mutex
	binBuilt = map[string]string{}
)

func TestMain(m *testing.M) {
	d, err := os.MkdirTemp("", "sweep-bin-")
	if err != nil {
		panic(err)
	}
	binDir = d
	code := m.Run()
	os.RemoveAll(d)
	os.Exit(code)
}

// moduleRoot is the repository root (the folder holding go.mod).
func moduleRoot(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// build builds the package pkg (relative to the module root) once per
// test binary and returns the program's path.
func build(t testing.TB, pkg string) string {
	t.Helper()
	binMu.Lock()
	defer binMu.Unlock()
	if p, ok := binBuilt[pkg]; ok {
		return p
	}
	out := filepath.Join(binDir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, "./"+pkg)
	cmd.Dir = moduleRoot(t)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	binBuilt[pkg] = out
	return out
}

func f64(x float64) *float64 { return &x }

// cobaSpec is a grid sweep of COBA's excitatory weight, n neurons, steps
// steps with checkpoints every ckEvery steps and {resume}.
func cobaSpec(t testing.TB, name string, wes []float64, n, steps, ckEvery int) Spec {
	coba := build(t, "examples/coba")
	return Spec{
		Name: name, Seed: 11, Method: Grid,
		Params: []Param{{Name: "we", Values: wes}},
		Objective: ObjectiveSpec{
			Command: "{bin} -backend cpu -n " + itoa(n) + " -seed {seed} -we {we} -json -steps {steps} {resume} -checkpoint {ckpt} -checkpoint-every " + itoa(ckEvery),
			Vars:    map[string]string{"bin": coba},
			Steps:   steps,
		},
		Attempts: 2, Threads: 1,
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// timing are the columns that differ between runs of the same points.
var timing = map[string]bool{"wall_s": true, "result_wall_s": true, "result_us_per_step": true, "result_rtf": true}

// restartCols differ for a point that was resumed from a checkpoint: it
// ran fewer steps in its last process.
var restartCols = map[string]bool{"attempts": true, "restarts": true, "resumed_from": true, "result_steps": true, "result_duration_s": true}

// readTable reads a results.csv as maps by id.
func readTable(t testing.TB, path string) ([]string, map[string]map[string]string) {
	t.Helper()
	head, recs, err := ReadCSV(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]string{}
	for _, r := range recs {
		m := map[string]string{}
		for k, h := range head {
			m[h] = r[k]
		}
		out[m["id"]] = m
	}
	return head, out
}

// diffTables compares two tables but for the columns skip says; it
// returns the differences.
func diffTables(a, b map[string]map[string]string, skip func(id, col string) bool) []string {
	var d []string
	for id, ra := range a {
		rb, ok := b[id]
		if !ok {
			d = append(d, "point "+id+" only in the first")
			continue
		}
		for c, va := range ra {
			if skip(id, c) {
				continue
			}
			if rb[c] != va {
				d = append(d, "point "+id+" column "+c+": "+va+" vs "+rb[c])
			}
		}
	}
	for id := range b {
		if _, ok := a[id]; !ok {
			d = append(d, "point "+id+" only in the second")
		}
	}
	sort.Strings(d)
	return d
}
