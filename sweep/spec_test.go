package sweep

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPointIDAndSeed(t *testing.T) {
	a := PointID(map[string]float64{"we": 0.5, "n": 100})
	b := PointID(map[string]float64{"n": 100, "we": 0.5})
	if a != b || len(a) != 12 {
		t.Fatalf("IDs %q and %q: want the same 12 hex digits for the same parameters", a, b)
	}
	if a == PointID(map[string]float64{"we": 0.5000001, "n": 100}) {
		t.Fatal("different parameters gave the same ID")
	}
	if PointSeed(1, a) == PointSeed(2, a) || PointSeed(1, a) != PointSeed(1, a) || PointSeed(1, a) >= 1<<53 {
		t.Fatal("point seeds must differ between sweep seeds, repeat, and stay below 2^53")
	}
}

func TestSpecPoints(t *testing.T) {
	s := Spec{Name: "g", Seed: 3, Method: Grid, Params: []Param{
		{Name: "a", Values: []float64{1, 2, 3}},
		{Name: "b", Min: f64(0), Max: f64(1), Steps: 2},
	}}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	pts := s.staticPoints()
	if len(pts) != 6 || pts[0].Params["a"] != 1 || pts[0].Params["b"] != 0 || pts[1].Params["b"] != 1 || pts[5].Params["a"] != 3 {
		t.Fatalf("grid: %v", pts)
	}
	r := Spec{Name: "r", Seed: 3, Method: Random, Samples: 5, Params: []Param{{Name: "x", Min: f64(1), Max: f64(100), Log: true}}}
	p1, p2 := r.staticPoints(), r.staticPoints()
	for k := range p1 {
		if p1[k].ID != p2[k].ID || p1[k].Params["x"] < 1 || p1[k].Params["x"] > 100 {
			t.Fatalf("random points differ or leave the range: %v %v", p1[k], p2[k])
		}
	}
}

func TestSpecErrors(t *testing.T) {
	for _, c := range []struct{ spec, want string }{
		{`{"name":"a","method":"grid","params":[{"name":"x","values":[1]}],"objective":{"command":"prog -x {x} -y {y}"}}`, "unknown placeholder {y}"},
		{`{"name":"a","method":"grid","params":[{"name":"x","values":[1]},{"name":"z","values":[2]}],"objective":{"command":"prog -x {x}"}}`, `parameter "z" is not in the command`},
		{`{"name":"a","method":"grid","params":[{"name":"x","values":[1]}],"objectiv":{}}`, `unknown field "objectiv"`},
		{`{"name":"a","method":"grids","params":[{"name":"x","values":[1]}]}`, `method "grids"`},
		{`{"name":"a","method":"cmaes","generations":2,"params":[{"name":"x"}],"objective":{"score":"s"}}`, `give min and max`},
		{`{"name":"a","method":"grid","params":[{"name":"status","values":[1]}]}`, `is a column of the table`},
		{`{"name":"a","method":"ga","generations":2,"params":[{"name":"x","init":1}],"ga":{"constraints":["x > y"]},"objective":{"score":"s"}}`, `unknown name "y"`},
		{`{"name":"a","method":"grid","params":[{"name":"x","values":[1]}],"objective":{"command":"prog -x {x} {resume} -checkpoint {ckpt}"}}`, `give objective.steps`},
	} {
		_, err := ParseSpec([]byte(c.spec))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("spec %s: error %v, want one containing %q", c.spec, err, c.want)
		}
	}
}

func TestTemplate(t *testing.T) {
	s := Spec{Name: "t", Method: Grid, Params: []Param{{Name: "we", Values: []float64{0.5}}, {Name: "n", Values: []float64{100}}},
		Objective: ObjectiveSpec{Command: `{bin} "a b" -x={we}mV {flags} -s {seed} {resume} -checkpoint {ckpt} -steps {steps} {{lit}}`, Vars: map[string]string{"bin": "/x/coba"}, Steps: 10}}
	tm, err := s.template()
	if err != nil {
		t.Fatal(err)
	}
	p := s.newPoint(0, 0, map[string]float64{"we": 0.5, "n": 100})
	vals := map[string]string{"bin": "/x/coba", "seed": "7", "ckpt": "/c", "steps": "4"}
	got := strings.Join(tm.expand(&s, vals, p, true), "|")
	want := "/x/coba|a b|-x=0.5mV|-we|0.5|-n|100|-s|7|-resume|/c|-checkpoint|/c|-steps|4|{lit}"
	if got != want {
		t.Fatalf("expanded\n %s\nwant\n %s", got, want)
	}
	if got := strings.Join(tm.expand(&s, vals, p, false), "|"); strings.Contains(got, "-resume") {
		t.Fatalf("without a checkpoint {resume} must vanish: %s", got)
	}
}

func TestConstraint(t *testing.T) {
	names := []string{"a", "b"}
	for _, c := range []struct {
		src  string
		a, b float64
		want bool
	}{
		{"b >= a", 1, 2, true}, {"b >= a", 3, 2, false}, {"a + b < 2 && a > 0", 0.5, 1, true},
		{"a + b < 2 and a > 0", -0.5, 1, false}, {"!(a == b) || a > 10", 1, 1, false}, {"abs(a - b) <= 0.5*max(a, b)", 2, 3, true},
		{"a*1e-3 < 1e-2", 5, 0, true}, {"not a > b", 1, 2, true},
	} {
		e, err := parseConstraint(c.src, names)
		if err != nil {
			t.Fatalf("%s: %v", c.src, err)
		}
		if got := e(map[string]float64{"a": c.a, "b": c.b}) != 0; got != c.want {
			t.Errorf("%s at a=%v b=%v: %v, want %v", c.src, c.a, c.b, got, c.want)
		}
	}
	for _, bad := range []string{"a >", "a +* b", "(a", "c > 1", "sqrt(a, b)"} {
		if _, err := parseConstraint(bad, names); err == nil {
			t.Errorf("%q parsed; want an error", bad)
		}
	}
}

// TestErrorsReported: a list sweep whose points are fine, name an
// unknown parameter, print no JSON, fail every attempt and fail once:
// each failure is in the table and on the console with the point and the
// reason, and the other points are done.
func TestErrorsReported(t *testing.T) {
	bin := build(t, "sweep/testdata/fakeobj")
	// mode: 0 ok, 1 prints no JSON, 2 fails every time, 3 fails at attempt 1
	s := Spec{Name: "errs", Seed: 1, Method: List,
		Params: []Param{{Name: "x"}, {Name: "mode"}},
		Points: []map[string]float64{{"x": 1, "mode": 0}, {"x": 2, "mode": 1}, {"x": 3, "mode": 2}, {"x": 4, "mode": 3}, {"x": 5, "wx": 1, "mode": 0}, {"x": 6, "mode": 0}},
		Objective: ObjectiveSpec{Command: "{bin} -x {x} -seed {seed} -attempt {attempt} -mode {mode}",
			Vars: map[string]string{"bin": bin}},
		Attempts: 2, Threads: 1,
	}
	dir := t.TempDir()
	sw, err := Create(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	var prog bytes.Buffer
	sum, err := sw.Run(context.Background(), nil, RunOptions{Workers: 2, Progress: &prog})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Done != 3 || sum.Failed != 3 || !sum.Finished {
		t.Fatalf("summary %+v; want 3 done (ok, flaky, ok) and 3 failed; progress:\n%s", sum, prog.String())
	}
	var rep bytes.Buffer
	sum.Report(&rep)
	rows, err := sw.Gather()
	if err != nil {
		t.Fatal(err)
	}
	byX := map[float64]Row{}
	for _, r := range rows {
		byX[r.Params["x"]] = r
	}
	for _, c := range []struct {
		x                  float64
		status             string
		attempts, failures int
		err                string
	}{
		{1, "done", 1, 0, ""},
		{2, "failed", 2, 2, "not a JSON object (\"rate: 5 Hz\")"},
		{3, "failed", 2, 2, "exit status 1: error: the model diverged at step 17"},
		{4, "done", 2, 1, ""},
		{5, "failed", 0, 0, "unknown parameter wx: the spec's params are x, mode"},
		{6, "done", 1, 0, ""},
	} {
		r := byX[c.x]
		if r.Status != c.status || r.Attempts != c.attempts || r.Failures != c.failures || !strings.Contains(r.Error, c.err) || (c.err == "") != (r.Error == "") {
			t.Errorf("point x=%v: status %s, attempts %d, failures %d, error %q; want %s, %d, %d, %q", c.x, r.Status, r.Attempts, r.Failures, r.Error, c.status, c.attempts, c.failures, c.err)
		}
		if c.err != "" && !strings.Contains(prog.String()+rep.String(), r.ID) {
			t.Errorf("point %s (x=%v) is not named on the console:\n%s%s", r.ID, c.x, prog.String(), rep.String())
		}
	}
	for _, want := range []string{"not a JSON object", "the model diverged", "unknown parameter wx", "transient failure"} {
		if !strings.Contains(prog.String()+rep.String(), want) {
			t.Errorf("console lacks %q:\n%s%s", want, prog.String(), rep.String())
		}
	}
	_, tab := readTable(t, filepath.Join(dir, "results.csv"))
	if r := tab[byX[3].ID]; r["status"] != "failed" || !strings.Contains(r["error"], "diverged") || r["attempts"] != "2" {
		t.Errorf("results.csv row of the failing point: %v", r)
	}
	t.Logf("console:\n%s%s", prog.String(), rep.String())
}

// TestUnknownFlag: a parameter the program does not know fails every
// point with the program's own message, and the sweep goes on.
func TestUnknownFlag(t *testing.T) {
	bin := build(t, "sweep/testdata/fakeobj")
	s := Spec{Name: "flag", Method: Grid, Params: []Param{{Name: "x", Values: []float64{1, 2}}, {Name: "wx", Values: []float64{1}}},
		Objective: ObjectiveSpec{Command: "{bin} {flags}", Vars: map[string]string{"bin": bin}}}
	sw, err := Create(t.TempDir(), s)
	if err != nil {
		t.Fatal(err)
	}
	var prog bytes.Buffer
	sum, err := sw.Run(context.Background(), nil, RunOptions{Progress: &prog})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed != 2 || !strings.Contains(prog.String(), "flag provided but not defined: -wx") {
		t.Fatalf("summary %+v, console:\n%s", sum, prog.String())
	}
}

func TestWorkerBudget(t *testing.T) {
	if w, err := WorkerBudget(0, 2, 8); err != nil || w != 4 {
		t.Fatalf("0 workers of 2 threads on 8 cores: %d, %v; want 4", w, err)
	}
	if _, err := WorkerBudget(3, 2, 4); err == nil || !strings.Contains(err.Error(), "3 workers x 2 threads = 6 exceed the 4 cores") {
		t.Fatalf("error %v", err)
	}
	if _, err := WorkerBudget(1, 5, 4); err == nil {
		t.Fatal("5 threads on 4 cores accepted")
	}
}

// TestKubeManifest checks the Indexed Job written for the cloud path.
func TestKubeManifest(t *testing.T) {
	s := Spec{Name: "Coba_WE", Method: Grid, Params: []Param{{Name: "we", Values: []float64{0.3, 0.6, 0.9}}},
		Objective: ObjectiveSpec{Command: "/opt/coba -we {we} -json"}, Threads: 2, Attempts: 3}
	dir := t.TempDir()
	sw, err := Create(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	path, err := sw.KubeJob(KubeOptions{Image: "registry.example/gomonnto:1", Claim: "sweeps", Parallelism: 2})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		APIVersion, Kind string
		Metadata         struct{ Name string }
		Spec             struct {
			CompletionMode       string
			Completions          int
			Parallelism          int
			BackoffLimitPerIndex *int
			PodFailurePolicy     struct {
				Rules []struct {
					Action          string
					OnPodConditions []struct{ Type string }
				}
			}
			Template struct {
				Spec struct {
					RestartPolicy                 string
					TerminationGracePeriodSeconds int
					Containers                    []struct {
						Image, Name  string
						Command      []string
						Args         []string
						Env          []struct{ Name, Value string }
						Resources    struct{ Requests, Limits map[string]string }
						VolumeMounts []struct{ Name, MountPath string }
					}
					Volumes []struct {
						Name                  string
						PersistentVolumeClaim struct{ ClaimName string }
					}
				}
			}
		}
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	sp := m.Spec
	c := sp.Template.Spec.Containers
	if m.APIVersion != "batch/v1" || m.Kind != "Job" || m.Metadata.Name != "coba-we-g0-s1" || sp.CompletionMode != "Indexed" ||
		sp.Completions != 3 || sp.Parallelism != 2 || sp.BackoffLimitPerIndex == nil || sp.Template.Spec.RestartPolicy != "Never" ||
		sp.Template.Spec.TerminationGracePeriodSeconds != 120 || len(c) != 1 || c[0].Image != "registry.example/gomonnto:1" ||
		strings.Join(c[0].Args, " ") != "sweep task -out /sweep -sub 1" || c[0].Resources.Limits["cpu"] != "2" ||
		len(c[0].VolumeMounts) != 1 || c[0].VolumeMounts[0].MountPath != "/sweep" ||
		len(sp.Template.Spec.Volumes) != 1 || sp.Template.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != "sweeps" ||
		len(sp.PodFailurePolicy.Rules) != 1 || sp.PodFailurePolicy.Rules[0].OnPodConditions[0].Type != "DisruptionTarget" {
		t.Fatalf("manifest:\n%s", b)
	}
	if c[0].Env[0].Name != "GOMAXPROCS" || c[0].Env[0].Value != "2" {
		t.Fatalf("env %v", c[0].Env)
	}
	subs, err := sw.Submissions()
	if err != nil || len(subs) != 1 || subs[0].Kind != "kube" || len(subs[0].IDs) != 3 {
		t.Fatalf("submission %v, %v", subs, err)
	}
	if p, err := exec.LookPath("kubectl"); err == nil {
		t.Logf("kubectl at %s is not run (no cluster needed)", p)
	}
}

func TestExpandTasks(t *testing.T) {
	got := strings.Join(expandTasks("41_[2-4,7%2]"), " ")
	if got != "41_2 41_3 41_4 41_7" {
		t.Fatalf("expandTasks: %s", got)
	}
	if got := expandTasks("41_3"); len(got) != 1 || got[0] != "41_3" {
		t.Fatalf("expandTasks: %v", got)
	}
}

// TestTimeout: an attempt past the spec's timeout is stopped and counts
// as a failure with the reason.
func TestTimeout(t *testing.T) {
	bin := build(t, "sweep/testdata/fakeobj")
	s := Spec{Name: "slow", Method: List, Params: []Param{{Name: "x"}, {Name: "mode"}},
		Points:    []map[string]float64{{"x": 1, "mode": 4}, {"x": 2, "mode": 0}},
		Objective: ObjectiveSpec{Command: "{bin} {flags}", Vars: map[string]string{"bin": bin}}, Timeout: "300ms"}
	sw, err := Create(t.TempDir(), s)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	sum, err := sw.Run(context.Background(), nil, RunOptions{Workers: 2})
	if err != nil || sum.Failed != 1 || sum.Done != 1 || !strings.Contains(sum.Failures[0].Err.Error(), "timed out after 300ms") {
		t.Fatalf("%+v %v", sum, err)
	}
	if d := time.Since(t0); d > 10*time.Second {
		t.Fatalf("the timed-out point took %v", d)
	}
	if _, err := sw.Run(context.Background(), nil, RunOptions{RetryFailed: true}); err != nil {
		t.Fatal(err)
	}
}
