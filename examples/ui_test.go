package examples

import (
	"bufio"
	"bytes"
	"encoding/json"
	"github.com/gomonnto/gomonnto/store"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// uiProc is an example running with -ui.
type uiProc struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer
	mu     sync.Mutex
	stderr bytes.Buffer
	done   chan error
	base   string // http://host:port
	token  string
}

var uiLine = regexp.MustCompile(`^ui: open (http://[^/]+)/\?token=([0-9a-f]+)$`)

// startUI runs bin with args and waits for its "ui: open URL" line on
// stderr.
func startUI(t *testing.T, bin string, args ...string) *uiProc {
	t.Helper()
	p := &uiProc{cmd: exec.Command(bin, args...), done: make(chan error, 1)}
	p.cmd.Stdout = &p.stdout
	errPipe, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan [2]string, 1)
	go func() {
		sc := bufio.NewScanner(errPipe)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.stderr.WriteString(line + "\n")
			p.mu.Unlock()
			if m := uiLine.FindStringSubmatch(line); m != nil {
				found <- [2]string{m[1], m[2]}
			}
		}
		_, _ = io.Copy(io.Discard, errPipe)
		p.done <- p.cmd.Wait()
	}()
	t.Cleanup(func() { _ = p.cmd.Process.Kill() }) // an error once it has exited
	select {
	case m := <-found:
		p.base, p.token = m[0], m[1]
	case err := <-p.done:
		t.Fatalf("%s %v exited before its URL line: %v\n%s", filepath.Base(bin), args, err, p.errText())
	case <-time.After(2 * time.Minute):
		t.Fatalf("%s %v: no 'ui: open' line on stderr after 2 min\n%s", filepath.Base(bin), args, p.errText())
	}
	return p
}

func (p *uiProc) errText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// get does GET path (with the token if tok) and returns the status and body.
func (p *uiProc) get(t *testing.T, path string, tok bool) (int, []byte) {
	t.Helper()
	u := p.base + path
	if tok {
		u += "?token=" + p.token
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// state is GET /api/state.
func (p *uiProc) state(t *testing.T) map[string]any {
	t.Helper()
	code, b := p.get(t, "/api/state", true)
	if code != http.StatusOK {
		t.Fatalf("GET /api/state: %d %s", code, b)
	}
	var st map[string]any
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("/api/state: %v: %s", err, b)
	}
	for _, k := range []string{"iteration", "paused"} {
		if _, ok := st[k]; !ok {
			t.Errorf("/api/state lacks %q: %s", k, b)
		}
	}
	return st
}

// command POSTs a command and returns the status and body.
func (p *uiProc) command(t *testing.T, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(p.base+"/api/cmd?token="+p.token, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST /api/cmd %s: %v", body, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitIteration polls /api/state until the iteration is n.
func (p *uiProc) waitIteration(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		st := p.state(t)
		if it := st["iteration"]; it == float64(n) {
			return
		} else if time.Now().After(deadline) || it.(float64) > float64(n) {
			t.Fatalf("iteration %v, want %d", it, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// quit sends quit and returns the -json line once the program has exited 0.
func (p *uiProc) quit(t *testing.T) map[string]any {
	t.Helper()
	if code, b := p.command(t, `{"cmd":"quit"}`); code != http.StatusOK {
		t.Fatalf("quit: %d %s", code, b)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("exit after quit: %v\n%s", err, p.errText())
		}
	case <-time.After(time.Minute):
		t.Fatalf("still running 1 min after quit\n%s", p.errText())
	}
	lines := strings.Split(strings.TrimSpace(p.stdout.String()), "\n")
	var res map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("last stdout line is not JSON: %q: %v\n%s", lines[len(lines)-1], err, p.errText())
	}
	return res
}

// TestUIBasic serves the README's example 3 paused, steps it 5 steps
// through the API and quits: the JSON line reports those steps.
func TestUIBasic(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the example programs; skipped in -short mode")
	}
	bin := build(t, "basic", t.TempDir())
	p := startUI(t, bin, "-backend=cpu", "-ui", "127.0.0.1:0", "-ui-paused", "-json")
	if code, _ := p.get(t, "/api/state", false); code != http.StatusUnauthorized {
		t.Errorf("GET /api/state without the token: %d, want 401", code)
	}
	if code, _ := p.get(t, "/", false); code != http.StatusUnauthorized {
		t.Errorf("GET / without the token: %d, want 401", code)
	}
	st := p.state(t)
	if st["iteration"] != float64(0) || st["paused"] != true {
		t.Errorf("state at the start: %v, want iteration 0, paused", st)
	}
	if code, b := p.command(t, `{"cmd":"step","n":5}`); code != http.StatusOK {
		t.Fatalf("step 5: %d %s", code, b)
	}
	p.waitIteration(t, 5)
	time.Sleep(200 * time.Millisecond) // paused after the steps
	if st := p.state(t); st["iteration"] != float64(5) {
		t.Errorf("iteration %v after step 5 and a pause, want 5", st["iteration"])
	}
	res := p.quit(t)
	if res["model"] != "basic" || res["steps"] != float64(5) || res["iteration"] != float64(5) || res["example"] != float64(3) || res["neurons"] != float64(100) {
		t.Errorf("JSON = %v, want basic example 3 (100 neurons), 5 steps", res)
	}
	for _, r := range res["recorded"].([]any) {
		if strings.Contains(r.(string), "events") {
			t.Errorf("the UI's recorders are in the results: %v", res["recorded"])
		}
	}
	errs := p.errText()
	if strings.Contains(errs, "example 1") || strings.Contains(errs, "example 2") || !strings.Contains(errs, "example 3: 5 steps") {
		t.Errorf("with -ui only example 3 runs; stderr:\n%s", errs)
	}
}

// TestUIExamples starts every other example with -ui paused, checks that
// the state answers, runs 3 steps and quits.
func TestUIExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the example programs; skipped in -short mode")
	}
	dir := t.TempDir()
	cases := []struct {
		name string
		args []string
	}{
		{"lif", nil},
		{"izhikevich", []string{"-ne", "400", "-ni", "100"}},
		{"izhikevich2003", nil},
		{"coba", []string{"-n", "1000"}},
		{"lifstdp", []string{"-n", "500"}},
		{"izhstdp", []string{"-n", "500"}},
		{"sorn", []string{"-ne", "100"}},
		{"pd14", []string{"-scale", "0.02", "-warmup", "0"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bin := build(t, c.name, dir)
			out := filepath.Join(dir, c.name+"-out")
			p := startUI(t, bin, append([]string{"-backend=cpu", "-ui", "127.0.0.1:0", "-ui-paused", "-json", "-out", out}, c.args...)...)
			if code, _ := p.get(t, "/api/state", false); code != http.StatusUnauthorized {
				t.Errorf("GET /api/state without the token: %d, want 401", code)
			}
			if st := p.state(t); st["iteration"] != float64(0) || st["paused"] != true {
				t.Errorf("state at the start: %v, want iteration 0, paused", st)
			}
			if code, b := p.get(t, "/api/layout", true); code != http.StatusOK || !bytes.Contains(b, []byte(`"`+c.name+`"`)) {
				t.Errorf("GET /api/layout: %d %.300s (want the title %q)", code, b, c.name)
			}
			if code, b := p.command(t, `{"cmd":"step","n":3}`); code != http.StatusOK {
				t.Fatalf("step 3: %d %s", code, b)
			}
			p.waitIteration(t, 3)
			res := p.quit(t)
			if res["model"] != c.name || res["steps"] != float64(3) || res["iteration"] != float64(3) {
				t.Errorf("JSON = %v, want model %s, 3 steps", res, c.name)
			}
		})
	}
}

// TestUIFlags checks -ui-readonly, -checkpoint under -ui (a checkpoint
// every 4 steps and one at the end, resumable) and the refused
// combinations.
func TestUIFlags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the example programs; skipped in -short mode")
	}
	dir := t.TempDir()
	bin := build(t, "lif", dir)
	t.Run("readonly", func(t *testing.T) {
		p := startUI(t, bin, "-backend=cpu", "-ui", "127.0.0.1:0", "-ui-paused", "-ui-readonly", "-json")
		p.state(t)
		if code, b := p.command(t, `{"cmd":"step","n":1}`); code != http.StatusForbidden {
			t.Errorf("step with -ui-readonly: %d %s, want 403", code, b)
		}
		if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-p.done:
			if err != nil {
				t.Fatalf("exit after SIGINT: %v\n%s", err, p.errText())
			}
		case <-time.After(time.Minute):
			t.Fatal("still running 1 min after SIGINT")
		}
		if !strings.Contains(p.stdout.String(), `"steps":0`) {
			t.Errorf("no JSON line with 0 steps after SIGINT: %q", p.stdout.String())
		}
	})
	t.Run("checkpoint", func(t *testing.T) {
		ck := filepath.Join(dir, "ck")
		p := startUI(t, bin, "-backend=cpu", "-ui", "127.0.0.1:0", "-ui-paused", "-json", "-checkpoint", ck, "-checkpoint-every", "4")
		p.state(t)
		if code, b := p.command(t, `{"cmd":"step","n":10}`); code != http.StatusOK {
			t.Fatalf("step 10: %d %s", code, b)
		}
		p.waitIteration(t, 10)
		p.quit(t)
		var names []string
		for _, it := range []int{4, 8, 10} {
			names = append(names, filepath.Base(store.CheckpointPath(ck, it)))
		}
		got, err := store.Checkpoints(ck)
		if err != nil {
			t.Fatal(err)
		}
		var base []string
		for _, g := range got {
			base = append(base, filepath.Base(g))
		}
		if strings.Join(base, " ") != strings.Join(names, " ") && !strings.Contains(strings.Join(base, " "), names[2]) {
			t.Fatalf("checkpoints %v, want those of iterations 4, 8 and 10 (%v)", base, names)
		}
		out, err := exec.Command(bin, "-backend=cpu", "-resume", ck, "-steps", "0", "-json").CombinedOutput()
		if err != nil || !strings.Contains(string(out), `"iteration":10`) {
			t.Fatalf("resume the UI run's checkpoint: %v\n%s", err, out)
		}
		// One written while the UI ran resumes without it (the UI's
		// recorders are no part of the state).
		if err := os.Remove(store.CheckpointPath(ck, 10)); err != nil {
			t.Fatal(err)
		}
		out, err = exec.Command(bin, "-backend=cpu", "-resume", ck, "-steps", "0", "-json").CombinedOutput()
		if err != nil || !strings.Contains(string(out), `"iteration":8`) {
			t.Fatalf("resume the checkpoint of step 8, written under the UI: %v\n%s", err, out)
		}
	})
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-ui-paused"}, "-ui-paused need(s) -ui ADDR"},
		{[]string{"-ui", "127.0.0.1:0", "-ui-spf", "-2"}, "-ui-spf=-2"},
	} {
		out, err := exec.Command(bin, append([]string{"-backend=cpu"}, c.args...)...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), c.want) {
			t.Errorf("%v: err %v, output %q, want %q", c.args, err, out, c.want)
		}
	}
}
