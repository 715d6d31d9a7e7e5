package sweep

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/gomonnto/gomonnto/store"
	"github.com/parquet-go/parquet-go"
)

// Row is one point of the table.
type Row struct {
	Point
	// Status is done, failed, interrupted (started, no result) or missing
	// (never started); Status overlays pending and running from Slurm.
	Status                                    string
	Attempts, Failures, Restarts, ResumedFrom int
	Error                                     string
	WallS                                     float64
	Backend, Device                           string
	// Result holds every field of the point's result.
	Result map[string]any
}

// Rows returns one row per point proposed so far, in the order first
// proposed (generation, index).
func (s *Sweep) Rows() ([]Row, error) {
	gens, err := s.Generations()
	if err != nil {
		return nil, err
	}
	var rows []Row
	seen := map[string]bool{}
	for _, pts := range gens {
		for _, p := range pts {
			if seen[p.ID] {
				continue
			}
			seen[p.ID] = true
			st, err := s.readState(p)
			if err != nil {
				return nil, err
			}
			r := Row{Point: p, Attempts: st.Attempts, Failures: st.Failures, Restarts: st.Restarts,
				ResumedFrom: st.ResumedFrom, WallS: st.WallS, Status: statusMissing}
			if st.Attempts > 0 {
				r.Status, r.Error = statusInterrupted, st.LastError
			}
			m, err := s.result(p.ID)
			if err != nil {
				return nil, err
			}
			if m != nil {
				r.Status, r.Error, r.Result, r.Backend, r.Device = m.Status, m.Error, m.Results, m.Backend, m.Device
			}
			rows = append(rows, r)
		}
	}
	return rows, nil
}

// Runs returns the points with a result as results folders (store.List
// over points/), which store.Table prints.
func (s *Sweep) Runs() ([]*store.Run, error) {
	return store.List(filepath.Join(s.Dir, "points"))
}

// Column kinds.
const (
	kString = iota
	kFloat
	kInt
	kBool
	kJSON
)

// column is one column of the table.
type column struct {
	name string
	kind int
	get  func(r *Row) any // nil for a missing value
	// optional columns may miss values (parameters, results)
	optional bool
}

// resultPrefix starts the name of the columns of the results' fields.
const resultPrefix = "result_"

// columns lists the table's columns: id, generation, index, the
// parameters (the spec's, then others of list points), seed, status,
// attempts, failures, restarts, resumed_from, error, wall_s, backend,
// device, and result_<field> for every field of the results (sorted).
func (s *Sweep) columns(rows []Row) []column {
	cols := []column{
		{"id", kString, func(r *Row) any { return r.ID }, false},
		{"generation", kInt, func(r *Row) any { return int64(r.Generation) }, false},
		{"index", kInt, func(r *Row) any { return int64(r.Index) }, false},
	}
	params := s.Spec.paramNames()
	extra := map[string]bool{}
	for _, r := range rows {
		for k := range r.Params {
			if s.Spec.param(k) == nil {
				extra[k] = true
			}
		}
	}
	params = append(params, sortedKeys(extra)...)
	for _, p := range params {
		cols = append(cols, column{p, kFloat, func(r *Row) any {
			if v, ok := r.Params[p]; ok {
				return v
			}
			return nil
		}, true})
	}
	cols = append(cols,
		column{"seed", kInt, func(r *Row) any { return int64(r.Seed) }, false},
		column{"status", kString, func(r *Row) any { return r.Status }, false},
		column{"attempts", kInt, func(r *Row) any { return int64(r.Attempts) }, false},
		column{"failures", kInt, func(r *Row) any { return int64(r.Failures) }, false},
		column{"restarts", kInt, func(r *Row) any { return int64(r.Restarts) }, false},
		column{"resumed_from", kInt, func(r *Row) any { return int64(r.ResumedFrom) }, false},
		column{"error", kString, func(r *Row) any { return r.Error }, false},
		column{"wall_s", kFloat, func(r *Row) any { return r.WallS }, false},
		column{"backend", kString, func(r *Row) any { return r.Backend }, false},
		column{"device", kString, func(r *Row) any { return r.Device }, false},
	)
	kinds := map[string]int{}
	for _, r := range rows {
		for k, v := range r.Result {
			var kind int
			switch v.(type) {
			case nil:
				continue
			case float64:
				kind = kFloat
			case bool:
				kind = kBool
			case string:
				kind = kString
			default:
				kind = kJSON
			}
			if old, ok := kinds[k]; ok && old != kind {
				kind = kJSON
			}
			kinds[k] = kind
		}
		for k := range r.Result {
			if _, ok := kinds[k]; !ok {
				kinds[k] = kFloat // only nulls so far
			}
		}
	}
	for _, k := range sortedKeys(kinds) {
		kind := kinds[k]
		cols = append(cols, column{resultPrefix + k, kind, func(r *Row) any {
			v, ok := r.Result[k]
			if !ok || v == nil {
				return nil
			}
			if kind == kJSON {
				b, _ := json.Marshal(v)
				return string(b)
			}
			return v
		}, true})
	}
	return cols
}

// cellText formats a value for CSV.
func cellText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	case string:
		return x
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// WriteCSV writes the rows as CSV with a header line.
func (s *Sweep) WriteCSV(w io.Writer, rows []Row) error {
	cols := s.columns(rows)
	cw := csv.NewWriter(w)
	rec := make([]string, len(cols))
	for k, c := range cols {
		rec[k] = c.name
	}
	if err := cw.Write(rec); err != nil {
		return err
	}
	for i := range rows {
		for k, c := range cols {
			rec[k] = cellText(c.get(&rows[i]))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteParquet writes the rows as a Parquet file: parameters and numeric
// results as optional doubles (null where missing), counts as int64,
// text as UTF-8 strings, results that are lists or objects as their JSON
// text. Parquet orders a
// file's columns by name.
func (s *Sweep) WriteParquet(w io.Writer, rows []Row) error {
	cols := s.columns(rows)
	group := parquet.Group{}
	for _, c := range cols {
		var n parquet.Node
		switch c.kind {
		case kFloat:
			n = parquet.Leaf(parquet.DoubleType)
		case kInt:
			n = parquet.Int(64)
		case kBool:
			n = parquet.Leaf(parquet.BooleanType)
		default:
			n = parquet.String()
		}
		if c.optional {
			n = parquet.Optional(n)
		}
		group[c.name] = n
	}
	schema := parquet.NewSchema("sweep", group)
	pw := parquet.NewGenericWriter[map[string]any](w, schema)
	batch := make([]map[string]any, len(rows))
	for i := range rows {
		m := make(map[string]any, len(cols))
		for _, c := range cols {
			v := c.get(&rows[i])
			if c.optional && v != nil {
				// parquet-go writes an optional column's zero value as
				// null, unless it is given through a pointer.
				switch x := v.(type) {
				case float64:
					v = &x
				case bool:
					v = &x
				case string:
					v = &x
				}
			}
			m[c.name] = v
		}
		batch[i] = m
	}
	if len(batch) > 0 {
		if _, err := pw.Write(batch); err != nil {
			return fmt.Errorf("sweep: parquet: %w", err)
		}
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("sweep: parquet: %w", err)
	}
	return nil
}

// ReadParquet reads a table written by WriteParquet (or any flat Parquet
// file) as one map per row.
func ReadParquet(path string) ([]map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("sweep: %s is not a Parquet file: %w", path, err)
	}
	r := parquet.NewGenericReader[map[string]any](bytes.NewReader(b), f.Schema())
	defer r.Close()
	out := make([]map[string]any, f.NumRows())
	for k := range out {
		out[k] = map[string]any{}
	}
	for n := 0; n < len(out); {
		k, err := r.Read(out[n:])
		n += k
		if err != nil {
			if err == io.EOF && n == len(out) {
				break
			}
			if err == io.EOF {
				return nil, fmt.Errorf("sweep: %s: %d rows of %d", path, n, len(out))
			}
			return nil, fmt.Errorf("sweep: %s: %w", path, err)
		}
	}
	return out, nil
}

// ReadCSV reads a CSV table as its header and rows.
func ReadCSV(path string) ([]string, [][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("sweep: %w", err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) == 0 {
		return nil, nil, fmt.Errorf("sweep: %s is not a CSV table: %v", path, err)
	}
	return recs[0], recs[1:], nil
}

// Gather writes the table as results.csv and results.parquet in the
// sweep folder (atomically) and returns its rows.
func (s *Sweep) Gather() ([]Row, error) {
	rows, err := s.Rows()
	if err != nil {
		return nil, err
	}
	if err := writeAtomic(filepath.Join(s.Dir, "results.csv"), func(w io.Writer) error { return s.WriteCSV(w, rows) }); err != nil {
		return nil, err
	}
	if err := writeAtomic(filepath.Join(s.Dir, "results.parquet"), func(w io.Writer) error { return s.WriteParquet(w, rows) }); err != nil {
		return nil, err
	}
	return rows, nil
}

// PrintTable writes the rows as an aligned text table: id, parameters,
// status, attempts, the score's field (or every numeric result if the
// spec names none) and the error.
func (s *Sweep) PrintTable(w io.Writer, rows []Row) error {
	cols := s.columns(rows)
	var show []column
	for _, c := range cols {
		switch {
		case c.name == "id" || c.name == "status" || c.name == "attempts" || c.name == "restarts" || c.name == "error":
		case s.Spec.param(c.name) != nil:
		case c.name == resultPrefix+s.Spec.Objective.Score:
		case s.Spec.Objective.Score == "" && c.kind == kFloat && len(c.name) > len(resultPrefix) && c.name[:len(resultPrefix)] == resultPrefix:
		default:
			continue
		}
		show = append(show, c)
	}
	// error last
	sort.SliceStable(show, func(a, b int) bool { return show[b].name == "error" && show[a].name != "error" })
	return textTable(w, show, rows)
}

// textTable writes the columns of rows aligned.
func textTable(w io.Writer, cols []column, rows []Row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for k, c := range cols {
		if k > 0 {
			fmt.Fprint(tw, "\t")
		}
		fmt.Fprint(tw, strings.TrimPrefix(c.name, resultPrefix))
	}
	fmt.Fprintln(tw)
	for i := range rows {
		for k, c := range cols {
			if k > 0 {
				fmt.Fprint(tw, "\t")
			}
			v := c.get(&rows[i])
			switch x := v.(type) {
			case nil:
				v = "-"
			case float64:
				if x != math.Trunc(x) || math.Abs(x) >= 1<<53 { // whole numbers (seeds, steps) in full
					v = strconv.FormatFloat(x, 'g', 6, 64)
				}
			case string:
				if x == "" {
					v = "-"
				}
			}
			fmt.Fprint(tw, cellText(v))
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}
