package opengl

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"unsafe"

	"github.com/go-gl/glfw/v3.3/glfw"
)

// GLFW keeps global state, so every GLFW call of the package holds glfwMu;
// glfw.Init is reference-counted by the windows that are open.
var (
	glfwMu      sync.Mutex
	glfwWindows int
)

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
	glfwWindows--
	if glfwWindows == 0 {
		glfw.Terminate()
	}
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
	if glfwWindows == 0 {
		if err := glfw.Init(); err != nil {
			return nil, fmt.Errorf("GLFW: %v; %s", err, glfwNoDisplay)
		}
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
		if glfwWindows == 0 {
			glfw.Terminate()
		}
		msg := werr.Error()
		if strings.Contains(msg, "version") || strings.Contains(msg, "Version") {
			return nil, fmt.Errorf("GLFW: %w: %v (update the GPU driver or Mesa, or use -backend=cpu)", errOldGL, werr)
		}
		return nil, fmt.Errorf("GLFW: cannot create a hidden window with an OpenGL 4.3 core context: %v", werr)
	}
	glfwWindows++
	win.MakeContextCurrent()
	return &glfwContext{win: win, desc: "GLFW (X11 display " + os.Getenv("DISPLAY") + ")"}, nil
}
