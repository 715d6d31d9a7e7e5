package opengl

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/go-gl/gl/v4.3-core/gl"
	"github.com/gomonnto/gomonnto/backend"
)

// glBindBufferBadTarget raises GL_INVALID_ENUM on the calling GL thread.
func glBindBufferBadTarget() { gl.BindBuffer(0x1234, 0) }

// expectMsg fails unless err is non-nil and contains every part.
func expectMsg(t *testing.T, what string, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want one mentioning %q", what, parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %q does not mention %q", what, err, p)
		}
	}
}

func TestGLFWWithoutDisplay(t *testing.T) {
	t.Setenv("DISPLAY", "")
	_, err := New(backend.Options{Context: "glfw"})
	expectMsg(t, "New(glfw) without DISPLAY", err, "DISPLAY", "Xvfb", `"egl"`, "-backend=cpu")
}

func TestUnknownContext(t *testing.T) {
	_, err := New(backend.Options{Context: "vulkan"})
	expectMsg(t, "New(vulkan)", err, `"vulkan"`, `"auto"`, `"egl"`, `"glfw"`)
}

// TestOldOpenGL runs a child test process in which Mesa offers only
// OpenGL 3.3 (MESA_GL_VERSION_OVERRIDE) and checks the error it reports.
func TestOldOpenGL(t *testing.T) {
	if os.Getenv("GOMONNTO_GL_CHILD") == "old" {
		_, err := New(backend.Options{Context: "egl"})
		if err == nil {
			t.Fatal("New succeeded with OpenGL 3.3")
		}
		t.Logf("New: %v", err)
		t.Log("CHILD-ERROR: " + err.Error())
		return
	}
	if !openOrSkip(t).Software() {
		t.Skip("MESA_GL_VERSION_OVERRIDE is a Mesa variable; this renderer is a hardware driver")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestOldOpenGL$", "-test.v")
	cmd.Env = append(os.Environ(), "GOMONNTO_GL_CHILD=old", "MESA_GL_VERSION_OVERRIDE=3.3", "MESA_GLSL_VERSION_OVERRIDE=330")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child test failed: %v\n%s", err, out)
	}
	s := string(out)
	i := strings.Index(s, "CHILD-ERROR: ")
	if i < 0 {
		t.Fatalf("child printed no error:\n%s", s)
	}
	msg := s[i:]
	for _, want := range []string{"OpenGL 4.3 is not available", "3.3", "update the GPU driver or Mesa", "-backend=cpu"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error for OpenGL 3.3 does not mention %q:\n%s", want, msg)
		}
	}
}

// TestOutOfMemory checks that failed allocations name GL_OUT_OF_MEMORY
// and the requested size.
func TestOutOfMemory(t *testing.T) {
	b := openOrSkip(t)
	if b.Software() {
		// The software renderer would be killed by the kernel instead
		// of failing; NewTensor checks the available memory first.
		_, err := b.NewTensor(1<<20, 1<<18) // 1 TiB
		expectMsg(t, "NewTensor of 1 TiB", err, "GL_OUT_OF_MEMORY", "1099511627776 bytes", "1048576x262144")
	}
	oc, _ := os.ReadFile("/proc/sys/vm/overcommit_memory")
	if b.Software() && strings.TrimSpace(string(oc)) == "1" {
		t.Skip("vm.overcommit_memory=1: a 1 TiB software buffer would be granted, then kill the process when cleared")
	}
	var err error
	b.mu.Lock()
	callErr := b.callFn(func() error {
		var buf *glbuf
		buf, err = b.x.newBuffer(1 << 40)
		if buf != nil {
			b.x.deleteBuffer(buf)
		}
		return nil
	})
	b.mu.Unlock()
	if callErr != nil {
		t.Fatal(callErr)
	}
	expectMsg(t, "a 1 TiB buffer", err, "GL_OUT_OF_MEMORY", "1099511627776 bytes")
	// The backend still works afterwards.
	x, err := b.NewTensor(3, 1)
	if err != nil {
		t.Fatal(err)
	}
	backend.Fill(x, 2)
	got := make([]float32, 3)
	if err := b.Read(got, x, 0); err != nil || got[2] != 2 {
		t.Fatalf("after a failed allocation: Read = %v, %v; want [2 2 2]", got, err)
	}
}

// TestCompileError checks that a shader that does not compile is reported
// with its name, the driver's log and the numbered source.
func TestCompileError(t *testing.T) {
	b := openOrSkip(t)
	src := "#version 430\nlayout(local_size_x = 1) in;\nvoid main() {\n    undeclared = 1.0;\n}\n"
	var err error
	b.mu.Lock()
	callErr := b.callFn(func() error {
		_, err = compileProgram("broken.comp (OP 7)", src, 1)
		return nil
	})
	b.mu.Unlock()
	if callErr != nil {
		t.Fatal(callErr)
	}
	expectMsg(t, "compiling a broken shader", err, "broken.comp (OP 7)", "undeclared", "   4      undeclared = 1.0;", "   1  #version 430")
	if b.programs.Load() != int64(len(b.x.all)) {
		t.Errorf("%d live programs, %d known: the failed one leaked", b.programs.Load(), len(b.x.all))
	}
}

// TestEverySpecCompiles checks each kernel source assembles (the file
// exists, starts with #version, includes resolve) and the programs table
// is complete.
func TestEverySpecCompiles(t *testing.T) {
	b := openOrSkip(t)
	var ps programs
	for _, sw := range []bool{false, true} {
		for _, det := range []bool{false, true} {
			for _, s := range ps.specs(sw, det) {
				src, err := source(s.file, s.defines)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(src, "#version 430\n") || strings.Contains(src, "#include") {
					t.Errorf("%s: assembled source lacks #version or keeps an #include", specName(s.file, s.defines))
				}
			}
		}
	}
	// Both variants' programs compile on this driver (the other
	// renderer's set is not used here, but must build too), with the
	// ordered scatters of Deterministic.
	var err error
	b.mu.Lock()
	callErr := b.callFn(func() error {
		for _, s := range ps.specs(!b.software, true) {
			src, _ := source(s.file, s.defines)
			p, e := compileProgram(specName(s.file, s.defines), src, s.local)
			if e != nil {
				err = e
				return nil
			}
			*s.dst = p
			x := b.x
			x.all = append(x.all, p)
			b.programs.Add(1)
			x.deleteProgram(p)
		}
		return nil
	})
	b.mu.Unlock()
	if callErr != nil || err != nil {
		t.Fatal(callErr, err)
	}
}

// TestGLErrorReported checks that a GL error raised on the GL thread is
// returned by a later Flush or Sync, once.
func TestGLErrorReported(t *testing.T) {
	b := openOrSkip(t)
	x, err := b.NewTensor(4, 1)
	if err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	_ = b.callFn(func() error {
		glBindBufferBadTarget()
		return nil
	})
	b.mu.Unlock()
	backend.Fill(x, 1)
	err = b.Flush()
	if err == nil {
		err = b.Sync()
	}
	expectMsg(t, "Flush/Sync after a GL error", err, "GL_INVALID_ENUM")
	if err := b.Sync(); err != nil {
		t.Errorf("the error was reported twice: %v", err)
	}
}

func TestPreferredSoftware(t *testing.T) {
	b := openOrSkip(t)
	soft := b.Software()
	ok, why := preferred(backend.Options{Context: testContext()})
	if ok == soft {
		t.Errorf("preferred = %v (%s) for a renderer with software = %v", ok, why, soft)
	}
	if why == "" {
		t.Error("preferred gave no reason")
	}
	if soft && !strings.Contains(why, "software renderer") {
		t.Errorf("reason %q does not say the renderer is software", why)
	}
	// Cached: the same answer without a new probe.
	ok2, why2 := preferred(backend.Options{Context: testContext()})
	if ok2 != ok || why2 != why {
		t.Errorf("second answer %v %q differs from the first %v %q", ok2, why2, ok, why)
	}
}

func TestRegistered(t *testing.T) {
	openOrSkip(t)
	b, err := backend.Open("gl", backend.Options{Context: testContext()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Name() != "gl" {
		t.Errorf("Name = %q", b.Name())
	}
	dev := b.Device()
	if !strings.Contains(dev, "OpenGL") || !strings.Contains(dev, "EGL") && !strings.Contains(dev, "GLFW") {
		t.Errorf("Device %q lacks the GL version or the context kind", dev)
	}
}
