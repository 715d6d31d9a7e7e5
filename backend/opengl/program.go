package opengl

import (
	"fmt"
	"io/fs"
	"math"
	"strings"

	"github.com/go-gl/gl/v4.3-core/gl"
	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/shaders"
)

// uniform numbers the uniforms the kernels use. Every program looks up all
// of them when it is linked; a kernel without one gets location -1, which
// OpenGL ignores.
type uniform uint8

const (
	uN uniform = iota
	uOffDst
	uOffA
	uOffB
	uS
	uAlpha
	uBeta
	uLo
	uHi
	uRows
	uCols
	uRowBase
	uGroups
	uFlags
	uTarget
	uTotal // double
	uBase  // uvec2
	uSeed  // uvec2
	uCtr   // uvec2
	uCounter
	uDist
	uDistA
	uDistB
	uScale
	uDensity
	uSkip
	uWords
	uSlot
	uTileLo
	uTileHi
	uLoopLo
	uLoopHi
	uSpan
	uDests
	uChunk
	uArgsAt
	uFinish
	uGBase // a fused kernel's piece [gbase, gend) (expr.GLSLOptions.Pieces)
	uGEnd
	uSc0 // fused kernels' scalars sc0 ... sc3 (expr.MaxScalars)
	uSc1
	uSc2
	uSc3
	numUniforms
)

var uniformNames = [numUniforms]string{
	"n", "offDst", "offA", "offB", "s", "alpha", "beta", "lo", "hi", "rows", "cols", "rowBase",
	"groups", "flags", "target", "total", "base", "seed", "ctr", "counter", "dist", "distA", "distB",
	"scale", "density", "skip", "words", "slot", "tileLo", "tileHi", "loopLo", "loopHi",
	"span", "dests", "chunk", "argsAt", "finish", "gbase", "gend", "sc0", "sc1", "sc2", "sc3",
}

// program is a linked compute program with its uniform locations and the
// values last set, so that unchanged uniforms are not set again.
type program struct {
	id    uint32
	name  string // file and defines, for messages
	local int    // invocations per group along x
	loc   [numUniforms]int32
	off   []int32 // a piecewise fused kernel's off{k} locations (nil otherwise)
	val   [numUniforms][2]uint32
	set   [numUniforms]bool
}

// programs holds every kernel of the backend.
type programs struct {
	copyRange                         *program
	reduce1                           [5]*program // by ReduceOp (mean uses sum)
	reduce2                           [5]*program
	matvec, matvecT                   [2]*program // [vec4]; matvec[1] is nil on GPUs
	compact1, compact2, compactSerial *program
	propagate                         *program
	propagateT                        [2]*program // [vec4]
	outer                             *program
	normRows                          *program
	normCols                          [3]*program // by MODE
	random                            *program
	recordEvents                      *program // EventLog.Gather (record_events.comp)
	// sparse holds propagate_sparse.comp by MODE (sparse[0] and [1]
	// scatter with compare-and-swap); sparseAtomic holds MODE 0 and 1 with
	// float atomicAdd, nil where GL_NV_shader_atomic_float is missing.
	sparse       [7]*program
	sparseAtomic [2]*program
	// delayed holds propagate_delayed.comp by MODE; delayedAtomic MODE 0
	// and 1 with float atomicAdd (nil without GL_NV_shader_atomic_float).
	delayed       [3]*program
	delayedAtomic [2]*program
	// delayedVar holds the other variants of MODE 0 and 1, compiled on
	// first use (delayedProgram): [mode][delays of 0: 8 bits, 1: 16
	// bits, 2: float32][1: ATOMIC_FLOAT][1: SCAN].
	delayedVar [2][3][2][2]*program
	// With Deterministic: sparseOrdered holds propagate_sparse.comp MODE 0
	// and 1 ORDERED and MODE 7 (the end of MODE 0); delayedOrdered MODE 0
	// and 1 ORDERED by delays as in delayedVar (float32 ones compiled
	// with the others, packed ones on first use).
	sparseOrdered  [3]*program
	delayedOrdered [2][3]*program
}

// spec describes one program to build: a file of package shaders and the
// #define lines to insert.
type spec struct {
	dst     **program
	file    string
	defines []string
	local   int
}

// specs lists every program; software selects the variants that suit CPU
// renderers, det adds the ordered scatters (backend.Options.Deterministic).
func (p *programs) specs(software, det bool) []spec {
	var s []spec
	add := func(dst **program, file string, local int, defines ...string) {
		s = append(s, spec{dst, file, defines, local})
	}
	add(&p.copyRange, "copy_range.comp", 256)
	for op := range p.reduce1 {
		if backend.ReduceOp(op) == backend.Mean {
			continue
		}
		add(&p.reduce1[op], "reduce.comp", 256, "PASS 1", fmt.Sprintf("OP %d", op))
	}
	for op := range p.reduce2 {
		add(&p.reduce2[op], "reduce.comp", 256, "PASS 2", fmt.Sprintf("OP %d", op))
	}
	if software {
		add(&p.matvec[0], "matvec.comp", 64, "ROWS_PER_INVOCATION 1")
		add(&p.matvec[1], "matvec.comp", 64, "ROWS_PER_INVOCATION 1", "VEC4 1")
	} else {
		add(&p.matvec[0], "matvec.comp", 64)
	}
	add(&p.matvecT[0], "matvec_t.comp", 64)
	add(&p.matvecT[1], "matvec_t.comp", 64, "VEC4 1")
	add(&p.compact1, "compact.comp", 256, "PASS 1")
	if det { // with the gate of the ordered scatters
		add(&p.compact2, "compact.comp", 256, "PASS 2", "GATE 1")
		add(&p.compactSerial, "compact.comp", 1, "PASS 2", "SERIAL 1", "GATE 1")
	} else {
		add(&p.compact2, "compact.comp", 256, "PASS 2")
		add(&p.compactSerial, "compact.comp", 1, "PASS 2", "SERIAL 1")
	}
	add(&p.propagate, "propagate.comp", 64)
	add(&p.propagateT[0], "propagate_t.comp", 64)
	add(&p.propagateT[1], "propagate_t.comp", 64, "VEC4 1")
	add(&p.outer, "outer.comp", 64)
	if software {
		add(&p.normRows, "normalize_rows.comp", 64, "ROWS_PER_INVOCATION 1")
	} else {
		add(&p.normRows, "normalize_rows.comp", 64)
	}
	for m := range p.normCols {
		add(&p.normCols[m], "normalize_cols.comp", 64, fmt.Sprintf("MODE %d", m))
	}
	add(&p.random, "random.comp", 256)
	add(&p.recordEvents, "record_events.comp", 256)
	for m := range p.sparse {
		add(&p.sparse[m], "propagate_sparse.comp", 64, fmt.Sprintf("MODE %d", m))
	}
	if hasExtension("GL_NV_shader_atomic_float") {
		for m := range p.sparseAtomic {
			add(&p.sparseAtomic[m], "propagate_sparse.comp", 64, fmt.Sprintf("MODE %d", m), "ATOMIC_FLOAT 1")
		}
	}
	for m := range p.delayed {
		add(&p.delayed[m], "propagate_delayed.comp", 64, fmt.Sprintf("MODE %d", m))
	}
	if hasExtension("GL_NV_shader_atomic_float") {
		for m := range p.delayedAtomic {
			add(&p.delayedAtomic[m], "propagate_delayed.comp", 64, fmt.Sprintf("MODE %d", m), "ATOMIC_FLOAT 1")
		}
	}
	if det {
		lanes := orderedLanes(software)
		for m := range 2 {
			mode, l := fmt.Sprintf("MODE %d", m), fmt.Sprintf("LANES %d", lanes)
			add(&p.sparseOrdered[m], "propagate_sparse.comp", lanes, mode, "ORDERED 1", l)
			add(&p.delayedOrdered[m][2], "propagate_delayed.comp", lanes, mode, "ORDERED 1", l)
		}
		add(&p.sparseOrdered[2], "propagate_sparse.comp", 64, "MODE 7")
	}
	return s
}

// source assembles the text of a kernel: the file with the defines
// inserted after its #version line and `#include "x"` lines replaced by
// file x.
func source(file string, defines []string) (string, error) {
	text, err := fs.ReadFile(shaders.FS, file)
	if err != nil {
		return "", fmt.Errorf("shader %s is missing from package shaders: %v", file, err)
	}
	lines := strings.Split(string(text), "\n")
	if len(lines) == 0 || !strings.HasPrefix(strings.TrimSpace(lines[0]), "#version") {
		return "", fmt.Errorf("shader %s does not start with a #version line", file)
	}
	var b strings.Builder
	b.WriteString(lines[0])
	b.WriteByte('\n')
	for _, d := range defines {
		b.WriteString("#define ")
		b.WriteString(d)
		b.WriteByte('\n')
	}
	for _, l := range lines[1:] {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "#include") {
			name := strings.Trim(strings.TrimSpace(strings.TrimPrefix(t, "#include")), `"<>`)
			inc, err := fs.ReadFile(shaders.FS, name)
			if err != nil {
				return "", fmt.Errorf("shader %s includes %q, which is missing from package shaders: %v", file, name, err)
			}
			b.Write(inc)
			if len(inc) > 0 && inc[len(inc)-1] != '\n' {
				b.WriteByte('\n')
			}
			continue
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// numbered returns src with line numbers, for error messages.
func numbered(src string) string {
	var b strings.Builder
	for i, l := range strings.Split(strings.TrimRight(src, "\n"), "\n") {
		fmt.Fprintf(&b, "%4d  %s\n", i+1, l)
	}
	return b.String()
}

// shaderLog returns the info log of a shader or program object.
func infoLog(id uint32, isProgram bool) string {
	var n int32
	if isProgram {
		gl.GetProgramiv(id, gl.INFO_LOG_LENGTH, &n)
	} else {
		gl.GetShaderiv(id, gl.INFO_LOG_LENGTH, &n)
	}
	if n <= 1 {
		return ""
	}
	buf := make([]byte, n)
	if isProgram {
		gl.GetProgramInfoLog(id, n, nil, &buf[0])
	} else {
		gl.GetShaderInfoLog(id, n, nil, &buf[0])
	}
	return strings.TrimRight(string(buf[:n-1]), "\x00\n")
}

// compileProgram compiles and links one compute program. name is used in
// messages; a failure names the shader, and gives the driver's log and the
// numbered source.
func compileProgram(name, src string, local int) (*program, error) {
	sh := gl.CreateShader(gl.COMPUTE_SHADER)
	if sh == 0 {
		return nil, fmt.Errorf("compiling shader %s: glCreateShader failed (GL error %s)", name, glErrorName(gl.GetError()))
	}
	csrc, free := gl.Strs(src + "\x00")
	n := int32(len(src))
	gl.ShaderSource(sh, 1, csrc, &n)
	free()
	gl.CompileShader(sh)
	var ok int32
	gl.GetShaderiv(sh, gl.COMPILE_STATUS, &ok)
	if ok == 0 {
		log := infoLog(sh, false)
		gl.DeleteShader(sh)
		return nil, fmt.Errorf("compiling shader %s failed:\n%s\nsource of %s:\n%s", name, log, name, numbered(src))
	}
	id := gl.CreateProgram()
	gl.AttachShader(id, sh)
	gl.LinkProgram(id)
	gl.DetachShader(id, sh)
	gl.DeleteShader(sh)
	gl.GetProgramiv(id, gl.LINK_STATUS, &ok)
	if ok == 0 {
		log := infoLog(id, true)
		gl.DeleteProgram(id)
		return nil, fmt.Errorf("linking shader %s failed:\n%s\nsource of %s:\n%s", name, log, name, numbered(src))
	}
	p := &program{id: id, name: name, local: local}
	for u := range p.loc {
		p.loc[u] = gl.GetUniformLocation(id, gl.Str(uniformNames[u]+"\x00"))
	}
	return p, nil
}

// specName names a program in messages: "reduce.comp (PASS 1, OP 0)".
func specName(file string, defines []string) string {
	if len(defines) == 0 {
		return file
	}
	return file + " (" + strings.Join(defines, ", ") + ")"
}

// ---- uniform setters (GL thread) ----

func (x *executor) setU(p *program, u uniform, v uint32) {
	if p.loc[u] < 0 {
		return
	}
	if p.set[u] && p.val[u][0] == v {
		return
	}
	p.set[u], p.val[u][0] = true, v
	gl.ProgramUniform1ui(p.id, p.loc[u], v)
}

func (x *executor) setF(p *program, u uniform, v float32) {
	if p.loc[u] < 0 {
		return
	}
	bits := math.Float32bits(v)
	if p.set[u] && p.val[u][0] == bits {
		return
	}
	p.set[u], p.val[u][0] = true, bits
	gl.ProgramUniform1f(p.id, p.loc[u], v)
}

func (x *executor) setD(p *program, u uniform, v float64) {
	if p.loc[u] < 0 {
		return
	}
	bits := math.Float64bits(v)
	lo, hi := uint32(bits), uint32(bits>>32)
	if p.set[u] && p.val[u][0] == lo && p.val[u][1] == hi {
		return
	}
	p.set[u], p.val[u][0], p.val[u][1] = true, lo, hi
	gl.ProgramUniform1d(p.id, p.loc[u], v)
}

func (x *executor) setU2(p *program, u uniform, v uint64) {
	if p.loc[u] < 0 {
		return
	}
	lo, hi := uint32(v), uint32(v>>32)
	if p.set[u] && p.val[u][0] == lo && p.val[u][1] == hi {
		return
	}
	p.set[u], p.val[u][0], p.val[u][1] = true, lo, hi
	gl.ProgramUniform2ui(p.id, p.loc[u], lo, hi)
}
