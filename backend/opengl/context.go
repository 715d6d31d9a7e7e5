package opengl

/*
typedef const unsigned char *(*gmGetStringFn)(unsigned int);
static const char *gmCallGetString(void *fn, unsigned int name) {
	return (const char *)((gmGetStringFn)fn)(name);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/go-gl/gl/v4.3-core/gl"
	"github.com/gomonnto/gomonnto/backend"
)

// glContext is an OpenGL context current on the locked thread that made it.
type glContext interface {
	// kind describes how the context was made ("EGL surfaceless (Mesa)").
	kind() string
	// procAddr returns the address of an OpenGL function.
	procAddr(name string) unsafe.Pointer
	// release destroys the context; it must run on the same thread.
	release()
}

const (
	glVendor   = 0x1F00
	glRenderer = 0x1F01
	glVersion  = 0x1F02
)

// glString calls glGetString through ctx's loader, before go-gl is set up.
func glString(ctx glContext, name uint32) string {
	fn := ctx.procAddr("glGetString")
	if fn == nil {
		return ""
	}
	return goStr(C.gmCallGetString(fn, C.uint(name)))
}

// glVersionAtLeast parses a GL_VERSION string ("4.5 (Core Profile) Mesa
// 22.3.6") and reports whether it is at least major.minor.
func glVersionAtLeast(version string, major, minor int) bool {
	f := strings.Fields(version)
	if len(f) == 0 {
		return false
	}
	mm := strings.SplitN(f[0], ".", 3)
	if len(mm) < 2 {
		return false
	}
	ma, err1 := strconv.Atoi(mm[0])
	mi, err2 := strconv.Atoi(mm[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return ma > major || ma == major && mi >= minor
}

// isSoftware reports whether a GL_RENDERER string names a CPU renderer.
func isSoftware(renderer string) bool {
	r := strings.ToLower(renderer)
	for _, s := range []string{"llvmpipe", "softpipe", "swrast", "software rasterizer", "lavapipe"} {
		if strings.Contains(r, s) {
			return true
		}
	}
	return false
}

// glInitMu serialises gl.InitWithProcAddrFunc: go-gl keeps its function
// pointers in package variables shared by every context of the process.
// With libglvnd (every current Linux driver) the pointers are dispatch
// stubs that call into whichever context is current on the calling thread,
// so one initialisation serves EGL and GLFW contexts alike.
// The pointers are (re)loaded only while no context uses them.
var (
	glInitMu sync.Mutex
	glUsers  int
)

func initGoGL(ctx glContext) error {
	glInitMu.Lock()
	defer glInitMu.Unlock()
	if glUsers == 0 {
		if err := gl.InitWithProcAddrFunc(ctx.procAddr); err != nil {
			return fmt.Errorf("loading OpenGL 4.3 functions through %s: function %v is missing; update the GPU driver or Mesa, or use -backend=cpu", ctx.kind(), err)
		}
	}
	glUsers++
	return nil
}

// releaseContext destroys a context made by makeContext.
func releaseContext(ctx glContext) {
	ctx.release()
	glInitMu.Lock()
	glUsers--
	glInitMu.Unlock()
}

// makeContext creates a context as opts.Context asks and makes it current
// on the calling thread, which must be locked. It checks that it offers
// OpenGL 4.3 and initialises go-gl for it.
func makeContext(which string) (glContext, error) {
	var ctx glContext
	var err error
	switch strings.ToLower(strings.TrimSpace(which)) {
	case "", "auto":
		var eglErr, glfwErr error
		ctx, eglErr = openEGL()
		if eglErr != nil {
			ctx, glfwErr = openGLFW()
			if glfwErr != nil {
				err = fmt.Errorf("no OpenGL context: %v; %v", eglErr, glfwErr)
				if errors.Is(eglErr, errOldGL) || errors.Is(glfwErr, errOldGL) {
					err = fmt.Errorf("%w (%w)", err, errOldGL)
				}
			}
		}
	case "egl":
		ctx, err = openEGL()
	case "glfw":
		ctx, err = openGLFW()
	default:
		return nil, fmt.Errorf("unknown Context %q: use \"auto\", \"egl\" or \"glfw\"", which)
	}
	if err != nil {
		return nil, err
	}
	version := glString(ctx, glVersion)
	if !glVersionAtLeast(version, 4, 3) {
		renderer := glString(ctx, glRenderer)
		ctx.release()
		return nil, fmt.Errorf("%w: %s gives OpenGL %q on %q; compute shaders need 4.3 (update the GPU driver or Mesa, or use -backend=cpu)", errOldGL, ctx.kind(), version, renderer)
	}
	if err := initGoGL(ctx); err != nil {
		ctx.release()
		return nil, err
	}
	return ctx, nil
}

// probe is the cached answer of Preferred for one Context option.
type probe struct {
	ok  bool
	why string
}

var (
	probeMu    sync.Mutex
	probeCache = map[string]probe{}
)

// preferred opens a context once per Context option (on a locked thread of
// its own), and says whether it is a hardware OpenGL 4.3 context.
func preferred(opts backend.Options) (bool, string) {
	key := strings.ToLower(strings.TrimSpace(opts.Context))
	probeMu.Lock()
	defer probeMu.Unlock()
	if p, ok := probeCache[key]; ok {
		return p.ok, p.why
	}
	p := runProbe(opts.Context)
	probeCache[key] = p
	return p.ok, p.why
}

func runProbe(which string) probe {
	ch := make(chan probe, 1)
	go func() {
		lockThread()
		ctx, err := makeContext(which)
		if err != nil {
			ch <- probe{false, "gl: " + err.Error()}
			return
		}
		renderer := glString(ctx, glRenderer)
		version := glString(ctx, glVersion)
		how := ctx.kind()
		releaseContext(ctx)
		if isSoftware(renderer) {
			ch <- probe{false, fmt.Sprintf("gl: %s is a software renderer (OpenGL %s through %s); the cpu backend is faster", renderer, version, how)}
			return
		}
		ch <- probe{true, fmt.Sprintf("gl: hardware OpenGL %s on %s through %s", version, renderer, how)}
	}()
	return <-ch
}
