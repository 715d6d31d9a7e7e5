package ui

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gomonnto/gomonnto/store"
)

// export serves GET /api/export: a history (?hist=ID, or ?group=G&var=E
// for the history of recorder expression E of group G; ?var=spikes for
// the raster's spikes) or the events timeline (?what=events), as
// ?format=csv (default), npy or json. A series is one row per step:
// iteration, then its values; spikes are (iteration, neuron) pairs.
func (u *UI) export(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	format := q.Get("format")
	if format == "" {
		format = "csv"
	}
	if format != "csv" && format != "npy" && format != "json" {
		http.Error(w, fmt.Sprintf("ui: export: format %q; use csv, npy or json", format), http.StatusBadRequest)
		return
	}
	var body []byte
	var name string
	err := u.do(r.Context(), command{Cmd: "fn", fn: func(s *Session) error {
		if err := s.pull(); err != nil {
			return err
		}
		if q.Get("what") == "events" {
			name = "events"
			var err error
			body, err = exportEvents(s.events, format)
			return err
		}
		h, err := s.findHist(q.Get("hist"), q.Get("group"), q.Get("var"))
		if err != nil {
			return err
		}
		name = strings.NewReplacer("/", "_", "(", "_", ")", "", ":", "_", " ", "").Replace(h.name)
		body, err = exportHist(h, format)
		return err
	}})
	if err != nil {
		http.Error(w, "ui: export: "+err.Error(), http.StatusBadRequest)
		return
	}
	ct := map[string]string{"csv": "text/csv", "npy": "application/octet-stream", "json": "application/json"}[format]
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name+"."+format))
	_, _ = w.Write(body)
}

// findHist finds a history by id, or by group and expression.
func (s *Session) findHist(id, group, expr string) (*history, error) {
	if id != "" {
		if h := s.hist(id); h != nil {
			return h, nil
		}
		return nil, fmt.Errorf("no history %q", id)
	}
	want := group + "/" + expr
	var names []string
	for _, h := range s.hists {
		if h.name == want || (expr == "spikes" && h.idx != nil && strings.HasPrefix(h.name, group+"/")) {
			return h, nil
		}
		names = append(names, h.name)
	}
	return nil, fmt.Errorf("no history %q; the UI keeps %s", want, strings.Join(names, ", "))
}

// records returns the history's records in order (oldest first).
func (h *history) records() (from, to int) { return max(0, h.total-h.cap), h.total }

func exportHist(h *history, format string) ([]byte, error) {
	from, to := h.records()
	var b bytes.Buffer
	if h.idx == nil {
		switch format {
		case "csv":
			cw := csv.NewWriter(&b)
			head := []string{"iteration"}
			for j := range h.width {
				head = append(head, fmt.Sprintf("%s[%d]", h.name, j))
			}
			if h.width == 1 {
				head = head[:1]
				head = append(head, h.name)
			}
			_ = cw.Write(head)
			for r := from; r < to; r++ {
				k := r % h.cap
				row := []string{strconv.Itoa(h.iters[k])}
				for _, v := range h.vals[k*h.width : (k+1)*h.width] {
					row = append(row, strconv.FormatFloat(float64(v), 'g', -1, 32))
				}
				_ = cw.Write(row)
			}
			cw.Flush()
			return b.Bytes(), cw.Error()
		case "npy":
			data := make([]float64, 0, (to-from)*(h.width+1))
			for r := from; r < to; r++ {
				k := r % h.cap
				data = append(data, float64(h.iters[k]))
				for _, v := range h.vals[k*h.width : (k+1)*h.width] {
					data = append(data, float64(v))
				}
			}
			err := store.WriteNPY(&b, data, []int{to - from, h.width + 1})
			return b.Bytes(), err
		default:
			its := make([]int, 0, to-from)
			vals := make([]float32, 0, (to-from)*h.width)
			for r := from; r < to; r++ {
				k := r % h.cap
				its = append(its, h.iters[k])
				vals = append(vals, h.vals[k*h.width:(k+1)*h.width]...)
			}
			return json.Marshal(jsonSafe(map[string]any{"name": h.name, "width": h.width, "iterations": its, "values": vals}))
		}
	}
	var its, idx []int64
	for r := from; r < to; r++ {
		k := r % h.cap
		for _, i := range h.idx[k] {
			its, idx = append(its, int64(h.iters[k])), append(idx, int64(i))
		}
	}
	switch format {
	case "csv":
		b.WriteString("iteration,neuron\n")
		for k := range its {
			fmt.Fprintf(&b, "%d,%d\n", its[k], idx[k])
		}
		return b.Bytes(), nil
	case "npy":
		data := make([]int64, 0, 2*len(its))
		for k := range its {
			data = append(data, its[k], idx[k])
		}
		err := store.WriteNPY(&b, data, []int{len(its), 2})
		return b.Bytes(), err
	default:
		return json.Marshal(map[string]any{"name": h.name, "iterations": its, "neurons": idx})
	}
}

func exportEvents(ev []Event, format string) ([]byte, error) {
	switch format {
	case "json":
		return json.Marshal(ev)
	case "csv":
		var b bytes.Buffer
		cw := csv.NewWriter(&b)
		_ = cw.Write([]string{"iteration", "end", "kind", "text"})
		for _, e := range ev {
			_ = cw.Write([]string{strconv.Itoa(e.Iter), strconv.Itoa(e.End), e.Kind, e.Text})
		}
		cw.Flush()
		return b.Bytes(), cw.Error()
	}
	return nil, fmt.Errorf("the events export as csv or json, not %s", format)
}

// SaveResults writes every history (.npy) and the events (events.json)
// into a new results folder under parent (store.Create) and returns its
// path. It runs between steps.
func (u *UI) SaveResults(parent string) (string, error) {
	var dir string
	err := u.do(context.Background(), command{Cmd: "fn", fn: func(s *Session) error {
		var err error
		dir, err = s.save(parent)
		return err
	}})
	return dir, err
}

func (s *Session) save(parent string) (string, error) {
	if err := s.pull(); err != nil {
		return "", err
	}
	run, err := store.Create(parent, "ui", store.RunOptions{})
	if err != nil {
		return "", err
	}
	run.Describe(s.net)
	run.SetIteration(s.net.Iteration)
	for _, h := range s.hists {
		from, to := h.records()
		name := strings.NewReplacer("/", "__", "(", "_", ")", "", ":", "_", " ", "", "[", "_", "]", "").Replace(h.name)
		if h.idx == nil {
			its := make([]int64, 0, to-from)
			vals := make([]float32, 0, (to-from)*h.width)
			for r := from; r < to; r++ {
				k := r % h.cap
				its = append(its, int64(h.iters[k]))
				vals = append(vals, h.vals[k*h.width:(k+1)*h.width]...)
			}
			if err := run.SaveArray(name, vals, []int{to - from, h.width}); err != nil {
				return "", err
			}
			if err := run.SaveArray(name+"__iterations", its, nil); err != nil {
				return "", err
			}
			continue
		}
		var its, idx []int64
		for r := from; r < to; r++ {
			k := r % h.cap
			for _, i := range h.idx[k] {
				its, idx = append(its, int64(h.iters[k])), append(idx, int64(i))
			}
		}
		if err := run.SaveArray(name+"__iterations", its, nil); err != nil {
			return "", err
		}
		if err := run.SaveArray(name+"__neurons", idx, nil); err != nil {
			return "", err
		}
	}
	ev := make([]int64, 0, 2*len(s.events))
	for _, e := range s.events {
		ev = append(ev, int64(e.Iter), int64(e.End))
	}
	if err := run.SaveArray("ui_events", ev, []int{len(s.events), 2}); err != nil {
		return "", err
	}
	texts := map[string]any{}
	for k, e := range s.events {
		texts[strconv.Itoa(k)] = e.Kind + ": " + e.Text
	}
	s.Log("save", run.Dir)
	return run.Dir, run.Finish("done", map[string]any{"ui_events": texts}, nil)
}
