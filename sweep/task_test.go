package sweep

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestTaskSignals runs a point as an array task does (Task): SIGUSR1
// (Slurm's warning, --signal=B:USR1@S) makes the running point write a
// checkpoint and go on; cancelling (SIGTERM) stops it after another
// checkpoint; the task run again resumes from it and ends in the state
// an uninterrupted run of the program reaches (state_sha256).
func TestTaskSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("runs COBA")
	}
	const steps = 2500000
	spec := cobaSpec(t, "sig", []float64{0.6}, 100, steps, 0)
	spec.Objective.Command = "{bin} -backend cpu -n 100 -seed {seed} -we {we} -json -steps {steps} {resume} -checkpoint {ckpt}"
	s, err := Create(t.TempDir(), spec)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := s.Submit(context.Background(), SlurmOptions{DryRun: true, Driver: "/bin/true"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := sub.IDs[0]
	ckpt := filepath.Join(s.PointDir(id), "ckpt")
	sigs := make(chan os.Signal, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var log bytes.Buffer
	go func() { done <- s.Task(ctx, nil, sub.Number, 0, sigs, &log) }()
	waitFor := func(what string, f func() bool) {
		t.Helper()
		for t0 := time.Now(); !f(); time.Sleep(10 * time.Millisecond) {
			if time.Since(t0) > 30*time.Second {
				cancel()
				t.Fatalf("no %s in 30 s; point log:\n%s", what, mustRead(filepath.Join(s.PointDir(id), "log")))
			}
		}
	}
	waitFor("start", func() bool {
		return bytes.Contains(mustRead(filepath.Join(s.PointDir(id), "log")), []byte("== sweep sig: point"))
	})
	time.Sleep(500 * time.Millisecond) // the network is built, the loop runs
	sigs <- syscall.SIGUSR1
	var usrIt int
	waitFor("checkpoint after SIGUSR1", func() bool { var ok bool; usrIt, ok = newestCheckpoint(ckpt); return ok })
	select {
	case err := <-done:
		t.Fatalf("the point ended after SIGUSR1 (%v); it should go on", err)
	case <-time.After(200 * time.Millisecond):
	}
	cancel()
	err = <-done
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("cancelled task: %v, want ErrInterrupted", err)
	}
	termIt, _ := newestCheckpoint(ckpt)
	if !(usrIt > 0 && termIt > usrIt && termIt < steps) {
		t.Fatalf("checkpoints at %d (SIGUSR1) and %d (SIGTERM) of %d steps", usrIt, termIt, steps)
	}
	if m, _ := s.result(id); m != nil {
		t.Fatal("an interrupted point has a result")
	}
	if err := s.Task(context.Background(), nil, sub.Number, 0, nil, &log); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	m, err := s.result(id)
	if err != nil || m == nil || m.Status != statusDone {
		t.Fatalf("result %v, %v", m, err)
	}
	st, _ := s.readState(Point{ID: id})
	if st.Attempts != 2 || st.Failures != 0 || st.ResumedFrom != termIt || m.Results["steps"] != float64(steps-termIt) {
		t.Fatalf("attempts %d failures %d resumed_from %d steps %v; want 2, 0, %d, %d", st.Attempts, st.Failures, st.ResumedFrom, m.Results["steps"], termIt, steps-termIt)
	}
	p, _ := s.findPoint(id)
	out, err := exec.Command(spec.Objective.Vars["bin"], "-backend", "cpu", "-n", "100", "-seed", strconv.FormatUint(p.Seed, 10),
		"-we", "0.6", "-json", "-steps", strconv.Itoa(steps)).Output()
	if err != nil {
		t.Fatal(err)
	}
	whole, err := lastJSON(out)
	if err != nil {
		t.Fatal(err)
	}
	if whole["state_sha256"] != m.Results["state_sha256"] || whole["spikes"] != m.Results["spikes"] {
		a, _ := json.Marshal(whole)
		t.Fatalf("resumed point: state %v, spikes %v; uninterrupted run: %s", m.Results["state_sha256"], m.Results["spikes"], a)
	}
	t.Logf("checkpoints at %d (SIGUSR1) and %d (SIGTERM); resumed to %d steps, state and %v spikes equal to an uninterrupted run", usrIt, termIt, steps, m.Results["spikes"])
}

func mustRead(path string) []byte {
	b, _ := os.ReadFile(path)
	return b
}
