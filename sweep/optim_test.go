package sweep

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// cancelAfter is a Progress writer that cancels after n points finished.
type cancelAfter struct {
	n      int32
	seen   atomic.Int32
	cancel context.CancelFunc
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	if strings.Contains(string(p), ") done in") && c.seen.Add(1) == c.n {
		c.cancel()
	}
	return len(p), nil
}

func sameGenerations(t *testing.T, a, b *Sweep) int {
	t.Helper()
	ga, err := a.Generations()
	if err != nil {
		t.Fatal(err)
	}
	gb, err := b.Generations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ga) != len(gb) {
		t.Fatalf("%d generations uninterrupted, %d interrupted and resumed", len(ga), len(gb))
	}
	n := 0
	for g := range ga {
		if len(ga[g]) != len(gb[g]) {
			t.Fatalf("generation %d: %d points vs %d", g, len(ga[g]), len(gb[g]))
		}
		for k := range ga[g] {
			if ga[g][k].ID != gb[g][k].ID {
				t.Fatalf("generation %d point %d: %s (%v) uninterrupted, %s (%v) resumed", g, k, ga[g][k].ID, ga[g][k].Params, gb[g][k].ID, gb[g][k].Params)
			}
			n++
		}
	}
	return n
}

// doneOnce checks that every point of the sweep was completed by exactly
// one evaluation (its log says "== done" once).
func doneOnce(t *testing.T, s *Sweep) {
	t.Helper()
	rows, err := s.Rows()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Status != statusDone {
			t.Fatalf("point %s: %s %s", r.ID, r.Status, r.Error)
		}
		b, err := os.ReadFile(filepath.Join(s.PointDir(r.ID), "log"))
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(b), "\n== done in"); n != 1 {
			t.Fatalf("point %s was evaluated to the end %d times", r.ID, n)
		}
	}
}

// TestCMAESResume: CMA-ES fits COBA's excitatory weight to a target
// rate; interrupted after its first generation and again in the middle
// of its second (SIGTERM to the running points), and resumed, it
// proposes the same points as an uninterrupted run, and no point is
// evaluated twice.
func TestCMAESResume(t *testing.T) {
	if testing.Short() {
		t.Skip("runs COBA about 30 times")
	}
	spec := cobaSpec(t, "cma", nil, 400, 10000, 2500)
	spec.Method, spec.Generations, spec.Population = CMAES, 5, 4
	spec.Params = []Param{{Name: "we", Min: f64(0.3), Max: f64(0.9), Init: f64(0.45)}}
	spec.CMAES = &CMAESSpec{Step: 0.2}
	spec.Objective.Score, spec.Objective.Target = "rate_hz", f64(8)
	t0 := time.Now()
	a, err := Create(filepath.Join(t.TempDir(), "a"), spec)
	if err != nil {
		t.Fatal(err)
	}
	sa, err := a.Run(context.Background(), nil, RunOptions{Workers: 2})
	if err != nil || !sa.Finished {
		t.Fatalf("uninterrupted: %+v, %v", sa, err)
	}
	tA := time.Since(t0)
	dirB := filepath.Join(t.TempDir(), "b")
	b, err := Create(dirB, spec)
	if err != nil {
		t.Fatal(err)
	}
	s1, err := b.Run(context.Background(), nil, RunOptions{Workers: 2, Generations: 1})
	if g, _ := b.Generations(); err != nil || s1.Finished || len(g) != 2 || s1.Evaluated != len(g[0]) {
		t.Fatalf("first generation: %+v, %v", s1, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s2, err := b.Run(ctx, nil, RunOptions{Workers: 2, Progress: &cancelAfter{n: 1, cancel: cancel}})
	if err == nil || s2.Finished {
		t.Fatalf("the run cancelled in generation 1 ended with %+v, %v", s2, err)
	}
	t.Logf("interrupted: %v", err)
	b, err = Open(dirB) // a new driver
	if err != nil {
		t.Fatal(err)
	}
	s3, err := b.Run(context.Background(), nil, RunOptions{Workers: 2})
	if err != nil || !s3.Finished {
		t.Fatalf("resumed: %+v, %v", s3, err)
	}
	n := sameGenerations(t, a, b)
	doneOnce(t, a)
	doneOnce(t, b)
	rows, _ := b.Rows()
	best, first := math.Inf(1), math.Inf(1)
	for _, r := range rows {
		f := b.Spec.score(r.Status, r.Result)
		best = math.Min(best, f)
		if r.Generation == 0 {
			first = math.Min(first, f)
		}
	}
	for _, r := range rows {
		t.Logf("generation %d: we %.4f rate %v Hz", r.Generation, r.Params["we"], r.Result["rate_hz"])
	}
	t.Logf("%d proposals in %d generations, %d distinct points; |rate - 8 Hz|: best of generation 0 %.3g, best overall %.3g; uninterrupted run %.1f s, all %.1f s",
		n, s3.Generations, len(rows), first, best, tA.Seconds(), time.Since(t0).Seconds())
}

func gaSpec(gens int) Spec {
	return Spec{Name: "ga", Seed: 5, Method: GA, Generations: gens, Population: 8,
		Params:    []Param{{Name: "a", Init: f64(0.5)}, {Name: "b", Init: f64(3), Min: f64(0), Max: f64(10)}},
		GA:        &GASpec{Constraints: []string{"b >= a"}},
		Objective: ObjectiveSpec{Score: "f"}}
}

var quadratic Objective = func(ctx context.Context, t *Task) (map[string]any, error) {
	a, b := t.Params["a"], t.Params["b"]
	return map[string]any{"f": (a-1)*(a-1) + (b-2)*(b-2)}, nil
}

// TestGAResume: the GA stopped after 2 generations and resumed by a new
// driver proposes what an uninterrupted run proposes; survivors are not
// evaluated again; the constraint and the bounds hold.
func TestGAResume(t *testing.T) {
	a, err := Create(filepath.Join(t.TempDir(), "a"), gaSpec(6))
	if err != nil {
		t.Fatal(err)
	}
	var evals atomic.Int32
	count := func(ctx context.Context, t *Task) (map[string]any, error) { evals.Add(1); return quadratic(ctx, t) }
	if s, err := a.Run(context.Background(), count, RunOptions{Workers: 1}); err != nil || !s.Finished {
		t.Fatalf("%+v %v", s, err)
	}
	dir := filepath.Join(t.TempDir(), "b")
	b, _ := Create(dir, gaSpec(6))
	if _, err := b.Run(context.Background(), quadratic, RunOptions{Workers: 1, Generations: 2}); err != nil {
		t.Fatal(err)
	}
	b, _ = Open(dir)
	if s, err := b.Run(context.Background(), quadratic, RunOptions{Workers: 1}); err != nil || !s.Finished {
		t.Fatalf("%+v %v", s, err)
	}
	n := sameGenerations(t, a, b)
	rows, _ := a.Rows()
	if int(evals.Load()) != len(rows) {
		t.Fatalf("%d evaluations for %d distinct points: a point was evaluated twice", evals.Load(), len(rows))
	}
	if n <= len(rows) {
		t.Fatalf("%d proposals, %d distinct points: survivors should be proposed again (and memoised)", n, len(rows))
	}
	best := math.Inf(1)
	for _, r := range rows {
		if r.Params["b"] < r.Params["a"] || r.Params["b"] < 0 || r.Params["b"] > 10 {
			t.Fatalf("point %v breaks b >= a or b in [0, 10]", r.Params)
		}
		best = math.Min(best, r.Result["f"].(float64))
	}
	start := (0.5-1)*(0.5-1) + (3-2)*(3-2.0)
	if !(best < start) {
		t.Fatalf("best f %v is no better than the start's %v", best, start)
	}
	for _, r := range rows {
		t.Logf("generation %d: we %.4f rate %v Hz", r.Generation, r.Params["we"], r.Result["rate_hz"])
	}
	t.Logf("%d proposals, %d evaluations; f: start %.3g, best %.3g", n, len(rows), start, best)
}

// TestGAOperators checks the port of PymoNNto's operators: truncation by
// death rate, mutation N(g, max(g*m, 0)), parents weighted by mate
// chance, constraints by rejection.
func TestGAOperators(t *testing.T) {
	pop := []individual{{score: 1}, {score: 5}, {score: 3}, {score: math.Inf(-1)}, {score: 4}}
	got := naturalSelection(pop, 0.5)
	if len(got) != 3 || got[0].score != 5 || got[1].score != 4 || got[2].score != 3 {
		t.Fatalf("selection: %v", got)
	}
	s := Spec{Params: []Param{{Name: "g"}, {Name: "neg"}}}
	g := GASpec{Mutation: 0.1}
	one := []individual{{genome: map[string]float64{"g": 10, "neg": -2}, mate: math.NaN(), score: math.NaN()}}
	kids, err := s.breed(one, 4001, g, nil, gaRand(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	var sum, sq float64
	for _, k := range kids[1:] {
		if k.genome["neg"] != -2 {
			t.Fatalf("a gene <= 0 mutated: %v (PymoNNto's sigma is max(g*m, 0))", k.genome)
		}
		sum += k.genome["g"]
		sq += k.genome["g"] * k.genome["g"]
	}
	m := sum / 4000
	sd := math.Sqrt(sq/4000 - m*m)
	if math.Abs(m-10) > 0.1 || math.Abs(sd-1) > 0.05 {
		t.Fatalf("children of g=10 with mutation 0.1: mean %.3f, sd %.3f; want 10 and 1", m, sd)
	}
	// Parents A (score 3) and B (score 1), mate chances 1 before: they
	// become (1+3)/2 = 2 and (1+1)/2 = 1; with mutation 0 a child is A
	// with probability 2/3 (both parents A, or one A and A's gene drawn).
	two := []individual{{genome: map[string]float64{"g": 1, "neg": 0}, mate: 1, score: 3}, {genome: map[string]float64{"g": 2, "neg": 0}, mate: 1, score: 1}}
	kids, err = s.breed(two, 6002, GASpec{}, nil, gaRand(2, 0))
	if err != nil {
		t.Fatal(err)
	}
	if kids[0].mate != 2 || kids[1].mate != 1 {
		t.Fatalf("mate chances %v, %v; want 2 and 1", kids[0].mate, kids[1].mate)
	}
	nA := 0
	for _, k := range kids[2:] {
		if k.genome["g"] == 1 {
			nA++
		}
	}
	if f := float64(nA) / 6000; math.Abs(f-2.0/3) > 0.02 {
		t.Fatalf("share of children like A %.3f, want 2/3", f)
	}
	c, _ := parseConstraint("g < 10", []string{"g", "neg"})
	kids, err = s.breed(one, 200, g, []cexpr{c}, gaRand(3, 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range kids[1:] {
		if !(k.genome["g"] < 10) {
			t.Fatalf("child %v breaks g < 10", k.genome)
		}
	}
	if _, err := s.breed(one, 3, g, []cexpr{c, func(map[string]float64) float64 { return 0 }}, gaRand(3, 0)); err == nil || !strings.Contains(err.Error(), "loosen them") {
		t.Fatalf("constraints no child meets: %v", err)
	}
}
