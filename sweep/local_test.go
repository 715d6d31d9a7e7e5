package sweep

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/gomonnto/gomonnto/store"
)

// countResults counts the points of dir with a result.
func countResults(dir string) int {
	m, _ := filepath.Glob(filepath.Join(dir, "points", "*", "manifest.json"))
	return len(m)
}

func writeSpec(t testing.TB, s Spec) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "spec.json")
	if err := writeJSON(path, s); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLocalKillRerun: a 12-point COBA sweep run by gomonnto sweep run
// with 2 workers is killed with SIGKILL after 5 results; run again, it
// evaluates exactly the points without a result, and its table equals a
// clean run's but for the timing columns (and the steps of points that
// were resumed from their checkpoint).
func TestLocalKillRerun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs COBA 24 times")
	}
	drv := build(t, "cmd/gomonnto")
	wes := []float64{0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3}
	spec := writeSpec(t, cobaSpec(t, "kill", wes, 100, 200000, 50000))
	dir := filepath.Join(t.TempDir(), "sweep")
	t0 := time.Now()
	cmd := exec.Command(drv, "sweep", "run", "-spec", spec, "-out", dir, "-workers", "2")
	var first bytes.Buffer
	cmd.Stderr = &first
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	inFlight := func() int { // started, no result yet
		n := 0
		ps, _ := filepath.Glob(filepath.Join(dir, "points", "*", "point.json"))
		for _, p := range ps {
			if _, err := os.Stat(filepath.Join(filepath.Dir(p), "manifest.json")); err != nil {
				n++
			}
		}
		return n
	}
	for countResults(dir) < 5 || inFlight() == 0 {
		if time.Since(t0) > 2*time.Minute {
			cmd.Process.Kill()
			t.Fatalf("no 5 results in 2 minutes:\n%s", first.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // into the running points' simulation
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	time.Sleep(200 * time.Millisecond) // the children die with the driver (Pdeathsig)
	before := map[string][]byte{}
	ms, _ := filepath.Glob(filepath.Join(dir, "points", "*", "manifest.json"))
	for _, m := range ms {
		b, _ := os.ReadFile(m)
		before[filepath.Base(filepath.Dir(m))] = b
	}
	killedAt := len(before)
	t.Logf("killed after %d results (%.2f s)", killedAt, time.Since(t0).Seconds())
	if killedAt >= len(wes) {
		t.Fatal("the sweep finished before it was killed; make the points longer")
	}
	out, err := exec.Command(drv, "sweep", "run", "-spec", spec, "-out", dir, "-workers", "2").CombinedOutput()
	if err != nil {
		t.Fatalf("rerun: %v\n%s", err, out)
	}
	want := strconv.Itoa(len(wes)-killedAt) + " evaluated, " + strconv.Itoa(killedAt) + " had a result; " + strconv.Itoa(len(wes)) + " done"
	if !bytes.Contains(out, []byte(want)) {
		t.Fatalf("rerun did not evaluate exactly the %d points without a result (want %q):\n%s", len(wes)-killedAt, want, out)
	}
	if n := len(regexp.MustCompile(`(?m)point \w+ \(we=[0-9.]+\) done in`).FindAll(out, -1)); n != len(wes)-killedAt {
		t.Fatalf("rerun finished %d points, want %d:\n%s", n, len(wes)-killedAt, out)
	}
	for id, b := range before {
		now, _ := os.ReadFile(filepath.Join(dir, "points", id, "manifest.json"))
		if !bytes.Equal(now, b) {
			t.Errorf("point %s had a result before the rerun, and the rerun changed it", id)
		}
	}
	clean := filepath.Join(t.TempDir(), "clean")
	if out, err := exec.Command(drv, "sweep", "run", "-spec", spec, "-out", clean, "-workers", "2", "-q").CombinedOutput(); err != nil {
		t.Fatalf("clean run: %v\n%s", err, out)
	}
	_, a := readTable(t, filepath.Join(dir, "results.csv"))
	_, b := readTable(t, filepath.Join(clean, "results.csv"))
	resumed := 0
	defer func() {
		if resumed == 0 {
			t.Errorf("no point was running when the driver was killed")
		}
	}()
	for id, r := range a {
		if _, ok := before[id]; ok && r["attempts"] != "1" {
			t.Errorf("point %s was done before the kill but has %s attempts", id, r["attempts"])
		}
		if r["attempts"] != "1" {
			resumed++
			t.Logf("point %s was running when killed: attempts %s, resumed from iteration %s, steps in its last process %s", id, r["attempts"], r["resumed_from"], r["result_steps"])
		}
	}
	if d := diffTables(a, b, func(id, c string) bool {
		return timing[c] || restartCols[c] && a[id]["attempts"] != "1"
	}); len(d) > 0 {
		t.Fatalf("the table of the killed and rerun sweep differs from a clean run's:\n%v", d)
	}
	// The points' folders are results folders: store.List reads them.
	runs, err := store.List(filepath.Join(dir, "points"))
	if err != nil || len(runs) != len(wes) {
		t.Fatalf("store.List: %d runs, %v", len(runs), err)
	}
	var tab bytes.Buffer
	if err := store.Table(&tab, runs, "rate_hz"); err != nil || !bytes.Contains(tab.Bytes(), []byte("rate_hz")) {
		t.Fatalf("store.Table: %v\n%s", err, tab.String())
	}
	rows, _ := ReadParquet(filepath.Join(dir, "results.parquet"))
	if len(rows) != len(wes) {
		t.Fatalf("results.parquet has %d rows, want %d", len(rows), len(wes))
	}
	for _, r := range rows {
		c := a[r["id"].(string)]
		if c == nil || cellText(r["result_rate_hz"]) != c["result_rate_hz"] || cellText(r["we"]) != c["we"] || cellText(r["status"]) != "done" {
			t.Fatalf("parquet row %v differs from the CSV row %v", r, c)
		}
	}
	t.Logf("%d points were interrupted by the kill and completed by the rerun; total %.1f s", resumed, time.Since(t0).Seconds())
}
