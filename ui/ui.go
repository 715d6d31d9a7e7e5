package ui

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gomonnto/gomonnto/core"
)

// Options configure a UI. The zero value serves on 127.0.0.1 at a free
// port with a random token, 30 frames/s and one step per frame.
type Options struct {
	// Title is the page title (PymoNNto's title; "GoMoNNto" if empty).
	Title string
	// Groups lists the neuron groups shown, by tag (all if empty).
	Groups []string
	// Addr is the listen address; "127.0.0.1:0" if empty. Give a host
	// other than 127.0.0.1/localhost only on a trusted network.
	Addr string
	// Token is the secret a client shows to control the run (a random one
	// if empty; NoToken disables the check, for tests only).
	Token string
	// ViewToken lets a client watch without controlling (random if empty).
	ViewToken string
	// FrameInterval is the time between frames (1/30 s if 0).
	FrameInterval time.Duration
	// StepsPerFrame is the number of steps between frames, PymoNNto's
	// "render every x frames" (1 if 0); Unlimited runs as fast as the
	// network runs and sends a frame every FrameInterval.
	StepsPerFrame int
	// History is the length in steps of the plots' history (1000 if 0).
	History int
	// StartPaused starts the UI paused.
	StartPaused bool
	// ReadOnly refuses every command from clients (watching only).
	ReadOnly bool
	// Hooks run after every step, as in core.SimOptions (a
	// store.Checkpointer, a core.NaNGuard); an error from one ends Run.
	Hooks []core.StepHook
	// SaveDir is where the "save" command writes results folders (none if
	// empty).
	SaveDir string
	// Log receives the URL line and errors (nothing if nil).
	Log io.Writer
}

// NoToken as Options.Token disables the token check (tests only).
const NoToken = "-"

// Unlimited as Options.StepsPerFrame lets the network run free.
const Unlimited = -1

// UI serves a live view of one network to browsers. One goroutine (Serve's)
// owns the network: it steps it, applies commands between steps and
// publishes frames; clients get the newest frame when they are ready for
// one, so a slow client never slows the simulation.
type UI struct {
	net  *core.Network
	opt  Options
	mods []Module
	sess *Session

	cmds    chan command
	latest  atomic.Pointer[frame]
	wake    chan struct{} // closed and replaced when a frame is published
	wakeMu  sync.Mutex
	clients clientSet
	ln      net.Listener
	srv     *http.Server
	url     string
	handler http.Handler
	stats   stats
	iter    atomic.Int64 // the network's iteration, for other goroutines
	paused  atomic.Bool
	ran     atomic.Bool
	stopped chan struct{}
}

// New builds a UI over net (initialised or not: it is initialised before the
// first step) with modules mods (DefaultModules for PymoNNto's set).
func New(n *core.Network, mods []Module, opt Options) (*UI, error) {
	if n == nil {
		return nil, errors.New("ui: New: the network is nil")
	}
	if len(mods) == 0 {
		return nil, errors.New("ui: New: no modules; pass ui.DefaultModules([]string{\"activity\"}, []string{\"W\"}) for PymoNNto's set")
	}
	if opt.Addr == "" {
		opt.Addr = "127.0.0.1:0"
	}
	if opt.FrameInterval < 0 || opt.History < 0 || opt.StepsPerFrame < Unlimited {
		return nil, fmt.Errorf("ui: New: FrameInterval %v, History %d and StepsPerFrame %d must not be negative (StepsPerFrame may be ui.Unlimited)", opt.FrameInterval, opt.History, opt.StepsPerFrame)
	}
	if opt.FrameInterval == 0 {
		opt.FrameInterval = time.Second / 30
	}
	if opt.StepsPerFrame == 0 {
		opt.StepsPerFrame = 1
	}
	if opt.History == 0 {
		opt.History = 1000
	}
	if opt.Title == "" {
		opt.Title = "GoMoNNto"
	}
	if opt.Token == "" {
		opt.Token = randomToken()
	}
	if opt.ViewToken == "" {
		opt.ViewToken = randomToken()
	}
	if opt.Token != NoToken && opt.ViewToken == opt.Token {
		return nil, errors.New("ui: New: Token and ViewToken must differ")
	}
	if !n.Initialized() {
		if err := n.Initialize(); err != nil {
			return nil, err
		}
	}
	u := &UI{net: n, opt: opt, mods: mods, cmds: make(chan command, 64), wake: make(chan struct{}), stopped: make(chan struct{})}
	s, err := newSession(u)
	if err != nil {
		return nil, err
	}
	u.sess = s
	u.iter.Store(int64(n.Iteration))
	u.paused.Store(opt.StartPaused)
	seen := map[string]bool{}
	for _, m := range mods {
		if seen[m.ID()] {
			return nil, fmt.Errorf("ui: New: two modules with the id %q; give each module once", m.ID())
		}
		seen[m.ID()] = true
		if err := m.Setup(s); err != nil {
			return nil, fmt.Errorf("ui: module %s: %w", m.ID(), err)
		}
	}
	s.paused = opt.StartPaused
	s.spf = opt.StepsPerFrame
	u.handler = u.routes()
	return u, nil
}

func randomToken() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b)
}

// Handler serves the page, the API and the WebSocket (for httptest and for
// embedding in another server). The frames come from Run or Serve.
func (u *UI) Handler() http.Handler { return u.handler }

// URL is the address to open, control token included; empty before Listen.
func (u *UI) URL() string { return u.url }

// ViewURL is the address of a watch-only view.
func (u *UI) ViewURL() string {
	if u.url == "" {
		return ""
	}
	return u.base() + "/?token=" + u.opt.ViewToken
}

func (u *UI) base() string { return "http://" + u.ln.Addr().String() }

// Listen opens the listening socket (Serve calls it if needed) so that URL
// is known before the run starts.
func (u *UI) Listen() error {
	if u.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", u.opt.Addr)
	if err != nil {
		return fmt.Errorf("ui: listen on %s: %w (pick another address with -ui HOST:PORT)", u.opt.Addr, err)
	}
	u.ln = ln
	u.url = u.base() + "/"
	if u.opt.Token != NoToken {
		u.url += "?token=" + u.opt.Token
	}
	return nil
}

// Serve listens, prints the URL line to Options.Log and runs the network
// until ctx ends or a client asks to quit. It returns nil then, or the
// first error of the network or the server.
func (u *UI) Serve(ctx context.Context) error {
	if err := u.Listen(); err != nil {
		return err
	}
	if u.opt.Log != nil {
		fmt.Fprintf(u.opt.Log, "ui: open %s\n", u.url)
	}
	u.srv = &http.Server{Handler: u.handler, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() {
		if err := u.srv.Serve(u.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case err := <-errc:
			u.sess.fail(err)
			cancel()
		case <-ctx.Done():
		}
	}()
	err := u.Run(ctx)
	sctx, scancel := context.WithTimeout(context.Background(), time.Second)
	defer scancel()
	u.clients.closeAll()
	_ = u.srv.Shutdown(sctx)
	return err
}

// Run steps the network and publishes frames until ctx ends (Serve calls
// it; call it yourself with Handler mounted elsewhere). When it returns
// the UI's own recorders (tag UI_rec) are gone from the network, which
// goes on as it was; a UI runs once.
func (u *UI) Run(ctx context.Context) error {
	defer close(u.stopped)
	if u.ran.Swap(true) {
		return errors.New("ui: Run or Serve called twice; make a new UI with ui.New")
	}
	err := u.sess.loop(ctx)
	if _, rerr := u.net.RemoveBehaviors("UI_rec"); rerr != nil && err == nil && !errors.Is(rerr, core.ErrUnknownTag) {
		err = rerr
	}
	for _, r := range u.sess.sources {
		r.rec.Release()
	}
	for _, t := range u.sess.tracers {
		t.buf.Release()
	}
	return err
}

// Pause stops the simulation after the current step.
func (u *UI) Pause() { u.send(command{Cmd: "pause"}) }

// Resume lets the simulation run again.
func (u *UI) Resume() { u.send(command{Cmd: "resume"}) }

// Step runs n steps and pauses.
func (u *UI) Step(n int) { u.send(command{Cmd: "step", N: n}) }

// FastForward runs n steps as fast as possible (recording the UI's
// history if record), with progress frames, then goes on as before.
func (u *UI) FastForward(n int, record bool) {
	u.send(command{Cmd: "ff", N: n, Record: &record})
}

// Select selects neurons idx of the group tagged group.
func (u *UI) Select(group string, idx ...int) {
	u.send(command{Cmd: "select", Group: group, Idx: idx})
}

// Quit ends Run.
func (u *UI) Quit() { u.send(command{Cmd: "quit"}) }

func (u *UI) send(c command) {
	select {
	case u.cmds <- c:
	case <-u.stopped:
	}
}

// publish makes f the newest frame and wakes the client writers.
func (u *UI) publish(f *frame) {
	u.latest.Store(f)
	u.wakeMu.Lock()
	close(u.wake)
	u.wake = make(chan struct{})
	u.wakeMu.Unlock()
}

func (u *UI) waitFrame() <-chan struct{} {
	u.wakeMu.Lock()
	defer u.wakeMu.Unlock()
	return u.wake
}
