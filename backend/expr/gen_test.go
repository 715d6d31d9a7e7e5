package expr

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gomonnto/gomonnto/backend/rng"
)

// TestLoopsUpToDate regenerates loops.go and compares it with the checked
// in file.
func TestLoopsUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the generator with go run")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found")
	}
	out := filepath.Join(t.TempDir(), "loops.go")
	if msg, err := exec.Command(goTool, "run", "gen_loops.go", "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("go run gen_loops.go: %v\n%s", err, msg)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("loops.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("loops.go is stale: run go generate in backend/expr")
	}
}

// TestConcurrentEvaluators runs one Evaluator per goroutine on disjoint
// ranges (run with -race) and checks the result equals one serial Eval.
func TestConcurrentEvaluators(t *testing.T) {
	p := mustCompile(t, "v += dt*(0.04*v*v + 5*v + 140 - u + I) + normal(); u += dt*a*(b*v - u)", izhikevichEnv)
	const n, workers = 10000, 4
	v, u, I := izhikevichState(n)
	v2, u2, _ := izhikevichState(n)
	key := rng.Key{Seed: 42, Counter: 7}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			p.NewEvaluator().Eval([][]float32{v, u, I}, lo, hi, key)
		}(w*n/workers, (w+1)*n/workers)
	}
	wg.Wait()
	p.Eval([][]float32{v2, u2, I}, 0, n, key)
	for i := range v {
		if v[i] != v2[i] || u[i] != u2[i] {
			t.Fatalf("element %d: parallel %g %g, serial %g %g", i, v[i], u[i], v2[i], u2[i])
		}
	}
}
