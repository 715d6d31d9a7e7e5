// Package examples runs every example program for a few steps, on every
// backend, and checks its JSON line and plots.
package examples

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// build compiles an example once into dir.
func build(t *testing.T, name, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, name)
	out, err := exec.Command("go", "build", "-o", bin, "./"+name).CombinedOutput()
	if err != nil {
		t.Fatalf("go build ./examples/%s: %v\n%s", name, err, out)
	}
	return bin
}

func TestExamplesRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the example programs; skipped in -short mode")
	}
	dir := t.TempDir()
	cases := []struct {
		name  string
		args  []string
		plots []string
	}{
		{"basic", nil, []string{"basic_example2.png", "basic_example3.png"}},
		{"lif", nil, []string{"lif_raster.png", "lif_mean_v.png"}},
		{"izhikevich", []string{"-ne", "400", "-ni", "100"}, []string{"izhikevich_raster.png", "izhikevich_mean_v.png"}},
		{"izhikevich2003", nil, []string{"izhikevich2003_raster.png"}},
		{"coba", []string{"-n", "1000"}, []string{"coba_raster.png"}},
		{"lifstdp", []string{"-n", "500"}, []string{"lifstdp_raster.png", "lifstdp_mean_w.png", "lifstdp_weights.png"}},
		{"izhstdp", []string{"-n", "500"}, []string{"izhstdp_raster.png", "izhstdp_mean_w.png", "izhstdp_weights.png"}},
		{"pd14", []string{"-scale", "0.02", "-warmup", "0"}, []string{"pd14_raster.png"}},
		{"sorn", []string{"-ne", "100"}, []string{"sorn_raster.png", "sorn_activity.png", "sorn_weights.png"}},
		{"hh", []string{"-dt", "0.05ms", "-method", "rk4"}, []string{"hh_v.png"}},
		{"hh", []string{"-chain", "-pymonnto"}, []string{"hh_chain_v.png"}},
		{"hindmarsh_rose", []string{"-dt", "0.1ms", "-i", "4"}, []string{"hindmarsh_rose_x.png"}},
		{"wang_buzsaki", []string{"-dt", "0.1ms", "-i", "10"}, []string{"wang_buzsaki_v.png"}},
		{"hopfield", nil, []string{"hopfield_overlap.png"}},
		{"synfire", []string{"-pymonnto"}, []string{"synfire_raster.png"}},
		{"brunel_hakim", []string{"-n", "1000", "-c", "200", "-pymonnto"}, []string{"brunel_hakim_raster.png", "brunel_hakim_rate.png"}},
		{"stdp", nil, []string{"stdp_weights_sorted.png", "stdp_weights_hist.png", "stdp_mean_w.png"}},
	}
	for _, c := range cases {
		bin := build(t, c.name, dir)
		for _, be := range backends() {
			t.Run(c.name+"/"+be, func(t *testing.T) {
				out := filepath.Join(dir, c.name+"-"+be)
				args := append([]string{"-backend=" + be, "-steps=60", "-seed=3", "-json", "-out", out}, c.args...)
				res := runJSON(t, bin, args...)
				for _, k := range []string{"model", "backend", "device", "neurons", "synapses", "steps", "wall_s", "spikes", "iteration", "state_sha256", "recorded"} {
					if _, ok := res[k]; !ok {
						t.Errorf("JSON lacks %q: %v", k, res)
					}
				}
				if res["backend"] != be || res["steps"] != float64(60) || res["model"] != c.name {
					t.Errorf("JSON = %v", res)
				}
				if c.name != "basic" && c.name != "hopfield" && res["chain"] != true && res["spikes"].(float64) <= 0 { // no spikes in 60 steps there
					t.Errorf("no spikes in 60 steps: %v", res)
				}
				for _, p := range c.plots {
					st, err := os.Stat(filepath.Join(out, p))
					if err != nil || st.Size() < 5000 {
						t.Errorf("plot %s: %v (size %v)", p, err, st)
					}
				}
			})
		}
	}
	t.Run("bad flag", func(t *testing.T) {
		bin := filepath.Join(dir, "lif")
		out, err := exec.Command(bin, "-backend=tpu").CombinedOutput()
		if err == nil || !strings.Contains(string(out), `"tpu"`) {
			t.Errorf("-backend=tpu: err %v, output %q", err, out)
		}
	})
}
