// Command gomonnto is GoMoNNto's command-line tool. Its one verb so far is
// sweep: parameter sweeps and evolution of any program that prints a JSON
// result (the examples with -json), on every core of this machine or as
// Slurm array jobs, with one table of results (CSV and Parquet).
//
//	gomonnto sweep run      -spec s.json -out DIR [-workers N] [-retry-failed]
//	gomonnto sweep submit   -spec s.json -out DIR [-throttle K] [-signal S] [-time T] [-partition P] [-sbatch ARG]...
//	gomonnto sweep status   -out DIR [-all]
//	gomonnto sweep resubmit -out DIR
//	gomonnto sweep gather   -out DIR [-next]
//	gomonnto sweep table    -out DIR [-csv FILE] [-parquet FILE] [-runs]
//	gomonnto sweep kube     -out DIR -image IMG -claim PVC [-parallelism K]
//	gomonnto sweep task     -out DIR -sub N [-index I]   (what a job's task runs)
//
// `gomonnto sweep -spec s.json -out DIR -local` is sweep run and `-slurm`
// sweep submit. See `gomonnto sweep -h` and the sweep package's doc.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/gomonnto/gomonnto/store"
	"github.com/gomonnto/gomonnto/sweep"
)

const usage = `usage: gomonnto sweep VERB [flags]

A sweep evaluates a program (or a Go function) at the points of a spec (a
JSON file: a grid, a list, random samples, CMA-ES or PymoNNto's genetic
algorithm) and keeps everything in one folder, -out DIR: the spec, one
folder per point (its result, log and checkpoints) and the table
(results.csv, results.parquet). Running it again evaluates only the points
without a result; an optimiser replays its seeded generations against the
stored results and goes on where it stopped.

verbs:
  run       evaluate on this machine: -workers at a time, each with the
            spec's threads (workers x threads <= cores); SIGINT/SIGTERM stop
            the running points with a checkpoint; run again to continue
  submit    send the current generation to Slurm: an array job (a task per
            point, --requeue, --signal=B:USR1@S so that a point checkpoints
            before preemption) and a gather job after it (afterany), which
            writes the table and submits an optimiser's next generation
  status    points done, failed, running, pending (from squeue),
            interrupted and missing; -all lists the done ones too
  resubmit  send again the points without a result that are not queued
  gather    write results.csv and results.parquet; -next continues on Slurm
  table     print the table (-csv/-parquet FILE: write it there too;
            -runs: as store.Table prints results folders)
  kube      write the current generation as a Kubernetes Indexed Job
            manifest (kube/job-N.json) for a cluster; submits nothing
  task      evaluate task -index of submission -sub (array jobs run this;
            the index defaults to $SLURM_ARRAY_TASK_ID or $JOB_COMPLETION_INDEX)

gomonnto sweep -spec s.json -out DIR -local   is   sweep run
gomonnto sweep -spec s.json -out DIR -slurm   is   sweep submit

A spec (see the sweep package's documentation for every field):

  {"name": "coba-we", "seed": 1, "method": "grid",
   "params": [{"name": "we", "values": [0.3, 0.45, 0.6, 0.75]}],
   "objective": {"command": "{bin} -backend cpu -n 400 -seed {seed} -we {we} -json",
                 "vars": {"bin": "./coba"}},
   "attempts": 2, "threads": 1}

Placeholders: {<param>} {seed} {id} {dir} {ckpt} {steps} {threads}
{attempt} {<var>}, and the whole words {flags} (-<param> <value> each) and
{resume} (-resume <ckpt> when the point has a checkpoint).
`

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gomonnto:", err)
		var ee exitError
		if errors.As(err, &ee) {
			os.Exit(int(ee))
		}
		os.Exit(1)
	}
}

// exitError is an exit status (2: usage).
type exitError int

func (e exitError) Error() string { return "exit status " + strconv.Itoa(int(e)) }

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "sweep" {
		fmt.Fprint(stderr, usage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "help") {
			return nil
		}
		return errors.New("give a verb: gomonnto sweep VERB (see above)")
	}
	args = args[1:]
	verb := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		verb, args = args[0], args[1:]
	}
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help") && verb == "" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	fs := flag.NewFlagSet("gomonnto sweep "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fmt.Fprintf(stderr, "\nflags of %s:\n", fs.Name())
		fs.PrintDefaults()
	}
	specPath := fs.String("spec", "", "the sweep's spec (JSON); needed to make the folder, checked against it afterwards")
	out := fs.String("out", "", "the sweep folder")
	local := fs.Bool("local", false, "without a verb: run on this machine (sweep run)")
	slurm := fs.Bool("slurm", false, "without a verb: submit to Slurm (sweep submit)")
	workers := fs.Int("workers", 0, "run: points at once (0: cores / the spec's threads)")
	retry := fs.Bool("retry-failed", false, "run: evaluate the failed points again")
	gens := fs.Int("generations", 0, "run: stop after this many generations (0: to the end)")
	quiet := fs.Bool("q", false, "run: no progress lines")
	var so sweep.SlurmOptions
	fs.IntVar(&so.Throttle, "throttle", 0, "submit: at most K tasks of the array at once (%K; 0: no limit)")
	fs.IntVar(&so.SignalBefore, "signal", 120, "submit: seconds before the time limit at which Slurm sends USR1 (the point checkpoints)")
	fs.StringVar(&so.Time, "time", "", "submit: sbatch --time of each task")
	fs.StringVar(&so.Partition, "partition", "", "submit: sbatch --partition")
	fs.StringVar(&so.Account, "account", "", "submit: sbatch --account")
	fs.StringVar(&so.Driver, "driver", "", "submit: the gomonnto binary the jobs run (default: this one, copied into DIR/bin)")
	fs.BoolVar(&so.DryRun, "dry-run", false, "submit: write the batch scripts, submit nothing")
	fs.Func("sbatch", "submit: one more sbatch option, such as --mem=2G (repeatable)", func(s string) error {
		so.Args = append(so.Args, s)
		return nil
	})
	all := fs.Bool("all", false, "status: list the done points too")
	next := fs.Bool("next", false, "gather: then submit the next generation of an optimiser (what the gather job runs)")
	csvPath := fs.String("csv", "", "table: write the CSV table to this file too")
	pqPath := fs.String("parquet", "", "table: write the Parquet table to this file too")
	runs := fs.Bool("runs", false, "table: print the points as store.Table prints results folders")
	sub := fs.Int("sub", 0, "task: the submission")
	index := fs.Int("index", -1, "task: the task's index (-1: $SLURM_ARRAY_TASK_ID or $JOB_COMPLETION_INDEX)")
	var ko sweep.KubeOptions
	fs.StringVar(&ko.Image, "image", "", "kube: the container image (with gomonnto and the objective's programs)")
	fs.StringVar(&ko.Claim, "claim", "", "kube: the PersistentVolumeClaim holding the sweep folder")
	fs.StringVar(&ko.MountPath, "mount", "/sweep", "kube: where the claim is mounted in the pods (the folder's path there)")
	fs.IntVar(&ko.Parallelism, "parallelism", 0, "kube: pods at once (0: all)")
	fs.StringVar(&ko.Namespace, "namespace", "", "kube: the Job's namespace")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return exitError(2)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q (flags go before them? see -h)", fs.Args())
	}
	if verb == "" {
		switch {
		case *local && *slurm:
			return errors.New("give -local or -slurm, not both")
		case *local:
			verb = "run"
		case *slurm:
			verb = "submit"
		default:
			fs.Usage()
			return errors.New("give a verb (run, submit, status, ...) or -local / -slurm")
		}
	}
	if *out == "" {
		return fmt.Errorf("sweep %s: give the sweep folder with -out DIR", verb)
	}
	open := func() (*sweep.Sweep, error) {
		if *specPath != "" {
			spec, err := sweep.ReadSpec(*specPath)
			if err != nil {
				return nil, err
			}
			return sweep.Create(*out, spec)
		}
		return sweep.Open(*out)
	}
	s, err := open()
	if err != nil {
		return err
	}
	switch verb {
	case "run":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		o := sweep.RunOptions{Workers: *workers, RetryFailed: *retry, Generations: *gens, Progress: stderr}
		if *quiet {
			o.Progress = nil
		}
		sum, err := s.Run(ctx, nil, o)
		sum.Report(stderr)
		if err != nil {
			return err
		}
		if _, err := s.Gather(); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "table: %s/results.csv, %s/results.parquet\n", *out, *out)
		if len(sum.Failures) > 0 {
			return fmt.Errorf("%d points failed (see above and the table's error column)", len(sum.Failures))
		}
		return nil
	case "submit":
		_, err := s.Submit(context.Background(), so, stderr)
		return err
	case "resubmit":
		_, err := s.Resubmit(context.Background(), so, stderr)
		return err
	case "status":
		r, err := s.Status(context.Background(), so)
		if err != nil {
			return err
		}
		r.Print(stdout, *all)
		return nil
	case "gather":
		return s.GatherNext(context.Background(), *next, stderr)
	case "table":
		rows, err := s.Rows()
		if err != nil {
			return err
		}
		if *runs {
			rs, err := s.Runs()
			if err != nil {
				return err
			}
			if err := store.Table(stdout, rs); err != nil {
				return err
			}
		} else if err := s.PrintTable(stdout, rows); err != nil {
			return err
		}
		for _, w := range []struct {
			path  string
			write func(io.Writer, []sweep.Row) error
		}{{*csvPath, s.WriteCSV}, {*pqPath, s.WriteParquet}} {
			if w.path == "" {
				continue
			}
			f, err := os.Create(w.path)
			if err != nil {
				return err
			}
			if err := w.write(f, rows); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
		}
		return nil
	case "kube":
		path, err := s.KubeJob(ko)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote %s; apply it with kubectl apply -f %s, then run gomonnto sweep gather -out %s\n", path, path, *out)
		return nil
	case "task":
		i := *index
		if i < 0 {
			for _, v := range []string{"SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"} {
				if e := os.Getenv(v); e != "" {
					if i, err = strconv.Atoi(e); err != nil {
						return fmt.Errorf("$%s=%q is not a number", v, e)
					}
					break
				}
			}
			if i < 0 {
				return errors.New("sweep task: give -index, or run it as a Slurm array task or in a Kubernetes Indexed Job")
			}
		}
		// SIGUSR1 (Slurm's warning) is passed on: the point checkpoints
		// and goes on; SIGTERM and SIGINT stop it after a checkpoint.
		usr := make(chan os.Signal, 4)
		signal.Notify(usr, syscall.SIGUSR1)
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		err := s.Task(ctx, nil, *sub, i, usr, stderr)
		if errors.Is(err, sweep.ErrInterrupted) && ctx.Err() != nil {
			fmt.Fprintln(stderr, "gomonnto: stopped by a signal; the point continues from its checkpoint when it runs again")
			return exitError(143)
		}
		return err
	}
	fs.Usage()
	return fmt.Errorf("unknown verb %q", verb)
}
