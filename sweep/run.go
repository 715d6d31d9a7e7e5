package sweep

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

// RunOptions configure a local run.
type RunOptions struct {
	// Workers is the number of points evaluated at once (0: as many as
	// the cores allow: Cores / the spec's threads).
	Workers int
	// Cores is the machine's budget (0: runtime.NumCPU()). Workers times
	// the spec's threads must not exceed it.
	Cores int
	// Progress receives a line per point finished or failed (nil: none).
	Progress io.Writer
	// RetryFailed evaluates again the points whose result is a failure.
	RetryFailed bool
	// Generations stops after evaluating this many generations (0: run
	// to the end); the next Run continues.
	Generations int
}

// Summary tells what a Run did.
type Summary struct {
	// Evaluated counts the points this run evaluated (to a result or an
	// interruption), Skipped those that had a result already.
	Evaluated, Skipped int
	// Done and Failed count the sweep's points with those results.
	Done, Failed int
	// Failures are this run's failed points with their errors.
	Failures []Failure
	// Generations is the number proposed so far; Finished tells whether
	// the sweep has nothing left to evaluate.
	Generations int
	Finished    bool

	results int // points this run brought to a result
}

// Failure is a point that failed, with the reason.
type Failure struct {
	Point Point
	Err   error
}

// WorkerBudget returns the workers for threads per point on cores cores
// (0: all): workers 0 means as many as fit. It refuses more.
func WorkerBudget(workers, threads, cores int) (int, error) {
	if cores <= 0 {
		cores = runtime.NumCPU()
	}
	if threads < 1 {
		threads = 1
	}
	if threads > cores {
		return 0, fmt.Errorf("sweep: %d threads per point exceed the %d cores of this machine; lower threads in the spec (or -threads)", threads, cores)
	}
	if workers == 0 {
		return cores / threads, nil
	}
	if workers < 0 || workers*threads > cores {
		return 0, fmt.Errorf("sweep: %d workers x %d threads = %d exceed the %d cores of this machine; lower -workers or threads (at most %d workers of %d threads)",
			workers, threads, workers*threads, cores, cores/threads, threads)
	}
	return workers, nil
}

// scores reads the points' results as scores (memoised per call).
func (s *Sweep) scores() scoreFunc {
	cache := map[string]float64{}
	return func(p Point) (float64, bool) {
		if f, ok := cache[p.ID]; ok {
			return f, true
		}
		m, err := s.result(p.ID)
		if err != nil || m == nil {
			return 0, false
		}
		f := s.Spec.score(m.Status, m.Results)
		cache[p.ID] = f
		return f, true
	}
}

// current replays the sweep and records its generations; it returns the
// generation to evaluate (-1: finished), its points and all generations.
func (s *Sweep) current() (int, []Point, [][]Point, error) {
	gens, cur, err := s.replay(s.scores())
	if err != nil {
		return 0, nil, nil, err
	}
	for g, pts := range gens {
		if err := s.recordGeneration(g, pts); err != nil {
			return 0, nil, nil, err
		}
	}
	if cur < 0 {
		return -1, nil, gens, nil
	}
	return cur, gens[cur], gens, nil
}

// Run evaluates the sweep on this machine: the points without a result,
// Workers at a time, generation after generation, until the sweep is
// finished, ctx ends (the running points are stopped with SIGTERM, so
// that they checkpoint; they resume when the sweep runs again) or
// Generations are done. obj nil runs the spec's command. Failed points
// do not stop the others; they are in the Summary, on Progress and in
// the table.
func (s *Sweep) Run(ctx context.Context, obj Objective, o RunOptions) (Summary, error) {
	var sum Summary
	unlock, err := s.lock()
	if err != nil {
		return sum, err
	}
	defer unlock()
	if obj == nil {
		if obj, err = s.commandObjective(); err != nil {
			return sum, err
		}
	}
	workers, err := WorkerBudget(o.Workers, s.Spec.threads(), o.Cores)
	if err != nil {
		return sum, err
	}
	prog := o.Progress
	if prog == nil {
		prog = io.Discard
	}
	if o.RetryFailed {
		if s.Spec.Method == CMAES || s.Spec.Method == GA {
			return sum, fmt.Errorf("sweep: retrying failed points of an optimiser would change the scores its later generations were drawn from; start it again in a new folder")
		}
		if err := s.clearFailed(); err != nil {
			return sum, err
		}
	}
	for ran := 0; ; ran++ {
		cur, pts, gens, err := s.current()
		if err != nil {
			return sum, err
		}
		sum.Generations = len(gens)
		if cur < 0 {
			sum.Finished = true
			break
		}
		if o.Generations > 0 && ran == o.Generations {
			break
		}
		var todo []Point
		for _, p := range pts {
			if m, err := s.result(p.ID); err != nil {
				return sum, err
			} else if m != nil {
				continue
			}
			todo = append(todo, p)
		}
		fmt.Fprintf(prog, "sweep %s: generation %d: %d points, %d to evaluate, %d workers x %d threads\n",
			s.Spec.Name, cur, len(pts), len(todo), workers, s.Spec.threads())
		if err := s.runPoints(ctx, obj, todo, workers, prog, &sum); err != nil {
			return sum, err
		}
		if ctx.Err() != nil {
			break
		}
		var left []string
		for _, p := range todo {
			if m, err := s.result(p.ID); err != nil {
				return sum, err
			} else if m == nil {
				left = append(left, p.ID)
			}
		}
		if len(left) > 0 {
			return sum, fmt.Errorf("sweep %s: %w: points %s were stopped from outside (a signal to their processes) and have no result; run the sweep again to continue them",
				s.Spec.Name, ErrInterrupted, strings.Join(left, ", "))
		}
	}
	if err := s.count(&sum); err != nil {
		return sum, err
	}
	if ctx.Err() != nil {
		return sum, fmt.Errorf("sweep %s: %w: %v (run it again to continue)", s.Spec.Name, ErrInterrupted, context.Cause(ctx))
	}
	return sum, nil
}

// count fills Done and Failed from every recorded point.
func (s *Sweep) count(sum *Summary) error {
	rows, err := s.Rows()
	if err != nil {
		return err
	}
	sum.Done, sum.Failed = 0, 0
	for _, r := range rows {
		switch r.Status {
		case statusDone:
			sum.Done++
		case statusFailed:
			sum.Failed++
		}
	}
	sum.Skipped = sum.Done + sum.Failed - sum.results
	return nil
}

// clearFailed removes the failed results of the current points, so that
// they are evaluated again.
func (s *Sweep) clearFailed() error {
	gens, err := s.Generations()
	if err != nil {
		return err
	}
	for _, pts := range gens {
		for _, p := range pts {
			m, err := s.result(p.ID)
			if err != nil || m == nil || m.Status != statusFailed {
				continue
			}
			if err := os.Remove(s.PointDir(p.ID) + "/manifest.json"); err != nil {
				return fmt.Errorf("sweep: %w", err)
			}
			st, err := s.readState(p)
			if err != nil {
				return err
			}
			st.Failures, st.LastError = 0, ""
			if err := s.writeState(&st); err != nil {
				return err
			}
		}
	}
	return nil
}

// runPoints evaluates points with workers goroutines.
func (s *Sweep) runPoints(ctx context.Context, obj Objective, pts []Point, workers int, prog io.Writer, sum *Summary) error {
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		firstEr error
		done    int
		running int
	)
	t0 := time.Now()
	say := func(f string, a ...any) {
		fmt.Fprintf(prog, "sweep %s: "+f+"\n", append([]any{s.Spec.Name}, a...)...)
	}
	jobs := make(chan Point)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range jobs {
				mu.Lock()
				running++
				mu.Unlock()
				pt0 := time.Now()
				status, err := s.evaluate(ctx, p, obj, nil, func(line string) {
					mu.Lock()
					say("%s", line)
					mu.Unlock()
				})
				mu.Lock()
				running--
				switch {
				case status == "":
					if firstEr == nil {
						firstEr = err
					}
				case status == statusInterrupted:
					sum.Evaluated++
					say("point %s (%s) interrupted: %v", p.ID, describe(p.Params), err)
				default:
					sum.Evaluated++
					sum.results++
					done++
					what := fmt.Sprintf("done in %.1f s", time.Since(pt0).Seconds())
					if status == statusFailed {
						sum.Failures = append(sum.Failures, Failure{p, err})
						what = "FAILED: " + err.Error()
					}
					eta := ""
					if left := len(pts) - done; left > 0 && done > 0 {
						eta = fmt.Sprintf(", about %s left", (time.Since(t0) / time.Duration(done) * time.Duration(left)).Round(time.Second))
					}
					say("%d/%d, %d running%s; point %s (%s) %s", done, len(pts), running, eta, p.ID, describe(p.Params), what)
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, p := range pts {
		select {
		case jobs <- p:
		case <-ctx.Done():
			break feed
		}
		mu.Lock()
		bad := firstEr != nil
		mu.Unlock()
		if bad {
			break
		}
	}
	close(jobs)
	wg.Wait()
	return firstEr
}

// failureLines writes failures as lines.
func failureLines(fs []Failure) string {
	sort.Slice(fs, func(a, b int) bool { return fs[a].Point.Index < fs[b].Point.Index })
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  point %s (%s): %v\n", f.Point.ID, describe(f.Point.Params), f.Err)
	}
	return b.String()
}

// Report writes a summary of a run: counts and every failure.
func (sum Summary) Report(w io.Writer) {
	state := "not finished; run it again to continue"
	if sum.Finished {
		state = "finished"
	}
	fmt.Fprintf(w, "%d evaluated, %d had a result; %d done, %d failed; %d generations; %s\n",
		sum.Evaluated, sum.Skipped, sum.Done, sum.Failed, sum.Generations, state)
	if len(sum.Failures) > 0 {
		fmt.Fprintf(w, "failed points:\n%s", failureLines(sum.Failures))
	}
}
