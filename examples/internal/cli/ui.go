package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/ui"
)

// The flags of the live browser UI: -ui ADDR, -ui-paused, -ui-readonly and
// -ui-spf.
type uiFlags struct {
	addr             *string
	paused, readOnly *bool
	spf              *int
}

var uiF uiFlags

func registerUI() {
	uiF = uiFlags{
		addr:     flag.String("ui", "", "serve a live browser UI on this address (e.g. 127.0.0.1:8080; :0 picks a free port) instead of running -steps steps; it runs until the UI's quit or SIGINT/SIGTERM, then writes the outputs of the steps run; the example's recorders keep the last 100000 steps (empty: no UI)"),
		paused:   flag.Bool("ui-paused", false, "with -ui: start paused"),
		readOnly: flag.Bool("ui-readonly", false, "with -ui: clients may watch but not control the run"),
		spf:      flag.Int("ui-spf", ui.Unlimited, "with -ui: steps per frame (0: 1; -1: as fast as the network runs)"),
	}
}

// uiView is what the UI shows (UIView).
type uiView struct {
	title                 string
	neuronVars, synapseVs []string
}

// UIStepsPerFrame sets the default of -ui-spf (-1 unless set); call it
// before flag.Parse.
func (f *Flags) UIStepsPerFrame(n int) {
	*uiF.spf = n
	if fl := flag.Lookup("ui-spf"); fl != nil {
		fl.DefValue = strconv.Itoa(n)
	}
}

// UIView sets what -ui shows: the page title (the model name) and the
// variables of the modules, neuronVars of the neuron groups (the first
// colours the network view and drives the raster, ISI and spectrum; each
// group's spike mask, e.g. fired, is picked for the raster where it has
// one) and synapseVars of the synapse groups (the weights views). Without
// a call the title is the program's name, the neuron variable the first of
// activity, v, fired, spikes, spike and output that every group has, and
// the synapse variable W; nil keeps a default.
func (f *Flags) UIView(model string, neuronVars, synapseVars []string) {
	f.view = uiView{title: model, neuronVars: neuronVars, synapseVs: synapseVars}
}

// UIEnabled reports whether -ui was given.
func (f *Flags) UIEnabled() bool { return *uiF.addr != "" }

// StepsRun is the number of steps the last Run simulated: -steps, or with
// -ui those run until the UI quit.
func (f *Flags) StepsRun() int { return f.ran }

// checkUIFlags refuses the -ui-* flags without -ui and -ui with what it
// cannot run.
func (f *Flags) checkUIFlags(opt core.SimOptions) error {
	if !f.UIEnabled() {
		var set []string
		flag.Visit(func(fl *flag.Flag) {
			if strings.HasPrefix(fl.Name, "ui-") {
				set = append(set, "-"+fl.Name)
			}
		})
		if len(set) > 0 {
			return fmt.Errorf("%s need(s) -ui ADDR", strings.Join(set, ", "))
		}
		return nil
	}
	if *uiF.spf < ui.Unlimited {
		return fmt.Errorf("-ui-spf=%d: give 1 or more steps per frame, 0 for 1, or -1 for as fast as possible", *uiF.spf)
	}
	return nil
}

// defaultNeuronVars are the candidates of the UI's neuron variable.
var defaultNeuronVars = []string{"activity", "v", "fired", "spikes", "spike", "output"}

// uiVars are the variables the UI shows.
func (f *Flags) uiVars(net *core.Network) ([]string, []string) {
	nv, sv := f.view.neuronVars, f.view.synapseVs
	if len(nv) == 0 {
		gs := net.NeuronGroups()
	cand:
		for _, v := range defaultNeuronVars {
			for _, g := range gs {
				if g.Var(v) == nil {
					continue cand
				}
			}
			nv = []string{v}
			break
		}
		if len(nv) == 0 && len(gs) > 0 {
			nv = []string{defaultNeuronVars[0]} // ui.New says which group lacks it
		}
	}
	if len(sv) == 0 {
		sv = []string{"W"}
	}
	return nv, sv
}

// uiKeep is how many steps the example's own recorders keep under -ui,
// where a run has no end.
const uiKeep = 100000

// serveUI runs net under the browser UI of -ui until a client quits or
// SIGINT/SIGTERM arrives, with the step hooks (checkpoints, NaN guard), and
// returns the wall time.
func (f *Flags) serveUI(net *core.Network, hooks []core.StepHook) (float64, error) {
	for _, b := range net.Order() {
		if r, ok := b.(*core.Recorder); ok && r.Options().MaxLength == 0 {
			r.SetMaxLength(uiKeep)
		}
	}
	nv, sv := f.uiVars(net)
	title := f.view.title
	if title == "" {
		title = filepath.Base(os.Args[0])
	}
	u, err := ui.New(net, ui.DefaultModules(nv, sv), ui.Options{
		Title:         title,
		Addr:          *uiF.addr,
		Log:           os.Stderr,
		StartPaused:   *uiF.paused,
		ReadOnly:      *uiF.readOnly,
		StepsPerFrame: *uiF.spf,
		SaveDir:       *f.Out,
		Hooks:         hooks,
	})
	if err != nil {
		return 0, fmt.Errorf("-ui: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	t0 := time.Now()
	if err := u.Serve(ctx); err != nil {
		return time.Since(t0).Seconds(), err
	}
	stop()
	if err := net.Backend().Sync(); err != nil {
		return 0, err
	}
	return time.Since(t0).Seconds(), nil
}
