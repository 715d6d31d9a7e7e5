package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run([]string{"sweep", "-h"}, &out, &errb); err != nil || !strings.Contains(out.String(), "verbs:") {
		t.Fatalf("sweep -h: %v\n%s%s", err, out.String(), errb.String())
	}
	if err := run([]string{"sweep", "-out", t.TempDir()}, &out, &errb); err == nil || !strings.Contains(err.Error(), "give a verb") {
		t.Fatalf("no verb: %v", err)
	}
	if err := run([]string{"sweep", "run"}, &out, &errb); err == nil || !strings.Contains(err.Error(), "-out DIR") {
		t.Fatalf("no -out: %v", err)
	}
	if err := run([]string{"sweep", "status", "-out", t.TempDir()}, &out, &errb); err == nil || !strings.Contains(err.Error(), "not a sweep folder") {
		t.Fatalf("status of an empty folder: %v", err)
	}
}

// TestLocalFlag runs a list sweep with -local, then prints its table,
// status and the table as store.Table prints results folders.
func TestLocalFlag(t *testing.T) {
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "fakeobj")
	cmd := exec.Command("go", "build", "-o", bin, "./sweep/testdata/fakeobj")
	cmd.Dir = "../.."
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	spec := filepath.Join(tmp, "s.json")
	os.WriteFile(spec, []byte(`{"name": "cli", "seed": 4, "method": "grid",
 "params": [{"name": "x", "values": [1, 2, 3]}, {"name": "mode", "values": [0]}],
 "objective": {"command": "`+bin+` {flags} -seed {seed}", "score": "score"}}`), 0o644)
	dir := filepath.Join(tmp, "sw")
	var out, errb bytes.Buffer
	if err := run([]string{"sweep", "-spec", spec, "-out", dir, "-local", "-workers", "1"}, &out, &errb); err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	if !strings.Contains(errb.String(), "3 evaluated, 0 had a result; 3 done, 0 failed") {
		t.Fatalf("console:\n%s", errb.String())
	}
	out.Reset()
	if err := run([]string{"sweep", "table", "-out", dir}, &out, &errb); err != nil || strings.Count(out.String(), "done") != 3 || !strings.Contains(out.String(), "score") {
		t.Fatalf("table: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := run([]string{"sweep", "table", "-runs", "-out", dir}, &out, &errb); err != nil || !strings.Contains(out.String(), "run  ") {
		t.Fatalf("table -runs: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := run([]string{"sweep", "status", "-out", dir}, &out, &errb); err != nil || !strings.HasPrefix(out.String(), "3 points: 3 done") {
		t.Fatalf("status: %v\n%s", err, out.String())
	}
	errb.Reset()
	if err := run([]string{"sweep", "run", "-out", dir}, &out, &errb); err != nil || !strings.Contains(errb.String(), "0 evaluated, 3 had a result") {
		t.Fatalf("rerun: %v\n%s", err, errb.String())
	}
	if err := run([]string{"sweep", "submit", "-out", dir, "-dry-run"}, &out, &errb); err == nil || !strings.Contains(err.Error(), "finished") {
		t.Fatalf("submit of a finished sweep: %v", err)
	}
}
