package sweep

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Methods of a sweep (Spec.Method).
const (
	Grid   = "grid"   // the Cartesian product of every parameter's values
	List   = "list"   // the points of Spec.Points, in order
	Random = "random" // Spec.Samples points drawn uniformly (or log-uniformly) in [min, max]
	CMAES  = "cmaes"  // gonum's CmaEsChol, one generation of Spec.Population points at a time
	GA     = "ga"     // PymoNNto's genetic algorithm (Evolution's Default_Breed_And_Select)
)

// Spec defines a sweep. It is read from a JSON file (ReadSpec); unknown
// fields are errors.
type Spec struct {
	// Name names the sweep (jobs, results folders' manifests).
	Name string `json:"name"`
	// Seed is the sweep's seed: every point's own seed, the random
	// samples and the optimisers' generators derive from it.
	Seed uint64 `json:"seed"`
	// Method is grid, list, random, cmaes or ga.
	Method string `json:"method"`
	// Params are the parameters, in the order of the table's columns.
	Params []Param `json:"params"`
	// Points are the points of a list sweep.
	Points []map[string]float64 `json:"points,omitempty"`
	// Samples is the number of points of a random sweep.
	Samples int `json:"samples,omitempty"`
	// Generations bounds an optimiser's generations.
	Generations int `json:"generations,omitempty"`
	// Population is the number of points per generation (cmaes: 0 is
	// 4+3 ln(dim); ga: PymoNNto's individual_count, 10 if 0).
	Population int           `json:"population,omitempty"`
	CMAES      *CMAESSpec    `json:"cmaes,omitempty"`
	GA         *GASpec       `json:"ga,omitempty"`
	Objective  ObjectiveSpec `json:"objective"`
	// Attempts is how often a failing point is tried (1 if 0).
	Attempts int `json:"attempts,omitempty"`
	// Threads is each point's threads (GOMAXPROCS of its process; 1 if
	// 0). Local workers times Threads never exceed the machine's cores.
	Threads int `json:"threads,omitempty"`
	// Timeout bounds one attempt ("10m"; none if empty).
	Timeout string `json:"timeout,omitempty"`
	// KeepCheckpoints keeps a point's checkpoints once it is done (by
	// default they are removed then).
	KeepCheckpoints bool `json:"keep_checkpoints,omitempty"`
}

// Param is one parameter: a grid axis (Values, or Min, Max and Steps),
// a random range (Min, Max) or an optimiser's gene (Min, Max bound it,
// Init starts it).
type Param struct {
	Name   string    `json:"name"`
	Values []float64 `json:"values,omitempty"`
	Min    *float64  `json:"min,omitempty"`
	Max    *float64  `json:"max,omitempty"`
	// Steps: a grid axis of Steps values from Min to Max.
	Steps int `json:"steps,omitempty"`
	// Log spaces grid values and random draws logarithmically (and makes
	// CMA-ES search the logarithm).
	Log bool `json:"log,omitempty"`
	// Int rounds the parameter to an integer.
	Int bool `json:"int,omitempty"`
	// Init is the optimisers' start (the middle of [Min, Max] if unset).
	Init *float64 `json:"init,omitempty"`
}

// CMAESSpec configures CMA-ES. Parameters are searched in units of
// their range: x = (p - min) / (max - min) (of the logarithms with Log),
// reflected at 0 and 1 into the range when a point is made.
type CMAESSpec struct {
	// Step is the initial step size in those units (0.25 if 0).
	Step float64 `json:"step,omitempty"`
}

// GASpec configures PymoNNto's genetic algorithm.
type GASpec struct {
	// Mutation is the relative standard deviation of a child's gene:
	// N(g, max(g*mutation, 0)) (PymoNNto's mutation, 0.4 if 0).
	Mutation float64 `json:"mutation,omitempty"`
	// DeathRate is the share of a generation dropped, the worst first
	// (PymoNNto's death_rate, 0.5 if 0).
	DeathRate float64 `json:"death_rate,omitempty"`
	// Constraints are conditions every genome must meet ("b >= a",
	// "a + b < 2 && a > 0"); children are drawn again until they do.
	Constraints []string `json:"constraints,omitempty"`
	// Start are the start genomes (PymoNNto's start_genomes; default:
	// one made of every parameter's Init).
	Start []map[string]float64 `json:"start,omitempty"`
	// AllMate turns off PymoNNto's no_high_risk_inds: parents are then
	// drawn uniformly rather than weighted by their mate chance.
	AllMate bool `json:"all_mate,omitempty"`
}

// ObjectiveSpec says how a point is evaluated and scored.
type ObjectiveSpec struct {
	// Command is a command template run per point (split into words as
	// a shell would, without running one; see Template), whose last
	// stdout line is the point's result, a JSON object. Empty: the
	// objective is a Go function given to Run.
	Command string `json:"command,omitempty"`
	// Vars are more placeholders of the template ({bin}).
	Vars map[string]string `json:"vars,omitempty"`
	// Steps is the total number of steps of a point; with {resume} in
	// the template, {steps} is the steps still to run after the
	// checkpoint resumed from.
	Steps int `json:"steps,omitempty"`
	// Score is the result's field an optimiser optimises.
	Score string `json:"score,omitempty"`
	// Target makes the score |field - target| (minimised).
	Target *float64 `json:"target,omitempty"`
	// Goal is min (default) or max.
	Goal string `json:"goal,omitempty"`
}

// Point is one point of a sweep.
type Point struct {
	// ID is a stable name made from the parameters (12 hex digits).
	ID string `json:"id"`
	// Generation and Index place the point where it was first proposed.
	Generation int                `json:"generation"`
	Index      int                `json:"index"`
	Params     map[string]float64 `json:"params"`
	// Seed is the point's own seed, derived from the sweep's and the ID.
	Seed uint64 `json:"seed"`
}

// reserved are the table's own columns, which no parameter may be named.
var reserved = []string{"id", "generation", "index", "seed", "status", "attempts", "failures", "restarts",
	"resumed_from", "error", "wall_s", "backend", "device"}

// ReadSpec reads a spec from a JSON file and checks it.
func ReadSpec(path string) (Spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Spec{}, fmt.Errorf("sweep: spec: %w", err)
	}
	s, err := ParseSpec(b)
	if err != nil {
		return Spec{}, fmt.Errorf("sweep: spec %s: %w", path, err)
	}
	return s, nil
}

// ParseSpec parses and checks a JSON spec.
func ParseSpec(b []byte) (Spec, error) {
	var s Spec
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&s); err != nil {
		return Spec{}, fmt.Errorf("not a valid sweep spec: %w", err)
	}
	return s, s.Check()
}

// isName reports whether s is an identifier (letters, digits, _ and -,
// not starting with a digit or -).
func isName(s string) bool {
	if s == "" {
		return false
	}
	for k, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case (c >= '0' && c <= '9' || c == '-') && k > 0:
		default:
			return false
		}
	}
	return true
}

// Check reports the first thing wrong with the spec, saying how to fix
// it.
func (s *Spec) Check() error {
	if !isName(s.Name) {
		return fmt.Errorf("name %q: give the sweep a name of letters, digits, _ and -", s.Name)
	}
	if len(s.Params) == 0 && s.Method != List {
		return errors.New("params is empty: give at least one parameter")
	}
	seen := map[string]bool{}
	for k, p := range s.Params {
		if !isName(p.Name) {
			return fmt.Errorf("params[%d]: name %q must be letters, digits, _ and - (not starting with a digit)", k, p.Name)
		}
		if slices.Contains(reserved, p.Name) {
			return fmt.Errorf("parameter %q: the name is a column of the table (%s); rename it", p.Name, strings.Join(reserved, ", "))
		}
		if seen[p.Name] {
			return fmt.Errorf("parameter %q is given twice", p.Name)
		}
		seen[p.Name] = true
		if (p.Min == nil) != (p.Max == nil) {
			return fmt.Errorf("parameter %q: give both min and max, or neither", p.Name)
		}
		if p.Min != nil && !(*p.Min < *p.Max) {
			return fmt.Errorf("parameter %q: min %v must be below max %v", p.Name, *p.Min, *p.Max)
		}
		if p.Log && p.Min != nil && !(*p.Min > 0) {
			return fmt.Errorf("parameter %q: log needs a positive min, not %v", p.Name, *p.Min)
		}
		for _, v := range p.Values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("parameter %q: value %v is not finite", p.Name, v)
			}
		}
	}
	if s.Attempts < 0 || s.Threads < 0 || s.Samples < 0 || s.Generations < 0 || s.Population < 0 {
		return errors.New("attempts, threads, samples, generations and population must not be negative")
	}
	if s.Timeout != "" {
		if d, err := time.ParseDuration(s.Timeout); err != nil || d <= 0 {
			return fmt.Errorf("timeout %q: give a positive duration such as \"10m\"", s.Timeout)
		}
	}
	switch s.Method {
	case Grid:
		for _, p := range s.Params {
			if len(p.Values) == 0 && (p.Min == nil || p.Steps < 1) {
				return fmt.Errorf("grid parameter %q: give values, or min, max and steps", p.Name)
			}
			if len(p.Values) > 0 && p.Steps > 0 {
				return fmt.Errorf("grid parameter %q: give values or steps, not both", p.Name)
			}
		}
	case List:
		if len(s.Points) == 0 {
			return errors.New("a list sweep needs points: [{\"name\": value, ...}, ...]")
		}
	case Random:
		if s.Samples < 1 {
			return errors.New("a random sweep needs samples > 0")
		}
		for _, p := range s.Params {
			if p.Min == nil {
				return fmt.Errorf("random parameter %q: give min and max", p.Name)
			}
		}
	case CMAES, GA:
		if s.Generations < 1 {
			return fmt.Errorf("%s needs generations > 0", s.Method)
		}
		if s.Objective.Score == "" {
			return fmt.Errorf("%s needs objective.score: the result's field to optimise", s.Method)
		}
		if s.Method == CMAES {
			for _, p := range s.Params {
				if p.Min == nil {
					return fmt.Errorf("cmaes parameter %q: give min and max (CMA-ES searches in units of the range)", p.Name)
				}
			}
			if s.CMAES != nil && s.CMAES.Step < 0 {
				return fmt.Errorf("cmaes.step %v must be positive", s.CMAES.Step)
			}
		} else if err := s.checkGA(); err != nil {
			return err
		}
	case "":
		return errors.New("method is empty: use grid, list, random, cmaes or ga")
	default:
		return fmt.Errorf("method %q: use grid, list, random, cmaes or ga", s.Method)
	}
	if s.Method != CMAES && s.CMAES != nil || s.Method != GA && s.GA != nil {
		return fmt.Errorf("cmaes and ga options belong to those methods, not to %s", s.Method)
	}
	switch s.Objective.Goal {
	case "", "min", "max":
	default:
		return fmt.Errorf("objective.goal %q: use min or max", s.Objective.Goal)
	}
	if s.Objective.Target != nil && s.Objective.Goal == "max" {
		return errors.New("objective.target minimises |score - target|; drop goal max")
	}
	if s.Objective.Steps < 0 {
		return fmt.Errorf("objective.steps %d must not be negative", s.Objective.Steps)
	}
	if s.Objective.Command != "" {
		if _, err := s.template(); err != nil {
			return err
		}
	}
	return nil
}

func (s *Spec) checkGA() error {
	g := s.gaSpec()
	if !(g.DeathRate >= 0 && g.DeathRate < 1) {
		return fmt.Errorf("ga.death_rate %v must be in [0, 1)", g.DeathRate)
	}
	if !(g.Mutation >= 0) {
		return fmt.Errorf("ga.mutation %v must not be negative", g.Mutation)
	}
	names := s.paramNames()
	for _, c := range g.Constraints {
		if _, err := parseConstraint(c, names); err != nil {
			return fmt.Errorf("ga.constraints %q: %w", c, err)
		}
	}
	for k, st := range g.Start {
		for _, n := range names {
			if _, ok := st[n]; !ok {
				return fmt.Errorf("ga.start[%d] has no gene %q; give every parameter", k, n)
			}
		}
		for n := range st {
			if !slices.Contains(names, n) {
				return fmt.Errorf("ga.start[%d]: unknown parameter %q (the parameters are %s)", k, n, strings.Join(names, ", "))
			}
		}
	}
	if len(g.Start) == 0 {
		for _, p := range s.Params {
			if p.Init == nil && p.Min == nil {
				return fmt.Errorf("ga parameter %q: give init (or min and max, or ga.start)", p.Name)
			}
		}
	}
	return nil
}

func (s *Spec) gaSpec() GASpec {
	var g GASpec
	if s.GA != nil {
		g = *s.GA
	}
	if g.Mutation == 0 {
		g.Mutation = 0.4
	}
	if g.DeathRate == 0 {
		g.DeathRate = 0.5
	}
	return g
}

func (s *Spec) paramNames() []string {
	out := make([]string, len(s.Params))
	for k, p := range s.Params {
		out[k] = p.Name
	}
	return out
}

func (s *Spec) param(name string) *Param {
	for k := range s.Params {
		if s.Params[k].Name == name {
			return &s.Params[k]
		}
	}
	return nil
}

func (s *Spec) attempts() int { return max(s.Attempts, 1) }
func (s *Spec) threads() int  { return max(s.Threads, 1) }

func (s *Spec) timeout() time.Duration {
	d, _ := time.ParseDuration(s.Timeout)
	return d
}

// PointID is the stable ID of a point's parameters: the first 12 hex
// digits of the SHA-256 of "name=value" pairs sorted by name, the values
// in Go's shortest round-trip form.
func PointID(params map[string]float64) string {
	return hex.EncodeToString(pointHash(params))[:12]
}

func pointHash(params map[string]float64) []byte {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for k, n := range keys {
		if k > 0 {
			b.WriteByte(',')
		}
		b.WriteString(n + "=" + strconv.FormatFloat(params[n], 'g', -1, 64))
	}
	h := sha256.Sum256([]byte(b.String()))
	return h[:]
}

// PointSeed is the seed of the point id in a sweep of seed seed (below
// 2^53, so that it survives JSON's numbers).
func PointSeed(seed uint64, id string) uint64 {
	h := sha256.Sum256([]byte(fmt.Sprintf("gomonnto-sweep/%d/%s", seed, id)))
	return binary.BigEndian.Uint64(h[:8]) & (1<<53 - 1)
}

// newPoint makes a point of generation gen at index.
func (s *Spec) newPoint(gen, index int, params map[string]float64) Point {
	id := PointID(params)
	return Point{ID: id, Generation: gen, Index: index, Params: params, Seed: PointSeed(s.Seed, id)}
}

// round applies a parameter's Int.
func (p *Param) round(v float64) float64 {
	if p.Int {
		return math.Round(v)
	}
	return v
}

// axis is a grid parameter's values.
func (p *Param) axis() []float64 {
	if len(p.Values) > 0 {
		return p.Values
	}
	out := make([]float64, p.Steps)
	for k := range out {
		t := 0.5
		if p.Steps > 1 {
			t = float64(k) / float64(p.Steps-1)
		}
		out[k] = p.round(p.fromUnit(t))
	}
	return out
}

// fromUnit maps t in [0, 1] onto [Min, Max] (logarithmically with Log).
func (p *Param) fromUnit(t float64) float64 {
	lo, hi := *p.Min, *p.Max
	if p.Log {
		return math.Exp(math.Log(lo) + t*(math.Log(hi)-math.Log(lo)))
	}
	return lo + t*(hi-lo)
}

// toUnit is fromUnit's inverse.
func (p *Param) toUnit(v float64) float64 {
	lo, hi := *p.Min, *p.Max
	if p.Log {
		return (math.Log(v) - math.Log(lo)) / (math.Log(hi) - math.Log(lo))
	}
	return (v - lo) / (hi - lo)
}

// init is the optimisers' start.
func (p *Param) init() float64 {
	if p.Init != nil {
		return *p.Init
	}
	return p.round(p.fromUnit(0.5))
}

// staticPoints are the points of a grid, list or random sweep.
func (s *Spec) staticPoints() []Point {
	var ps []map[string]float64
	switch s.Method {
	case Grid:
		ps = []map[string]float64{{}}
		for _, p := range s.Params {
			var next []map[string]float64
			for _, q := range ps {
				for _, v := range p.axis() {
					m := make(map[string]float64, len(q)+1)
					for k, x := range q {
						m[k] = x
					}
					m[p.Name] = v
					next = append(next, m)
				}
			}
			ps = next
		}
	case List:
		for _, q := range s.Points {
			m := make(map[string]float64, len(q))
			for k, v := range q {
				m[k] = v
			}
			ps = append(ps, m)
		}
	case Random:
		rng := rand.New(rand.NewPCG(s.Seed, 0x72616e646f6d)) // "random"
		for range s.Samples {
			m := map[string]float64{}
			for _, p := range s.Params {
				m[p.Name] = p.round(p.fromUnit(rng.Float64()))
			}
			ps = append(ps, m)
		}
	}
	out := make([]Point, 0, len(ps))
	seen := map[string]bool{}
	for _, m := range ps {
		pt := s.newPoint(0, len(out), m)
		if seen[pt.ID] {
			continue // a grid with a repeated value, a list with a repeated point
		}
		seen[pt.ID] = true
		out = append(out, pt)
	}
	return out
}

// unknownParams names the parameters of p that the spec does not
// declare (a list point's misspelt name).
func (s *Spec) unknownParams(p Point) []string {
	var out []string
	for k := range p.Params {
		if s.param(k) == nil {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// score is the number an optimiser minimises for a result (+Inf for a
// failed point or a missing field).
func (s *Spec) score(status string, res map[string]any) float64 {
	if status != statusDone {
		return math.Inf(1)
	}
	x, ok := res[s.Objective.Score].(float64)
	if !ok || math.IsNaN(x) {
		return math.Inf(1)
	}
	switch {
	case s.Objective.Target != nil:
		return math.Abs(x - *s.Objective.Target)
	case s.Objective.Goal == "max":
		return -x
	}
	return x
}
