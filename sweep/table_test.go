package sweep

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomonnto/gomonnto/store"
)

// TestTable checks the CSV and Parquet tables against each other (and
// against pyarrow or pandas when /usr/bin/python3 has one), with
// numbers, text, booleans, lists, missing fields and a failed point.
func TestTable(t *testing.T) {
	s := Spec{Name: "tab", Seed: 2, Method: Grid, Params: []Param{{Name: "x", Values: []float64{1, 2.5, 3}}, {Name: "n", Values: []float64{7}}}}
	dir := t.TempDir()
	sw, err := Create(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	obj := func(ctx context.Context, tk *Task) (map[string]any, error) {
		x := tk.Params["x"]
		if x == 3 {
			return nil, errors.New("x = 3 diverges")
		}
		r := map[string]any{"y": x * x, "name": "p", "ok": x > 2, "list": []any{1.0, "a"}, "seed": float64(tk.Seed)}
		if x == 1 {
			r["only_one"] = 0.5
		}
		return r, nil
	}
	if _, err := sw.Run(context.Background(), obj, RunOptions{Workers: 1}); err != nil {
		t.Fatal(err)
	}
	rows, err := sw.Gather()
	if err != nil {
		t.Fatal(err)
	}
	head, csvRows := readTable(t, filepath.Join(dir, "results.csv"))
	want := "id,generation,index,x,n,seed,status,attempts,failures,restarts,resumed_from,error,wall_s,backend,device,result_list,result_name,result_ok,result_only_one,result_seed,result_y"
	if strings.Join(head, ",") != want {
		t.Fatalf("header\n %s\nwant\n %s", strings.Join(head, ","), want)
	}
	pq, err := ReadParquet(filepath.Join(dir, "results.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if len(pq) != len(rows) || len(pq) != 3 {
		t.Fatalf("%d parquet rows, %d rows", len(pq), len(rows))
	}
	for _, r := range pq {
		c := csvRows[r["id"].(string)]
		for _, h := range head {
			if got := cellText(r[h]); got != c[h] {
				t.Errorf("point %s column %s: parquet %q, csv %q", c["id"], h, got, c[h])
			}
		}
	}
	for _, r := range rows {
		if r.Params["x"] == 3 && (r.Status != "failed" || !strings.Contains(r.Error, "x = 3 diverges")) {
			t.Fatalf("failed row %+v", r)
		}
	}
	runs, err := sw.Runs()
	if err != nil || len(runs) != 3 {
		t.Fatalf("store.List of the points: %d, %v", len(runs), err)
	}
	var b strings.Builder
	store.Table(&b, runs, "y")
	if !strings.Contains(b.String(), "failed") || !strings.Contains(b.String(), "6.25") {
		t.Fatalf("store.Table:\n%s", b.String())
	}
	for _, mod := range []string{"pyarrow.parquet", "pandas"} {
		if exec.Command("/usr/bin/python3", "-c", "import "+mod).Run() != nil {
			t.Logf("/usr/bin/python3 has no %s; the Parquet file was checked with parquet-go only", mod)
			continue
		}
		read := "import pyarrow.parquet as pq, sys; t = pq.read_table(sys.argv[1]); print(t.num_rows, sorted(t.column('result_y').to_pylist(), key=lambda v: (v is None, v)))"
		if mod == "pandas" {
			read = "import pandas as pd, sys; d = pd.read_parquet(sys.argv[1]); print(len(d), sorted(d['result_y'].dropna().tolist()))"
		}
		out, err := exec.Command("/usr/bin/python3", "-c", read, filepath.Join(dir, "results.parquet")).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "3 [1.0, 6.25") {
			t.Fatalf("%s read the Parquet table: %v: %s", mod, err, out)
		}
		t.Logf("%s: %s", mod, strings.TrimSpace(string(out)))
	}
}

// TestTableNumpy runs the README's numpy lines on a table: the CSV loads
// with Python's csv module into numpy arrays (quoted fields and all), and
// with pandas where it is installed. numpy is required in CI.
func TestTableNumpy(t *testing.T) {
	if exec.Command("/usr/bin/python3", "-c", "import numpy").Run() != nil {
		if os.Getenv("CI") == "true" || os.Getenv("GOMONNTO_REQUIRE_NUMPY") != "" {
			t.Fatal("numpy is required here (CI=true or GOMONNTO_REQUIRE_NUMPY) but /usr/bin/python3 -c 'import numpy' fails; bash .ci/setup installs python3-numpy")
		}
		t.Skip("/usr/bin/python3 has no numpy")
	}
	dir := t.TempDir()
	sw, err := Create(dir, Spec{Name: "np", Seed: 3, Method: Grid, Params: []Param{{Name: "we", Values: []float64{0.3, 0.45, 0.6}}}})
	if err != nil {
		t.Fatal(err)
	}
	obj := func(ctx context.Context, tk *Task) (map[string]any, error) {
		return map[string]any{"rate_hz": 10 * tk.Params["we"], "device": "cpu (a, b)"}, nil
	}
	if _, err := sw.Run(context.Background(), obj, RunOptions{Workers: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := sw.Gather(); err != nil {
		t.Fatal(err)
	}
	// As in the README.
	py := `import csv, sys, numpy as np
rows = list(csv.DictReader(open(sys.argv[1])))
we = np.array([float(r["we"]) for r in rows])
rate = np.array([float(r["result_rate_hz"]) for r in rows])
print(len(rows), round(float(we.sum()), 6), round(float(rate.sum()), 6), rows[0]["result_device"])`
	out, err := exec.Command("/usr/bin/python3", "-c", py, filepath.Join(dir, "results.csv")).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "3 1.35 13.5 cpu (a, b)" {
		t.Fatalf("numpy read the table: %v: %s", err, out)
	}
	if exec.Command("/usr/bin/python3", "-c", "import pandas").Run() == nil {
		out, err := exec.Command("/usr/bin/python3", "-c", `import pandas, sys; d = pandas.read_csv(sys.argv[1]); print(len(d), round(d["result_rate_hz"].sum(), 6))`, filepath.Join(dir, "results.csv")).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "3 13.5" {
			t.Fatalf("pandas read the table: %v: %s", err, out)
		}
	}
}
