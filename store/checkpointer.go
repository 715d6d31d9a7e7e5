package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gomonnto/gomonnto/core"
)

// ErrNoCheckpoint is returned by Resume when a folder holds no checkpoint.
var ErrNoCheckpoint = errors.New("no checkpoint")

// ErrStopped is wrapped by the error that ends a run on SIGTERM or
// SIGINT after its checkpoint was written (Checkpointer.Signals).
var ErrStopped = errors.New("stopped by a signal after a checkpoint")

// Checkpoint files in a folder are ckpt-<iteration>.npz.
const ckptPrefix, ckptSuffix = "ckpt-", ".npz"

// CheckpointPath is the file of the checkpoint at iteration it in dir.
func CheckpointPath(dir string, it int) string {
	return filepath.Join(dir, fmt.Sprintf("%s%012d%s", ckptPrefix, it, ckptSuffix))
}

// Checkpoints lists the checkpoints in dir, newest (highest iteration)
// first; files being written (.tmp) are not listed.
func Checkpoints(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("store: list checkpoints: %w", err)
	}
	type ck struct {
		path string
		it   int
	}
	var cks []ck
	for _, e := range ents {
		name := e.Name()
		if e.IsDir() || !strings.HasPrefix(name, ckptPrefix) || !strings.HasSuffix(name, ckptSuffix) {
			continue
		}
		it, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(name, ckptPrefix), ckptSuffix))
		if err != nil {
			continue
		}
		cks = append(cks, ck{filepath.Join(dir, name), it})
	}
	sort.Slice(cks, func(a, b int) bool { return cks[a].it > cks[b].it })
	out := make([]string, len(cks))
	for k, c := range cks {
		out[k] = c.path
	}
	return out, nil
}

// Resume loads the newest valid checkpoint in dir into net and returns
// its path. A checkpoint that is corrupt (truncated, a failed checksum) is
// reported to log and the one before it is tried; one of a different
// network or a newer format is an error. A folder without checkpoints
// gives an error wrapping ErrNoCheckpoint.
func Resume(net *core.Network, dir string, log io.Writer) (string, error) {
	paths, err := Checkpoints(dir)
	if err != nil {
		return "", err
	}
	if len(paths) == 0 {
		return "", fmt.Errorf("store: %s: %w (files %s*%s)", dir, ErrNoCheckpoint, ckptPrefix, ckptSuffix)
	}
	if log == nil {
		log = io.Discard
	}
	var first error
	for _, p := range paths {
		err := Load(net, p, LoadOptions{})
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, ErrCorrupt) {
			return "", err
		}
		if first == nil {
			first = err
		}
		fmt.Fprintf(log, "warning: skipping checkpoint: %v\n", err)
	}
	return "", fmt.Errorf("store: %s: no valid checkpoint (%d corrupt; the newest: %w)", dir, len(paths), first)
}

// Checkpointer writes checkpoints of a network into a folder: every Every
// steps, on the signals of Slurm's preemption warning and of a stop
// (SIGUSR1, SIGTERM, SIGINT) if Signals is set, and when asked (Save).
// Give it to SimulateIterations as a hook (core.SimOptions.Hooks). It
// keeps the newest Keep checkpoints (3 if 0) and removes older ones and
// files left half-written by a crash.
type Checkpointer struct {
	Dir   string
	Every int
	Keep  int
	// Signals: SIGUSR1 writes a checkpoint and the run goes on; SIGTERM
	// and SIGINT write one and stop the run with an error wrapping
	// ErrStopped.
	Signals bool
	// Log receives a line per checkpoint written (nil: none).
	Log io.Writer
	// Options are used for every checkpoint.
	Options SaveOptions

	sig     chan os.Signal
	last    int // iteration of the last checkpoint written
	started bool
}

// Start makes the folder and starts listening to the signals. AfterStep
// calls it if needed; call it yourself to catch signals from the first
// step on.
func (c *Checkpointer) Start() error {
	if c.started {
		return nil
	}
	if c.Dir == "" {
		return errors.New("store: Checkpointer.Dir is empty; give the folder for the checkpoints")
	}
	if c.Every < 0 || c.Keep < 0 {
		return fmt.Errorf("store: Checkpointer: Every %d and Keep %d must not be negative", c.Every, c.Keep)
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return fmt.Errorf("store: checkpoint folder: %w", err)
	}
	if c.Signals {
		c.sig = make(chan os.Signal, 4)
		signal.Notify(c.sig, syscall.SIGUSR1, syscall.SIGTERM, syscall.SIGINT)
	}
	c.started, c.last = true, -1
	return nil
}

// Stop stops listening to the signals.
func (c *Checkpointer) Stop() {
	if c.sig != nil {
		signal.Stop(c.sig)
		c.sig = nil
	}
	c.started = false
}

// AfterStep writes a checkpoint when one is due (core.StepHook).
func (c *Checkpointer) AfterStep(n *core.Network) error {
	if !c.started {
		if err := c.Start(); err != nil {
			return err
		}
	}
	if c.sig != nil {
		select {
		case s := <-c.sig:
			if _, err := c.Save(n); err != nil {
				return err
			}
			if s != syscall.SIGUSR1 {
				return fmt.Errorf("store: %w: %v at iteration %d (checkpoint in %s)", ErrStopped, s, n.Iteration, c.Dir)
			}
			return nil
		default:
		}
	}
	if c.Every > 0 && n.Iteration%c.Every == 0 {
		_, err := c.Save(n)
		return err
	}
	return nil
}

// Save writes a checkpoint of n now (unless one of this iteration was
// just written) and returns its path.
func (c *Checkpointer) Save(n *core.Network) (string, error) {
	if !c.started {
		if err := c.Start(); err != nil {
			return "", err
		}
	}
	path := CheckpointPath(c.Dir, n.Iteration)
	if c.last == n.Iteration {
		return path, nil
	}
	t0 := time.Now()
	if err := Save(n, path, c.Options); err != nil {
		return "", err
	}
	c.last = n.Iteration
	if c.Log != nil {
		size := int64(-1)
		if st, err := os.Stat(path); err == nil {
			size = st.Size()
		}
		fmt.Fprintf(c.Log, "checkpoint: iteration %d written to %s (%.1f MiB in %.2f s)\n", n.Iteration, path, float64(size)/(1<<20), time.Since(t0).Seconds())
	}
	return path, c.prune()
}

// prune removes checkpoints beyond the newest Keep and leftover
// temporary files.
func (c *Checkpointer) prune() error {
	keep := c.Keep
	if keep == 0 {
		keep = 3
	}
	paths, err := Checkpoints(c.Dir)
	if err != nil {
		return err
	}
	for _, p := range paths[min(keep, len(paths)):] {
		if err := os.Remove(p); err != nil {
			return fmt.Errorf("store: remove old checkpoint: %w", err)
		}
	}
	tmps, _ := filepath.Glob(filepath.Join(c.Dir, "."+ckptPrefix+"*"+tmpSuffix))
	for _, p := range tmps {
		os.Remove(p)
	}
	return nil
}
