package opengl

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>
#include <EGL/egl.h>
#include <EGL/eglext.h>

// libEGL is opened with dlopen rather than linked so that a program built
// with the gl backend still starts (and can fall back to cpu) on a machine
// without it, and so that its absence is reported with the package to
// install.
static void *gmLib;
static PFNEGLGETPROCADDRESSPROC gmGetProcAddress;
static PFNEGLGETERRORPROC gmGetError;
static PFNEGLQUERYSTRINGPROC gmQueryString;
static PFNEGLGETDISPLAYPROC gmGetDisplay;
static PFNEGLINITIALIZEPROC gmInitialize;
static PFNEGLBINDAPIPROC gmBindAPI;
static PFNEGLCHOOSECONFIGPROC gmChooseConfig;
static PFNEGLCREATECONTEXTPROC gmCreateContext;
static PFNEGLDESTROYCONTEXTPROC gmDestroyContext;
static PFNEGLMAKECURRENTPROC gmMakeCurrent;
static PFNEGLRELEASETHREADPROC gmReleaseThread;
static PFNEGLGETPLATFORMDISPLAYEXTPROC gmGetPlatformDisplay;
static PFNEGLQUERYDEVICESEXTPROC gmQueryDevices;
static PFNEGLQUERYDEVICESTRINGEXTPROC gmQueryDeviceString;

#define GM_MAX_DEVICES 16
static EGLDeviceEXT gmDevices[GM_MAX_DEVICES];

// gmLoad opens libEGL and resolves the core functions. It returns NULL on
// success and dlerror's message otherwise.
static const char *gmLoad(void) {
	if (gmLib) {
		return NULL;
	}
	void *lib = dlopen("libEGL.so.1", RTLD_NOW | RTLD_GLOBAL);
	if (!lib) {
		lib = dlopen("libEGL.so", RTLD_NOW | RTLD_GLOBAL);
	}
	if (!lib) {
		return dlerror();
	}
	gmGetProcAddress = (PFNEGLGETPROCADDRESSPROC)dlsym(lib, "eglGetProcAddress");
	gmGetError = (PFNEGLGETERRORPROC)dlsym(lib, "eglGetError");
	gmQueryString = (PFNEGLQUERYSTRINGPROC)dlsym(lib, "eglQueryString");
	gmGetDisplay = (PFNEGLGETDISPLAYPROC)dlsym(lib, "eglGetDisplay");
	gmInitialize = (PFNEGLINITIALIZEPROC)dlsym(lib, "eglInitialize");
	gmBindAPI = (PFNEGLBINDAPIPROC)dlsym(lib, "eglBindAPI");
	gmChooseConfig = (PFNEGLCHOOSECONFIGPROC)dlsym(lib, "eglChooseConfig");
	gmCreateContext = (PFNEGLCREATECONTEXTPROC)dlsym(lib, "eglCreateContext");
	gmDestroyContext = (PFNEGLDESTROYCONTEXTPROC)dlsym(lib, "eglDestroyContext");
	gmMakeCurrent = (PFNEGLMAKECURRENTPROC)dlsym(lib, "eglMakeCurrent");
	gmReleaseThread = (PFNEGLRELEASETHREADPROC)dlsym(lib, "eglReleaseThread");
	if (!gmGetProcAddress || !gmGetError || !gmQueryString || !gmGetDisplay || !gmInitialize ||
	    !gmBindAPI || !gmChooseConfig || !gmCreateContext || !gmDestroyContext || !gmMakeCurrent) {
		dlclose(lib);
		return "libEGL lacks EGL 1.4 core functions";
	}
	gmGetPlatformDisplay = (PFNEGLGETPLATFORMDISPLAYEXTPROC)gmGetProcAddress("eglGetPlatformDisplayEXT");
	gmQueryDevices = (PFNEGLQUERYDEVICESEXTPROC)gmGetProcAddress("eglQueryDevicesEXT");
	gmQueryDeviceString = (PFNEGLQUERYDEVICESTRINGEXTPROC)gmGetProcAddress("eglQueryDeviceStringEXT");
	gmLib = lib;
	return NULL;
}

static EGLint gmError(void) { return gmGetError(); }

static const char *gmClientExtensions(void) {
	const char *s = gmQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
	if (!s) {
		gmGetError(); // EGL 1.4 without client extensions sets EGL_BAD_DISPLAY
	}
	return s;
}

static const char *gmDisplayString(EGLDisplay dpy, EGLint name) { return gmQueryString(dpy, name); }

static EGLDisplay gmPlatformDisplay(EGLenum platform, void *native) {
	if (!gmGetPlatformDisplay) {
		return EGL_NO_DISPLAY;
	}
	return gmGetPlatformDisplay(platform, native, NULL);
}

static EGLDisplay gmDefaultDisplay(void) { return gmGetDisplay(EGL_DEFAULT_DISPLAY); }

// gmQueryDeviceList fills gmDevices and returns how many there are, or -1.
static int gmQueryDeviceList(void) {
	EGLint n = 0;
	if (!gmQueryDevices || !gmQueryDevices(GM_MAX_DEVICES, gmDevices, &n)) {
		return -1;
	}
	return n;
}

static void *gmDevice(int i) { return gmDevices[i]; }

static const char *gmDeviceString(void *dev, EGLint name) {
	if (!gmQueryDeviceString) {
		return NULL;
	}
	const char *s = gmQueryDeviceString((EGLDeviceEXT)dev, name);
	if (!s) {
		gmGetError();
	}
	return s;
}

static EGLint gmInit(EGLDisplay dpy, EGLint *major, EGLint *minor) {
	if (!gmInitialize(dpy, major, minor)) {
		return gmGetError();
	}
	return EGL_SUCCESS;
}

// gmContext creates an OpenGL context (major.minor core when core != 0, the
// default context otherwise) and makes it current without a surface.
static EGLint gmContext(EGLDisplay dpy, int major, int minor, int core, int noConfig, EGLContext *out) {
	if (!gmBindAPI(EGL_OPENGL_API)) {
		return gmGetError();
	}
	EGLConfig cfg = (EGLConfig)0;
	if (!noConfig) {
		EGLint cattr[] = {EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT, EGL_NONE};
		EGLint n = 0;
		if (!gmChooseConfig(dpy, cattr, &cfg, 1, &n)) {
			return gmGetError();
		}
		if (n < 1) {
			return EGL_BAD_CONFIG;
		}
	}
	EGLint attr[] = {
		EGL_CONTEXT_MAJOR_VERSION, major,
		EGL_CONTEXT_MINOR_VERSION, minor,
		EGL_CONTEXT_OPENGL_PROFILE_MASK, EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT,
		EGL_NONE,
	};
	EGLContext ctx = gmCreateContext(dpy, cfg, EGL_NO_CONTEXT, core ? attr : NULL);
	if (ctx == EGL_NO_CONTEXT) {
		return gmGetError();
	}
	if (!gmMakeCurrent(dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, ctx)) {
		EGLint err = gmGetError();
		gmDestroyContext(dpy, ctx);
		return err;
	}
	*out = ctx;
	return EGL_SUCCESS;
}

static void gmDestroy(EGLDisplay dpy, EGLContext ctx) {
	gmMakeCurrent(dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
	gmDestroyContext(dpy, ctx);
	if (gmReleaseThread) {
		gmReleaseThread();
	}
}

static void *gmProcAddress(const char *name) { return (void *)gmGetProcAddress(name); }
*/
import "C"

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"unsafe"
)

// eglMu serialises the EGL setup calls that use the C globals above.
var eglMu sync.Mutex

// eglPackages names what a Debian or Ubuntu machine needs for EGL.
const eglPackages = "install libegl1 and libgl1-mesa-dri (Debian/Ubuntu: apt-get install libegl1 libgl1-mesa-dri; " +
	"for building also libegl-dev libgl1-mesa-dev), or on an NVIDIA machine the driver's EGL library (libnvidia-egl), " +
	"or use Context \"glfw\" on a machine with a display, or -backend=cpu"

// eglContext is an OpenGL context made current on the calling (locked)
// thread through EGL, without a surface.
type eglContext struct {
	dpy  C.EGLDisplay
	ctx  C.EGLContext
	desc string
}

func (c *eglContext) kind() string { return c.desc }

func (c *eglContext) procAddr(name string) unsafe.Pointer {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	return C.gmProcAddress(cs)
}

// release destroys the context. The EGL display stays initialised: it is
// shared by every context of the process.
func (c *eglContext) release() {
	if c.ctx != nil {
		C.gmDestroy(c.dpy, c.ctx)
		c.ctx = nil
	}
}

func hasExt(list, ext string) bool {
	for _, e := range strings.Fields(list) {
		if e == ext {
			return true
		}
	}
	return false
}

func goStr(s *C.char) string {
	if s == nil {
		return ""
	}
	return C.GoString(s)
}

// eglErrorName names an EGL error code.
func eglErrorName(code C.EGLint) string {
	names := map[C.EGLint]string{
		C.EGL_NOT_INITIALIZED:     "EGL_NOT_INITIALIZED",
		C.EGL_BAD_ACCESS:          "EGL_BAD_ACCESS",
		C.EGL_BAD_ALLOC:           "EGL_BAD_ALLOC",
		C.EGL_BAD_ATTRIBUTE:       "EGL_BAD_ATTRIBUTE",
		C.EGL_BAD_CONFIG:          "EGL_BAD_CONFIG",
		C.EGL_BAD_CONTEXT:         "EGL_BAD_CONTEXT",
		C.EGL_BAD_DISPLAY:         "EGL_BAD_DISPLAY",
		C.EGL_BAD_MATCH:           "EGL_BAD_MATCH",
		C.EGL_BAD_PARAMETER:       "EGL_BAD_PARAMETER",
		C.EGL_BAD_SURFACE:         "EGL_BAD_SURFACE",
		C.EGL_CONTEXT_LOST:        "EGL_CONTEXT_LOST",
		C.EGL_BAD_CURRENT_SURFACE: "EGL_BAD_CURRENT_SURFACE",
	}
	if n, ok := names[code]; ok {
		return n
	}
	return fmt.Sprintf("EGL error %#x", int(code))
}

// errOldGL is wrapped by context errors when the driver offers only an
// OpenGL older than 4.3.
var errOldGL = errors.New("OpenGL 4.3 is not available")

// eglDisplayCandidate is one way to reach an EGL display.
type eglDisplayCandidate struct {
	desc string
	dpy  C.EGLDisplay
}

// openEGL creates an OpenGL 4.3 core context with EGL and makes it current
// on the calling thread. It tries, in order: the devices of
// EGL_EXT_platform_device that are not software renderers (headless GPU
// servers, e.g. NVIDIA), Mesa's surfaceless platform (a GPU's render node
// or, without one, llvmpipe), and the default display; the first that
// works wins.
func openEGL() (*eglContext, error) {
	eglMu.Lock()
	defer eglMu.Unlock()
	if msg := C.gmLoad(); msg != nil {
		return nil, fmt.Errorf("EGL: cannot load libEGL.so.1 (%s): %s", C.GoString(msg), eglPackages)
	}
	client := goStr(C.gmClientExtensions())
	var cands []eglDisplayCandidate
	if hasExt(client, "EGL_EXT_platform_device") && (hasExt(client, "EGL_EXT_device_enumeration") || hasExt(client, "EGL_EXT_device_base")) {
		n := int(C.gmQueryDeviceList())
		for i := 0; i < n; i++ {
			dev := C.gmDevice(C.int(i))
			exts := goStr(C.gmDeviceString(dev, C.EGL_EXTENSIONS))
			if hasExt(exts, "EGL_MESA_device_software") {
				continue // the surfaceless platform below reaches it too
			}
			desc := fmt.Sprintf("EGL device %d", i)
			if f := goStr(C.gmDeviceString(dev, C.EGL_DRM_DEVICE_FILE_EXT)); f != "" {
				desc += " (" + f + ")"
			}
			cands = append(cands, eglDisplayCandidate{desc: desc, dpy: C.gmPlatformDisplay(C.EGL_PLATFORM_DEVICE_EXT, dev)})
		}
	}
	if hasExt(client, "EGL_MESA_platform_surfaceless") {
		cands = append(cands, eglDisplayCandidate{desc: "EGL surfaceless (Mesa)", dpy: C.gmPlatformDisplay(C.EGL_PLATFORM_SURFACELESS_MESA, nil)})
	}
	cands = append(cands, eglDisplayCandidate{desc: "EGL default display", dpy: C.gmDefaultDisplay()})

	var fails []string
	var oldGL error
	var oldDesc string
	for _, c := range cands {
		if c.dpy == 0 {
			fails = append(fails, c.desc+": no display")
			continue
		}
		ctx, err := eglTry(c)
		if err == nil {
			return ctx, nil
		}
		if errors.Is(err, errOldGL) && oldGL == nil {
			oldGL, oldDesc = err, c.desc
		}
		fails = append(fails, c.desc+": "+err.Error())
	}
	if oldGL != nil {
		return nil, fmt.Errorf("EGL: %s: %w", oldDesc, oldGL)
	}
	return nil, fmt.Errorf("EGL: no OpenGL 4.3 context could be created (%s): %s", strings.Join(fails, "; "), eglPackages)
}

// eglTry initialises the display of c and makes a 4.3 core context current.
func eglTry(c eglDisplayCandidate) (*eglContext, error) {
	var major, minor C.EGLint
	if code := C.gmInit(c.dpy, &major, &minor); code != C.EGL_SUCCESS {
		return nil, fmt.Errorf("eglInitialize failed (%s; is a Mesa DRI driver or a GPU driver installed?)", eglErrorName(code))
	}
	exts := goStr(C.gmDisplayString(c.dpy, C.EGL_EXTENSIONS))
	if major == 1 && minor < 5 && !hasExt(exts, "EGL_KHR_create_context") {
		return nil, fmt.Errorf("EGL %d.%d lacks EGL_KHR_create_context, needed for an OpenGL core context", major, minor)
	}
	if !hasExt(exts, "EGL_KHR_surfaceless_context") {
		return nil, fmt.Errorf("EGL display lacks EGL_KHR_surfaceless_context")
	}
	noConfig := C.int(0)
	if hasExt(exts, "EGL_KHR_no_config_context") || hasExt(exts, "EGL_MESA_configless_context") {
		noConfig = 1
	}
	var ctx C.EGLContext
	code := C.gmContext(c.dpy, 4, 3, 1, noConfig, &ctx)
	if code == C.EGL_SUCCESS {
		return &eglContext{dpy: c.dpy, ctx: ctx, desc: c.desc}, nil
	}
	// Find out which OpenGL the driver has, to say so.
	var old C.EGLContext
	if C.gmContext(c.dpy, 0, 0, 0, noConfig, &old) == C.EGL_SUCCESS {
		tmp := &eglContext{dpy: c.dpy, ctx: old, desc: c.desc}
		ver := glString(tmp, glVersion)
		ren := glString(tmp, glRenderer)
		tmp.release()
		return nil, fmt.Errorf("%w: the driver offers OpenGL %q on %q (creating a 4.3 core context: %s); update the GPU driver or Mesa, or use -backend=cpu",
			errOldGL, ver, ren, eglErrorName(code))
	}
	return nil, fmt.Errorf("eglCreateContext for OpenGL 4.3 core failed (%s)", eglErrorName(code))
}
