package sweep

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// needSlurm skips a test without sbatch, unless GOMONNTO_REQUIRE_SLURM
// is set (CI with Slurm up): then a missing or broken Slurm fails it.
func needSlurm(t *testing.T) {
	t.Helper()
	req := os.Getenv("GOMONNTO_REQUIRE_SLURM") != ""
	if _, err := exec.LookPath("sbatch"); err != nil {
		if req {
			t.Fatalf("GOMONNTO_REQUIRE_SLURM is set, but sbatch is not on PATH (%v); start Slurm with bash .ci/slurm-up", err)
		}
		t.Skip("no sbatch (set GOMONNTO_REQUIRE_SLURM=1 to make this a failure); start Slurm with bash .ci/slurm-up")
	}
	out, err := exec.Command("sinfo", "-h", "-o", "%t").CombinedOutput()
	if err != nil || !regexp.MustCompile(`(?m)^(idle|mix|alloc)`).Match(out) {
		t.Fatalf("sbatch is installed but Slurm has no usable node (sinfo: %v: %s); start it with bash .ci/slurm-up", err, out)
	}
}

// cancelJobs cancels the sweep's jobs when the test ends (a failed test
// leaves none behind).
func cancelJobs(t *testing.T, s *Sweep) {
	t.Cleanup(func() {
		subs, _ := s.Submissions()
		var jobs []string
		for _, sub := range subs {
			for _, j := range []string{sub.ArrayJob, sub.GatherJob} {
				if j != "" {
					jobs = append(jobs, j)
				}
			}
		}
		if len(jobs) > 0 {
			exec.Command("scancel", jobs...).Run()
		}
	})
}

func scontrol(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("scontrol", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("scontrol %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// jobField reads Field=value from scontrol show job.
func jobField(show, field string) string {
	m := regexp.MustCompile(`\b` + field + `=(\S*)`).FindStringSubmatch(show)
	if m == nil {
		return ""
	}
	return m[1]
}

// queued lists squeue's "<job>_<index>|STATE|REASON" lines of a job.
func queued(t *testing.T, job string) map[string][2]string {
	out, err := exec.Command("squeue", "-h", "-r", "-j", job, "-o", "%i|%T|%r").CombinedOutput()
	m := map[string][2]string{}
	if err != nil {
		if strings.Contains(string(out), "Invalid job id") {
			return m
		}
		t.Fatalf("squeue: %v: %s", err, out)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Split(l, "|"); len(f) == 3 {
			m[f[0]] = [2]string{f[1], f[2]}
		}
	}
	return m
}

// waitGone waits until the jobs have left the queue.
func waitGone(t *testing.T, deadline time.Time, jobs ...string) {
	t.Helper()
	for {
		n := 0
		for _, j := range jobs {
			n += len(queued(t, j))
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs %v still queued after the deadline", jobs)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestSlurmArray runs an 8-point COBA sweep as a Slurm array (%2) with
// per-point checkpoints, requeues one running task (scontrol requeue,
// then StartTime=now+2 to lift the hold), and checks that the point
// resumed from its checkpoint (restarts 1, fewer steps in its last
// process), that the gather job wrote the table, that it equals the same
// sweep run locally but for the timing columns, and that resubmit sends
// exactly the points without a result.
func TestSlurmArray(t *testing.T) {
	needSlurm(t)
	t0 := time.Now()
	deadline := t0.Add(4 * time.Minute)
	drv := build(t, "cmd/gomonnto")
	wes := []float64{0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0}
	const steps = 500000
	spec := cobaSpec(t, "slurm", wes, 100, steps, 25000)
	root := t.TempDir()
	os.Chmod(root, 0o755)
	dir := filepath.Join(root, "slurm")
	s, err := Create(dir, spec)
	if err != nil {
		t.Fatal(err)
	}
	cancelJobs(t, s)
	var log bytes.Buffer
	o := SlurmOptions{Throttle: 2, SignalBefore: 30, Driver: drv}
	sub, err := s.Submit(context.Background(), o, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	t.Logf("%s", strings.TrimSpace(log.String()))
	script, _ := os.ReadFile(sub.Script)
	for _, want := range []string{"#SBATCH --array=0-7%2", "#SBATCH --requeue", "#SBATCH --signal=B:USR1@30", "#SBATCH --cpus-per-task=1", "#SBATCH --open-mode=append", "exec '" + drv + "' sweep task"} {
		if !strings.Contains(string(script), want) {
			t.Fatalf("the array script lacks %q:\n%s", want, script)
		}
	}
	if g := scontrol(t, "show", "job", sub.GatherJob); !strings.Contains(g, "afterany:"+sub.ArrayJob) {
		t.Fatalf("the gather job does not depend on the array (afterany):\n%s", g)
	}
	// Requeue the first task seen running once it has a checkpoint.
	var victim, victimID string
	for victim == "" {
		if time.Now().After(deadline) {
			t.Fatal("no running task with a checkpoint")
		}
		for task, st := range queued(t, sub.ArrayJob) {
			i, err := strconv.Atoi(task[strings.IndexByte(task, '_')+1:])
			if st[0] != "RUNNING" || err != nil {
				continue
			}
			if it, ok := newestCheckpoint(filepath.Join(s.PointDir(sub.IDs[i]), "ckpt")); ok && it > 0 && it < steps/2 {
				victim, victimID = task, sub.IDs[i]
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	rep, err := s.Status(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	var sb bytes.Buffer
	rep.Print(&sb, false)
	if rep.Counts[statusRunning] == 0 || rep.Counts[statusPending]+rep.Counts[statusRunning]+rep.Counts[statusDone] != len(wes) {
		t.Fatalf("status while running:\n%s", sb.String())
	}
	t.Logf("status before the requeue:\n%s", sb.String())
	scontrol(t, "requeue", victim)
	tq := time.Now()
	t.Logf("requeued %s (point %s) at %.1f s", victim, victimID, time.Since(t0).Seconds())
	for released := false; !released; {
		if time.Now().After(deadline) {
			t.Fatal("the requeued task did not come back")
		}
		show := scontrol(t, "show", "job", victim)
		switch st, reason := jobField(show, "JobState"), jobField(show, "Reason"); {
		case st == "PENDING" && reason == "BeginTime":
			scontrol(t, "update", "JobId="+victim, "StartTime=now+2") // not now: a rerun in the requeue's second fails (job credential revoked), .ci/SLURM.md
			released = true
		case st == "RUNNING" && jobField(show, "Restarts") == "1", st == "COMPLETED":
			released = true
		}
		time.Sleep(100 * time.Millisecond)
	}
	waitGone(t, deadline, sub.ArrayJob, sub.GatherJob)
	t.Logf("array and gather done %.1f s after the requeue, %.1f s in all", time.Since(tq).Seconds(), time.Since(t0).Seconds())
	if g := scontrol(t, "show", "job", sub.GatherJob); jobField(g, "JobState") != "COMPLETED" {
		gl, _ := os.ReadFile(filepath.Join(dir, "slurm", "logs", "gather-0001.out"))
		t.Fatalf("gather job: %s\n%s", jobField(g, "JobState"), gl)
	}
	if v := scontrol(t, "show", "job", victim); jobField(v, "Restarts") != "1" {
		t.Fatalf("the requeued task shows Restarts=%s", jobField(v, "Restarts"))
	}
	_, slurm := readTable(t, filepath.Join(dir, "results.csv"))
	v := slurm[victimID]
	resumed, _ := strconv.Atoi(v["resumed_from"])
	if v["status"] != "done" || v["restarts"] != "1" || v["attempts"] != "2" || resumed <= 0 ||
		v["result_steps"] != strconv.Itoa(steps-resumed) || v["result_iteration"] != strconv.Itoa(steps) {
		t.Fatalf("the requeued point's row: status %s restarts %s attempts %s resumed_from %s steps %s iteration %s; want done, 1, 2, > 0, %d - resumed_from, %d",
			v["status"], v["restarts"], v["attempts"], v["resumed_from"], v["result_steps"], v["result_iteration"], steps, steps)
	}
	plog, _ := os.ReadFile(filepath.Join(s.PointDir(victimID), "log"))
	if !bytes.Contains(plog, []byte("resumed from")) {
		t.Fatalf("the requeued point's log does not show a resume:\n%s", plog)
	}
	t.Logf("requeued point %s: restarts %s, resumed from iteration %d, %s steps after the restart (of %d)", victimID, v["restarts"], resumed, v["result_steps"], steps)

	// The same sweep on this machine.
	local, err := Create(filepath.Join(root, "local"), spec)
	if err != nil {
		t.Fatal(err)
	}
	tl := time.Now()
	if sum, err := local.Run(context.Background(), nil, RunOptions{Workers: 2}); err != nil || sum.Done != len(wes) {
		t.Fatalf("local: %+v %v", sum, err)
	}
	if _, err := local.Gather(); err != nil {
		t.Fatal(err)
	}
	t.Logf("local run %.1f s", time.Since(tl).Seconds())
	_, loc := readTable(t, filepath.Join(root, "local", "results.csv"))
	if d := diffTables(slurm, loc, func(id, c string) bool { return timing[c] || restartCols[c] && id == victimID }); len(d) > 0 {
		t.Fatalf("the Slurm table differs from the local one:\n%s", strings.Join(d, "\n"))
	}
	for id, r := range slurm {
		if id != victimID && (r["restarts"] != "0" || r["attempts"] != "1") {
			t.Fatalf("point %s: restarts %s attempts %s", id, r["restarts"], r["attempts"])
		}
	}

	// Resubmit: nothing is missing; then two points lose their result
	// and only they are sent again.
	if _, err := s.Resubmit(context.Background(), o, nil); !errors.Is(err, ErrFinished) {
		t.Fatalf("resubmit of a complete sweep: %v", err)
	}
	lost := []string{sub.IDs[1], sub.IDs[6]}
	for _, id := range lost {
		if err := os.Remove(filepath.Join(s.PointDir(id), "manifest.json")); err != nil {
			t.Fatal(err)
		}
	}
	rep, _ = s.Status(context.Background(), o)
	if rep.Counts[statusInterrupted] != 2 || rep.Counts[statusDone] != 6 {
		t.Fatalf("status with two lost results: %v", rep.Counts)
	}
	log.Reset()
	sub2, err := s.Resubmit(context.Background(), o, &log)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(sub2.IDs, ",") != strings.Join(lost, ",") {
		t.Fatalf("resubmitted %v, want %v", sub2.IDs, lost)
	}
	waitGone(t, deadline, sub2.ArrayJob, sub2.GatherJob)
	_, again := readTable(t, filepath.Join(dir, "results.csv"))
	if d := diffTables(again, loc, func(id, c string) bool { return timing[c] || restartCols[c] }); len(d) > 0 {
		t.Fatalf("after resubmit the table differs from the local one:\n%s", strings.Join(d, "\n"))
	}
	t.Logf("resubmit of 2 points done; %.1f s in all", time.Since(t0).Seconds())
}

// TestSlurmCMAES runs CMA-ES on Slurm: one array per generation, each
// gather job submitting the next; it proposes what the local run
// proposes and the tables agree.
func TestSlurmCMAES(t *testing.T) {
	needSlurm(t)
	t0 := time.Now()
	deadline := t0.Add(4 * time.Minute)
	drv := build(t, "cmd/gomonnto")
	spec := cobaSpec(t, "slurmcma", nil, 400, 10000, 2500)
	spec.Method, spec.Generations, spec.Population = CMAES, 3, 4
	spec.Params = []Param{{Name: "we", Min: f64(0.3), Max: f64(0.9), Init: f64(0.45)}}
	spec.CMAES = &CMAESSpec{Step: 0.2}
	spec.Objective.Score, spec.Objective.Target = "rate_hz", f64(8)
	root := t.TempDir()
	os.Chmod(root, 0o755)
	s, err := Create(filepath.Join(root, "slurm"), spec)
	if err != nil {
		t.Fatal(err)
	}
	cancelJobs(t, s)
	o := SlurmOptions{Throttle: 2, Driver: drv}
	if _, err := s.Submit(context.Background(), o, nil); err != nil {
		t.Fatal(err)
	}
	for {
		subs, err := s.Submissions()
		if err != nil {
			t.Fatal(err)
		}
		last := subs[len(subs)-1]
		if last.GatherJob != "" && len(queued(t, last.ArrayJob))+len(queued(t, last.GatherJob)) == 0 {
			if rep, _ := s.Status(context.Background(), o); rep.Generation < 0 {
				if len(subs) != spec.Generations {
					t.Fatalf("%d submissions for %d generations", len(subs), spec.Generations)
				}
				break
			}
		}
		if time.Now().After(deadline) {
			gl, _ := filepath.Glob(filepath.Join(root, "slurm", "slurm", "logs", "gather-*.out"))
			var logs []string
			for _, g := range gl {
				b, _ := os.ReadFile(g)
				logs = append(logs, g+":\n"+string(b))
			}
			t.Fatalf("the generations did not finish; %d submissions; gather logs:\n%s", len(subs), strings.Join(logs, "\n"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("3 generations on Slurm in %.1f s", time.Since(t0).Seconds())
	local, err := Create(filepath.Join(root, "local"), spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := local.Run(context.Background(), nil, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	n := sameGenerations(t, s, local)
	local.Gather()
	_, a := readTable(t, filepath.Join(root, "slurm", "results.csv"))
	_, b := readTable(t, filepath.Join(root, "local", "results.csv"))
	if d := diffTables(a, b, func(id, c string) bool { return timing[c] }); len(d) > 0 {
		t.Fatalf("tables differ:\n%s", strings.Join(d, "\n"))
	}
	doneOnce(t, s)
	t.Logf("%d proposals, the same on Slurm and locally; %.1f s in all", n, time.Since(t0).Seconds())
}
