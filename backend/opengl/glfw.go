package opengl

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/go-gl/glfw/v3.3/glfw"
)

// GLFW keeps global state, so every GLFW call of the package holds glfwMu.
// GLFW is initialized by the first context and stays initialized (one X
// connection for the process): under Xvfb, about 1 in 150 glfw.Init
// calls failed with "Failed to open display" when every last context's
// release terminated GLFW and the next context initialized it again.
var (
	glfwMu     sync.Mutex
	glfwInited bool
)

// glfwInitTries is how often glfw.Init is tried before openGLFW gives up
// (the X server refuses a connection now and then, see above).
const glfwInitTries = 5

// glfwContext is the context of a hidden 1x1 GLFW window, current on the
// locked thread that made it.
type glfwContext struct {
	win  *glfw.Window
	desc string
}

func (c *glfwContext) kind() string { return c.desc }

func (c *glfwContext) procAddr(name string) unsafe.Pointer { return glfw.GetProcAddress(name) }

func (c *glfwContext) release() {
	if c.win == nil {
		return
	}
	glfwMu.Lock()
	defer glfwMu.Unlock()
	// go-gl/glfw panics on a pending GLFW error in Terminate; a context
	// being destroyed has nothing left to report it to.
	defer func() { _ = recover() }()
	glfw.DetachCurrentContext()
	c.win.Destroy()
	c.win = nil
}

// glfwNoDisplay is the advice for a machine without an X display.
const glfwNoDisplay = "GLFW needs an X11 display: set DISPLAY, or run under Xvfb (xvfb-run -a ...), " +
	"or use Context \"egl\" (headless, no display needed), or -backend=cpu"

// openGLFW creates a hidden window with an OpenGL 4.3 core context and
// makes it current on the calling thread.
func openGLFW() (ctx *glfwContext, err error) {
	glfwMu.Lock()
	defer glfwMu.Unlock()
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return nil, errors.New("GLFW: DISPLAY is not set; " + glfwNoDisplay)
	}
	// go-gl/glfw panics on GLFW errors that it does not return; turn them
	// into errors.
	defer func() {
		if r := recover(); r != nil {
			ctx, err = nil, fmt.Errorf("GLFW: %v", r)
		}
	}()
	if !glfwInited {
		if err := initGLFW(); err != nil {
			return nil, fmt.Errorf("GLFW: %v; %s", err, glfwNoDisplay)
		}
		glfwInited = true
	}
	glfw.DefaultWindowHints()
	glfw.WindowHint(glfw.Visible, glfw.False)
	glfw.WindowHint(glfw.Resizable, glfw.False)
	glfw.WindowHint(glfw.ContextVersionMajor, 4)
	glfw.WindowHint(glfw.ContextVersionMinor, 3)
	glfw.WindowHint(glfw.OpenGLProfile, glfw.OpenGLCoreProfile)
	glfw.WindowHint(glfw.OpenGLForwardCompatible, glfw.True)
	win, werr := glfw.CreateWindow(1, 1, "gomonnto", nil, nil)
	if werr != nil {
		msg := werr.Error()
		if strings.Contains(msg, "version") || strings.Contains(msg, "Version") {
			return nil, fmt.Errorf("GLFW: %w: %v (update the GPU driver or Mesa, or use -backend=cpu)", errOldGL, werr)
		}
		return nil, fmt.Errorf("GLFW: cannot create a hidden window with an OpenGL 4.3 core context: %v", werr)
	}
	win.MakeContextCurrent()
	return &glfwContext{win: win, desc: "GLFW (X11 display " + os.Getenv("DISPLAY") + ")"}, nil
}

// initGLFW is glfw.Init, tried up to glfwInitTries times 20 ms apart
// while it fails. go-gl's Init reports a display that cannot be opened
// only in its log ("PlatformError: X11: Failed to open display"), leaving
// GLFW uninitialized, so success is checked with a call that needs an
// initialized GLFW (GetTime panics with NotInitialized otherwise).
func initGLFW() error {
	var err error
	for try := 1; try <= glfwInitTries; try++ {
		if err = glfw.Init(); err == nil && glfwReady() {
			return nil
		}
		if err == nil {
			err = errors.New("glfw.Init could not open the X display (see the PlatformError logged above)")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("%w (%d tries)", err, glfwInitTries)
}

// glfwReady reports whether GLFW is initialized.
func glfwReady() (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	glfw.GetTime()
	return true
}
