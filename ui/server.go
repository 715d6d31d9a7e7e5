package ui

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

//go:embed static
var static embed.FS

// access is what a request may do.
type access int

const (
	denied access = iota
	viewer
	controller
)

func (u *UI) access(r *http.Request) access {
	tok := r.URL.Query().Get("token")
	if tok == "" {
		if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
			tok = strings.TrimPrefix(h, "Bearer ")
		}
	}
	if tok == "" {
		if c, err := r.Cookie("gomonnto_token"); err == nil {
			tok = c.Value
		}
	}
	switch {
	case u.opt.Token == NoToken:
		if u.opt.ReadOnly || tok == u.opt.ViewToken {
			return viewer
		}
		return controller
	case tok == u.opt.Token && !u.opt.ReadOnly:
		return controller
	case tok == u.opt.Token || tok == u.opt.ViewToken:
		return viewer
	}
	return denied
}

// sameOrigin accepts requests without an Origin (scripts, curl) and those
// whose Origin is the server's own host.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	ou, err := url.Parse(o)
	if err != nil {
		return false
	}
	return strings.EqualFold(ou.Host, r.Host)
}

func (u *UI) guard(need access, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !sameOrigin(r) {
			http.Error(w, "ui: foreign Origin "+r.Header.Get("Origin")+" refused; open the UI from its own address", http.StatusForbidden)
			return
		}
		a := u.access(r)
		if a == denied {
			http.Error(w, "ui: missing or wrong token; open the URL the program printed (it ends in ?token=...)", http.StatusUnauthorized)
			return
		}
		if a < need {
			http.Error(w, "ui: this client may only watch (read-only token or -ui-readonly)", http.StatusForbidden)
			return
		}
		h(w, r)
	}
}

func (u *UI) routes() http.Handler {
	mux := http.NewServeMux()
	sub, _ := fs.Sub(static, "static")
	files := http.FileServerFS(sub)
	page := template.Must(template.ParseFS(static, "static/index.html"))
	mux.HandleFunc("GET /{$}", u.guard(viewer, func(w http.ResponseWriter, r *http.Request) {
		tok := r.URL.Query().Get("token")
		if tok != "" {
			http.SetCookie(w, &http.Cookie{Name: "gomonnto_token", Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		}
		var b bytes.Buffer
		if err := page.Execute(&b, map[string]any{"Title": u.opt.Title}); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(b.Bytes())
	}))
	mux.Handle("GET /static/", http.StripPrefix("/static/", files))
	mux.HandleFunc("GET /api/layout", u.guard(viewer, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, u.layout(u.access(r)))
	}))
	mux.HandleFunc("GET /api/state", u.guard(viewer, func(w http.ResponseWriter, r *http.Request) {
		f := u.latest.Load()
		st := map[string]any{"iteration": u.iter.Load(), "paused": u.paused.Load(), "clients": u.clients.count()}
		if f != nil {
			for _, k := range []string{"seq", "iter", "spf", "rate", "selection", "ff", "stats"} {
				st[k] = f.json[k]
			}
		}
		writeJSON(w, jsonSafe(st))
	}))
	mux.HandleFunc("GET /api/frame", u.guard(viewer, func(w http.ResponseWriter, r *http.Request) {
		f := u.latest.Load()
		if f == nil {
			http.Error(w, "ui: no frame yet (frames are made while a client is connected)", http.StatusServiceUnavailable)
			return
		}
		writeJSON(w, jsonSafe(f.json))
	}))
	mux.HandleFunc("POST /api/cmd", u.guard(controller, func(w http.ResponseWriter, r *http.Request) {
		var c command
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&c); err != nil {
			http.Error(w, "ui: command: "+err.Error(), http.StatusBadRequest)
			return
		}
		if err := u.do(r.Context(), c); err != nil {
			http.Error(w, "ui: "+err.Error(), http.StatusBadRequest)
			return
		}
		writeJSON(w, map[string]any{"ok": true})
	}))
	mux.HandleFunc("GET /api/export", u.guard(viewer, u.export))
	mux.HandleFunc("GET /ws", u.guard(viewer, u.serveWS))
	return mux
}

// do sends c to the simulation goroutine and waits for its result.
func (u *UI) do(ctx context.Context, c command) error {
	c.reply = make(chan error, 1)
	select {
	case u.cmds <- c:
	case <-u.stopped:
		return errors.New("the run has ended")
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-c.reply:
		return err
	case <-u.stopped:
		return errors.New("the run has ended")
	case <-ctx.Done():
		return ctx.Err()
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}

// layout is what a client needs to build its page.
func (u *UI) layout(a access) map[string]any {
	groups := []map[string]any{}
	for _, g := range u.sess.groups {
		groups = append(groups, map[string]any{"name": g.Name(), "n": g.Size, "w": g.Dim.Width, "h": g.Dim.Height, "d": g.Dim.Depth})
	}
	return map[string]any{
		"title": u.opt.Title, "panels": u.sess.panels, "groups": groups, "control": a == controller,
		"history": u.opt.History, "backend": u.net.Backend().Name(), "device": u.net.Backend().Device(),
		"frameMs": u.opt.FrameInterval.Milliseconds(), "viewToken": u.opt.ViewToken,
	}
}

// client is one WebSocket connection.
type client struct {
	id      uint64
	control bool
	mu      sync.Mutex
	visible map[string]bool
	cursor  map[string]cursor // history id -> records received
	acked   chan struct{}
	sent    uint64
	dropped uint64
	cancel  context.CancelFunc
}

// cursor is how much of a history a client has: n records of epoch.
type cursor struct{ epoch, n int }

type clientSet struct {
	mu   sync.Mutex
	next uint64
	all  map[uint64]*client
}

func (cs *clientSet) add(c *client) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.all == nil {
		cs.all = map[uint64]*client{}
	}
	cs.next++
	c.id = cs.next
	cs.all[c.id] = c
}

func (cs *clientSet) remove(c *client) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	delete(cs.all, c.id)
}

func (cs *clientSet) count() int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return len(cs.all)
}

// visible is the union of the panels the clients show.
func (cs *clientSet) visible() map[string]bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	out := map[string]bool{}
	for _, c := range cs.all {
		c.mu.Lock()
		for k, v := range c.visible {
			if v {
				out[k] = true
			}
		}
		c.mu.Unlock()
	}
	return out
}

func (cs *clientSet) closeAll() {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for _, c := range cs.all {
		c.cancel()
	}
}

// serveWS streams frames to one client and reads its commands: "ack"
// (ready for the next frame), "view" (the panels it shows) and the
// commands of POST /api/cmd.
func (u *UI) serveWS(w http.ResponseWriter, r *http.Request) {
	conn, err := websocket.Accept(w, r, nil) // same-origin only (guard checked it too)
	if err != nil {
		return
	}
	conn.SetReadLimit(1 << 20)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	c := &client{control: u.access(r) == controller, visible: map[string]bool{}, cursor: map[string]cursor{}, acked: make(chan struct{}, 1), cancel: cancel}
	c.acked <- struct{}{}
	u.clients.add(c)
	defer u.clients.remove(c)
	go func() {
		defer cancel()
		for {
			_, data, err := conn.Read(ctx)
			if err != nil {
				return
			}
			var m struct {
				command
				Panels []string `json:"panels"`
			}
			if err := json.Unmarshal(data, &m); err != nil {
				u.wsError(ctx, conn, "bad message: "+err.Error())
				continue
			}
			switch m.Cmd {
			case "ack":
				select {
				case c.acked <- struct{}{}:
				default:
				}
			case "view":
				c.mu.Lock()
				c.visible = map[string]bool{}
				for _, p := range m.Panels {
					c.visible[p] = true
				}
				c.mu.Unlock()
				u.send(command{Cmd: "redraw"})
			default:
				if !c.control {
					u.wsError(ctx, conn, "this client may only watch (read-only token)")
					continue
				}
				if err := u.do(ctx, m.command); err != nil {
					u.wsError(ctx, conn, err.Error())
				}
			}
		}
	}()
	u.send(command{Cmd: "redraw"})
	var last uint64
	for {
		wake := u.waitFrame()
		f := u.latest.Load()
		if f != nil && f.Seq != last {
			select {
			case <-c.acked:
				msg, err := u.encodeFor(c, f)
				if err != nil {
					u.sess.fail(err)
					return
				}
				wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
				err = conn.Write(wctx, websocket.MessageBinary, msg)
				wcancel()
				if err != nil {
					return
				}
				if last != 0 && f.Seq > last+1 {
					atomic.AddUint64(&c.dropped, f.Seq-last-1)
					u.stats.drop(f.Seq - last - 1)
				}
				last = f.Seq
				u.stats.sent(len(msg))
				continue
			case <-ctx.Done():
				conn.Close(websocket.StatusNormalClosure, "")
				return
			}
		}
		select {
		case <-wake:
		case <-ctx.Done():
			conn.Close(websocket.StatusNormalClosure, "")
			return
		}
	}
}

func (u *UI) wsError(ctx context.Context, conn *websocket.Conn, msg string) {
	b, _ := json.Marshal(map[string]string{"error": msg})
	wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_ = conn.Write(wctx, websocket.MessageText, b)
}

// encodeFor adds to f's shared part the history c has not received.
func (u *UI) encodeFor(c *client, f *frame) ([]byte, error) {
	s := u.sess
	s.histMu.RLock()
	defer s.histMu.RUnlock()
	p := &part{}
	hs := map[string]any{}
	// The history goes up to now (a step or so past the shared part, which
	// is harmless); a client gets what it has not received, or all the ring
	// holds after a restart of the history (a new selection) or on connect.
	for _, h := range s.hists[:len(f.histEnd)] {
		cur, seen := c.cursor[h.id]
		reset := !seen || cur.epoch != h.epoch
		if reset {
			cur = cursor{epoch: h.epoch}
		}
		if !reset && cur.n == h.total {
			continue
		}
		from := max(cur.n, h.total-h.cap, 0)
		d := h.encode(p, from, h.total)
		d["spec"] = h.spec()
		d["reset"] = reset
		hs[h.id] = d
		c.cursor[h.id] = cursor{epoch: h.epoch, n: h.total}
	}
	hist, err := appendPart(nil, map[string]any{"hist": hs}, p)
	if err != nil {
		return nil, err
	}
	return message(f.shared, hist), nil
}

// Addr is the address the UI listens on (after Listen).
func (u *UI) Addr() net.Addr {
	if u.ln == nil {
		return nil
	}
	return u.ln.Addr()
}

// stats is the performance readout.
type stats struct {
	mu     sync.Mutex
	rate   float64
	frames []time.Time
	bytes  []struct {
		t time.Time
		n int
	}
	dropped uint64
}

func (st *stats) setRate(r float64) { st.mu.Lock(); st.rate = r; st.mu.Unlock() }

func (st *stats) frame() {
	st.mu.Lock()
	defer st.mu.Unlock()
	now := time.Now()
	st.frames = append(st.frames, now)
	for len(st.frames) > 0 && now.Sub(st.frames[0]) > time.Second {
		st.frames = st.frames[1:]
	}
}

func (st *stats) sent(n int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	now := time.Now()
	st.bytes = append(st.bytes, struct {
		t time.Time
		n int
	}{now, n})
	for len(st.bytes) > 0 && now.Sub(st.bytes[0].t) > time.Second {
		st.bytes = st.bytes[1:]
	}
}

func (st *stats) drop(n uint64) { atomic.AddUint64(&st.dropped, n) }

func (st *stats) snapshot(read time.Duration, reads int) map[string]any {
	st.mu.Lock()
	defer st.mu.Unlock()
	b := 0
	for _, x := range st.bytes {
		b += x.n
	}
	return map[string]any{
		"steps_per_s": st.rate, "frames_per_s": len(st.frames), "bytes_per_s": b,
		"frame_ms": float64(read.Microseconds()) / 1000, "reads": reads, "dropped": atomic.LoadUint64(&st.dropped),
	}
}
