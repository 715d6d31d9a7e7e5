package sweep

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"

	"gonum.org/v1/gonum/optimize"
)

// The optimisers' state is never stored. To continue, the driver replays
// the seeded optimiser from the start, feeding it the scores of the
// points that have results (memoised by point ID), until it proposes a
// generation with a point that has none: that is the generation to
// evaluate. Replayed generations are checked against generations/*.json,
// so a resumed driver proposes exactly the points an uninterrupted one
// would, and no point is evaluated twice.

// scoreFunc returns a point's score (minimised; +Inf for a failed point)
// and whether it has a result.
type scoreFunc func(p Point) (float64, bool)

// replay returns every generation proposed so far and the index of the
// first one with a point without a result (-1: the sweep is finished).
func (s *Sweep) replay(score scoreFunc) ([][]Point, int, error) {
	switch s.Spec.Method {
	case CMAES:
		return s.replayCMAES(score)
	case GA:
		return s.replayGA(score)
	}
	pts := s.Spec.staticPoints()
	for _, p := range pts {
		if _, ok := score(p); !ok {
			return [][]Point{pts}, 0, nil
		}
	}
	return [][]Point{pts}, -1, nil
}

// dedupe drops repeated points (same ID) and numbers the rest.
func dedupe(s *Spec, gen int, params []map[string]float64) []Point {
	var out []Point
	seen := map[string]bool{}
	for _, m := range params {
		p := s.newPoint(gen, len(out), m)
		if !seen[p.ID] {
			seen[p.ID] = true
			out = append(out, p)
		}
	}
	return out
}

// cmaPoint maps CMA-ES's x (in units of the ranges) to parameters,
// reflected into [min, max].
func (s *Spec) cmaPoint(x []float64) map[string]float64 {
	m := make(map[string]float64, len(x))
	for k, p := range s.Params {
		// Reflect at the bounds (0 and 1), rather than clamp, so that
		// samples beyond a bound stay distinct points.
		t := math.Mod(math.Abs(x[k]), 2)
		if t > 1 {
			t = 2 - t
		}
		if math.IsNaN(t) {
			t = 0.5
		}
		m[p.Name] = p.round(p.fromUnit(t))
	}
	return m
}

func (s *Sweep) replayCMAES(score scoreFunc) (gens [][]Point, current int, err error) {
	sp := &s.Spec
	dim := len(sp.Params)
	step := 0.25
	if sp.CMAES != nil && sp.CMAES.Step > 0 {
		step = sp.CMAES.Step
	}
	m := &optimize.CmaEsChol{InitStepSize: step, Population: sp.Population, Src: rand.NewPCG(sp.Seed, 0x636d61657363686f)}
	pop := m.Init(dim, max(sp.Population, 4+int(3*math.Log(float64(dim)))))
	x0 := make([]float64, dim)
	for k, p := range sp.Params {
		x0[k] = p.toUnit(p.init())
	}
	tasks := make([]optimize.Task, pop)
	for k := range tasks {
		tasks[k] = optimize.Task{Location: &optimize.Location{X: slices.Clone(x0)}}
	}
	ops := make(chan optimize.Task, 2*pop+2)
	results := make(chan optimize.Task, 2*pop+2)
	go m.Run(ops, results, tasks)
	defer func() {
		results <- optimize.Task{Op: optimize.PostIteration}
		close(results)
		for range ops {
		}
	}()
	for g := 0; g < sp.Generations; g++ {
		batch := make([]optimize.Task, 0, pop)
		xs := make([]map[string]float64, 0, pop)
		for len(batch) < pop {
			t, ok := <-ops
			if !ok {
				return gens, -1, nil
			}
			if t.Op != optimize.FuncEvaluation {
				return gens, -1, fmt.Errorf("sweep: cmaes: unexpected operation %v in generation %d", t.Op, g)
			}
			batch = append(batch, t)
			xs = append(xs, sp.cmaPoint(t.X))
		}
		pts := dedupe(sp, g, xs)
		gens = append(gens, pts)
		fs := make([]float64, len(batch))
		for k, x := range xs {
			f, ok := score(sp.newPoint(g, 0, x))
			if !ok {
				return gens, g, nil
			}
			fs[k] = f
		}
		for k, t := range batch {
			t.F = fs[k]
			results <- t
		}
		t := <-ops
		switch t.Op {
		case optimize.MajorIteration:
			results <- optimize.Task{Op: optimize.MajorIteration, ID: -1, Location: t.Location}
		case optimize.MethodDone:
			return gens, -1, nil // converged
		default:
			return gens, -1, fmt.Errorf("sweep: cmaes: unexpected operation %v after generation %d", t.Op, g)
		}
	}
	return gens, -1, nil
}

// individual is one of the GA's population.
type individual struct {
	genome map[string]float64
	mate   float64 // PymoNNto's mate_chance; NaN: none yet
	score  float64 // maximised; NaN: not evaluated
}

func (s *Sweep) replayGA(score scoreFunc) (gens [][]Point, current int, err error) {
	sp := &s.Spec
	g := sp.gaSpec()
	cons := make([]cexpr, len(g.Constraints))
	for k, c := range g.Constraints {
		if cons[k], err = parseConstraint(c, sp.paramNames()); err != nil {
			return nil, -1, fmt.Errorf("sweep: ga.constraints %q: %w", c, err)
		}
	}
	n := sp.Population
	if n == 0 {
		n = 10
	}
	var start []individual
	if len(g.Start) == 0 {
		m := map[string]float64{}
		for _, p := range sp.Params {
			m[p.Name] = p.init()
		}
		g.Start = []map[string]float64{m}
	}
	for k, st := range g.Start {
		m := map[string]float64{}
		for kk, v := range st {
			m[kk] = v
		}
		if ok, why := sp.validGenome(m, g.Constraints, cons); !ok {
			return nil, -1, fmt.Errorf("sweep: ga.start[%d] %s: %s", k, describe(m), why)
		}
		start = append(start, individual{genome: m, mate: math.NaN(), score: math.NaN()})
	}
	pop, err := sp.breed(start, n, g, cons, gaRand(sp.Seed, 0))
	if err != nil {
		return nil, -1, err
	}
	for gen := 0; gen < sp.Generations; gen++ {
		params := make([]map[string]float64, len(pop))
		for k, ind := range pop {
			params[k] = ind.genome
		}
		gens = append(gens, dedupe(sp, gen, params))
		for k := range pop {
			f, ok := score(sp.newPoint(gen, 0, pop[k].genome))
			if !ok {
				return gens, gen, nil
			}
			pop[k].score = -f // PymoNNto maximises
		}
		if gen == sp.Generations-1 {
			break
		}
		if pop, err = sp.breed(naturalSelection(pop, g.DeathRate), n, g, cons, gaRand(sp.Seed, gen+1)); err != nil {
			return nil, -1, err
		}
	}
	return gens, -1, nil
}

func gaRand(seed uint64, gen int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x67610000_00000000|uint64(gen)))
}

// naturalSelection sorts by score, the best first (ties keep their
// order), and drops int(n*deathRate) of the worst.
func naturalSelection(pop []individual, deathRate float64) []individual {
	out := slices.Clone(pop)
	sort.SliceStable(out, func(a, b int) bool { return better(out[a].score, out[b].score) })
	return out[:len(out)-int(float64(len(out))*deathRate)]
}

func better(a, b float64) bool {
	if math.IsNaN(b) {
		return !math.IsNaN(a)
	}
	return a > b
}

// breed is PymoNNto's breed: the individuals' mate chances become
// (mate_chance + score)/2 (1 the first time), the individuals are kept
// and children fill the population up to n, each of two parents drawn
// with probabilities proportional to the mate chances; each gene of a
// child is N(g1, max(g1*mutation, 0)) or N(g2, ...) of its parents', one
// of the two at random, drawn again until the child meets the
// constraints and the parameters' bounds.
//
// PymoNNto normalises the mate chances by their sum, which breaks for
// negative scores (a TODO in its code); here, if a finite mate chance is
// not positive, all are shifted so that the smallest finite one is 1
// (a non-finite one, as of a failed point, weighs nothing).
func (s *Spec) breed(inds []individual, n int, g GASpec, cons []cexpr, rng *rand.Rand) ([]individual, error) {
	w := make([]float64, len(inds))
	for k := range inds {
		ind := &inds[k]
		if math.IsNaN(ind.mate) || math.IsNaN(ind.score) {
			ind.mate = 1
		} else {
			ind.mate = (ind.mate + ind.score) / 2
		}
		w[k] = 1
		if !g.AllMate {
			w[k] = ind.mate
		}
	}
	lo := math.Inf(1)
	for _, x := range w {
		if !math.IsInf(x, 0) && !math.IsNaN(x) {
			lo = math.Min(lo, x)
		}
	}
	for k, x := range w {
		switch {
		case math.IsInf(x, 0) || math.IsNaN(x):
			w[k] = 0
		case lo <= 0:
			w[k] = x - lo + 1
		}
	}
	sum := 0.0
	for _, x := range w {
		sum += x
	}
	if !(sum > 0) {
		for k := range w {
			w[k] = 1
		}
		sum = float64(len(w))
	}
	pick := func() *individual {
		r := rng.Float64() * sum
		for k, x := range w {
			if r < x {
				return &inds[k]
			}
			r -= x
		}
		return &inds[len(inds)-1]
	}
	out := make([]individual, 0, n)
	for _, ind := range inds {
		if len(out) == n {
			break
		}
		m := make(map[string]float64, len(ind.genome))
		for k, v := range ind.genome {
			m[k] = v
		}
		out = append(out, individual{genome: m, mate: ind.mate, score: math.NaN()})
	}
	for len(out) < n {
		p1, p2 := pick(), pick()
		var child map[string]float64
		for try := 0; ; try++ {
			if try == 100000 {
				return nil, fmt.Errorf("sweep: ga: no child of %s and %s met the constraints and bounds in %d draws; loosen them or lower mutation",
					describe(p1.genome), describe(p2.genome), try)
			}
			child = make(map[string]float64, len(s.Params))
			for _, p := range s.Params {
				a, b := p1.genome[p.Name], p2.genome[p.Name]
				g1 := a + rng.NormFloat64()*math.Max(a*g.Mutation, 0)
				g2 := b + rng.NormFloat64()*math.Max(b*g.Mutation, 0)
				v := g1
				if rng.IntN(2) == 1 {
					v = g2
				}
				child[p.Name] = p.round(v)
			}
			if ok, _ := s.validGenome(child, g.Constraints, cons); ok {
				break
			}
		}
		out = append(out, individual{genome: child, mate: math.NaN(), score: math.NaN()})
	}
	return out, nil
}

// validGenome checks the parameters' bounds and the constraints.
func (s *Spec) validGenome(m map[string]float64, src []string, cons []cexpr) (bool, string) {
	for _, p := range s.Params {
		v := m[p.Name]
		if p.Min != nil && (v < *p.Min || v > *p.Max) {
			return false, fmt.Sprintf("%s = %v is outside [%v, %v]", p.Name, v, *p.Min, *p.Max)
		}
	}
	for k, c := range cons {
		if c(m) == 0 {
			what := fmt.Sprint("number ", k)
			if k < len(src) {
				what = strconv.Quote(src[k])
			}
			return false, "constraint " + what + " does not hold"
		}
	}
	return true, ""
}
