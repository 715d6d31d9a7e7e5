package store

import (
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/gomonnto/gomonnto/core"
)

// TestCheckpointOnSignals: SIGUSR1 (Slurm's warning before preemption)
// writes a checkpoint and the run goes on; SIGTERM writes one and stops
// the run with ErrStopped; the checkpoints resume.
func TestCheckpointOnSignals(t *testing.T) {
	for _, c := range []struct {
		sig  syscall.Signal
		stop bool
	}{{syscall.SIGUSR1, false}, {syscall.SIGTERM, true}} {
		t.Run(c.sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			net := small(t, 0.005)
			ck := &Checkpointer{Dir: dir, Signals: true}
			if err := ck.Start(); err != nil {
				t.Fatal(err)
			}
			defer ck.Stop()
			sent := 0
			send := &core.BehaviorFunc{Iter: func(o core.Object) error {
				if o.Net().Iteration == 4 {
					sent = 4
					syscall.Kill(os.Getpid(), c.sig)
					time.Sleep(50 * time.Millisecond) // delivered before the step ends
				}
				return nil
			}}
			if err := net.AddBehavior(5000, send); err != nil {
				t.Fatal(err)
			}
			err := net.SimulateIterations(10, core.SimOptions{Quiet: true, Hooks: []core.StepHook{ck}})
			if c.stop != errors.Is(err, ErrStopped) {
				t.Fatalf("run: %v (stop expected: %t)", err, c.stop)
			}
			paths, _ := Checkpoints(dir)
			if sent != 4 || len(paths) != 1 || paths[0] != CheckpointPath(dir, 4) {
				t.Fatalf("checkpoints %v, want the one of iteration 4", paths)
			}
			if want := map[bool]int{true: 4, false: 10}[c.stop]; net.Iteration != want {
				t.Errorf("the run ended at iteration %d, want %d", net.Iteration, want)
			}
			// The network that resumes has the same behaviours (the
			// sender included); without it the checkpoint is refused.
			other := small(t, 0.005)
			if _, err := Resume(other, dir, nil); !errors.Is(err, ErrFingerprint) {
				t.Errorf("Resume into a network without the sender: %v, want ErrFingerprint", err)
			}
			if err := other.AddBehavior(5000, &core.BehaviorFunc{}); err != nil {
				t.Fatal(err)
			}
			if _, err := Resume(other, dir, nil); err != nil || other.Iteration != 4 {
				t.Errorf("Resume: %v at iteration %d", err, other.Iteration)
			}
		})
	}
}
