//go:build ignore

// gen_loops writes loops.go: the block loops of the CPU evaluator, one per
// operation and operand form, unrolled by four. Run it with go generate.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"strings"
)

type loop struct {
	key  string   // table key
	name string   // function name
	expr string   // element expression in a, b, c (indexed by I), k and k2
	args string   // which of a, b, c the loop reads
	asm  []string // AVX2 body: inputs Y0=a, Y1=b, Y2=c, result Y6; nil: Go only
}

// title turns "mul.VK|add.XV" into "MulVKAddXV".
func title(key string) string {
	var b strings.Builder
	up := true
	for _, r := range key {
		switch {
		case r == '.' || r == '|':
			up = true
		case up:
			b.WriteString(strings.ToUpper(string(r)))
			up = false
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func main() {
	out := flag.String("o", "loops.go", "output file")
	asmOut := flag.String("asm", "loops_amd64", "base name of the AVX2 loops (.s and .go)")
	flag.Parse()
	var loops []loop
	add := func(key, expr string, asm ...string) {
		name := "loop" + title(key)
		var args string
		for _, v := range "abc" {
			if strings.Contains(expr, string(v)+"[I]") {
				args += string(v)
			}
		}
		loops = append(loops, loop{key, name, expr, args, asm})
	}
	unary := []struct{ name, expr string }{
		{"neg", "-a[I]"}, {"not", "b2f(a[I] == 0)"}, {"truth", "b2f(a[I] != 0)"}, {"abs", "fabs(a[I])"},
		{"exp", "fexp(a[I])"}, {"log", "flog(a[I])"}, {"sqrt", "fsqrt(a[I])"}, {"tanh", "ftanh(a[I])"},
		{"sigmoid", "fsigmoid(a[I])"}, {"floor", "ffloor(a[I])"}, {"heaviside", "b2f(a[I] > 0)"}, {"copy", "a[I]"},
		{"exprel", "fexprel(a[I])"}, {"expm1", "fexpm1(a[I])"}, {"log1p", "flog1p(a[I])"}, {"log10", "flog10(a[I])"},
		{"sin", "fsin(a[I])"}, {"cos", "fcos(a[I])"}, {"sign", "fsign(a[I])"}, {"ceil", "fceil(a[I])"},
		{"int", "ftrunc(a[I])"}, {"recip", "1 / a[I]"},
	}
	// AVX2 forms (Plan 9 operand order: sources reversed, destination
	// last). Registers: Y12 zero, Y13 ones, Y10 sign bit, Y11 abs mask.
	// Each matches the Go expression bit for bit, NaN and signed zeros
	// included (checked by TestAVXLoopsMatchGo).
	unaryAsm := map[string][]string{
		"neg":   {"VXORPS Y10, Y0, Y6"},
		"not":   {"VCMPPS $0x00, Y12, Y0, Y6", "VANDPS Y13, Y6, Y6"},
		"truth": {"VCMPPS $0x04, Y12, Y0, Y6", "VANDPS Y13, Y6, Y6"},
		"abs":   {"VANDPS Y11, Y0, Y6"},
		"sqrt":  {"VSQRTPS Y0, Y6"},
		"floor": {"VROUNDPS $0x09, Y0, Y6"},
		"ceil":  {"VROUNDPS $0x0A, Y0, Y6"},
		"int":   {"VROUNDPS $0x0B, Y0, Y6"},
		"recip": {"VDIVPS Y0, Y13, Y6"},
		"sign": {"VCMPPS $0x0E, Y12, Y0, Y4", "VANDPS Y13, Y4, Y4", "VCMPPS $0x01, Y12, Y0, Y5", "VANDPS Y13, Y5, Y5",
			"VSUBPS Y5, Y4, Y6"},
		"heaviside": {"VCMPPS $0x0E, Y12, Y0, Y6", "VANDPS Y13, Y6, Y6"},
		"copy":      {"VMOVAPS Y0, Y6"},
	}
	for _, u := range unary {
		add(u.name+".V", u.expr, unaryAsm[u.name]...)
	}
	// Binary operations: the expression with $x and $y for the operands.
	binary := []struct{ name, expr string }{
		{"add", "$x + $y"}, {"sub", "$x - $y"}, {"mul", "$x * $y"}, {"div", "$x / $y"},
		{"min", "fmin($x, $y)"}, {"max", "fmax($x, $y)"}, {"pow", "fpow($x, $y)"}, {"power", "fpower($x, $y)"},
		{"mod", "fmod($x, $y)"},
		{"lt", "b2f($x < $y)"}, {"le", "b2f($x <= $y)"}, {"gt", "b2f($x > $y)"}, {"ge", "b2f($x >= $y)"},
		{"eq", "b2f($x == $y)"}, {"ne", "b2f($x != $y)"},
		{"and", "b2f($x != 0 && $y != 0)"}, {"or", "b2f($x != 0 || $y != 0)"},
	}
	subst := func(e, x, y string) string {
		return strings.NewReplacer("$x", x, "$y", y).Replace(e)
	}
	// binaryAsm writes op(x, y) to d (registers; may use Y4 and Y5).
	cmp := func(pred string) func(x, y, d string) []string {
		return func(x, y, d string) []string {
			return []string{"VCMPPS $" + pred + ", " + y + ", " + x + ", " + d, "VANDPS Y13, " + d + ", " + d}
		}
	}
	logic := func(op string) func(x, y, d string) []string {
		return func(x, y, d string) []string {
			return []string{"VCMPPS $0x04, Y12, " + x + ", Y4", "VCMPPS $0x04, Y12, " + y + ", Y5",
				op + " Y5, Y4, " + d, "VANDPS Y13, " + d + ", " + d}
		}
	}
	arith3 := func(op string) func(x, y, d string) []string {
		return func(x, y, d string) []string { return []string{op + " " + y + ", " + x + ", " + d} }
	}
	binaryAsm := map[string]func(x, y, d string) []string{
		"add": arith3("VADDPS"), "sub": arith3("VSUBPS"), "mul": arith3("VMULPS"), "div": arith3("VDIVPS"),
		// fmin(x, y) = y < x ? y : x is MINPS(y, x); fmax likewise.
		"min": func(x, y, d string) []string { return []string{"VMINPS " + x + ", " + y + ", " + d} },
		"max": func(x, y, d string) []string { return []string{"VMAXPS " + x + ", " + y + ", " + d} },
		"lt":  cmp("0x01"), "le": cmp("0x02"), "gt": cmp("0x0E"), "ge": cmp("0x0D"),
		"eq": cmp("0x00"), "ne": cmp("0x04"),
		"and": logic("VANDPS"), "or": logic("VORPS"),
		// fmod(x, y) = x - floor(x/y)*y, each operation rounded.
		"mod": func(x, y, d string) []string {
			return []string{"VDIVPS " + y + ", " + x + ", Y4", "VROUNDPS $0x09, Y4, Y4", "VMULPS " + y + ", Y4, Y4",
				"VSUBPS Y4, " + x + ", " + d}
		},
	}
	for _, b := range binary {
		var vv, vk, kv []string
		if f := binaryAsm[b.name]; f != nil {
			vv, vk, kv = f("Y0", "Y1", "Y6"), f("Y0", "Y14", "Y6"), f("Y14", "Y0", "Y6")
		}
		add(b.name+".VV", subst(b.expr, "a[I]", "b[I]"), vv...)
		add(b.name+".VK", subst(b.expr, "a[I]", "k"), vk...)
		add(b.name+".KV", subst(b.expr, "k", "a[I]"), kv...)
	}
	add("select.VVV", "sel(a[I], b[I], c[I])", "VCMPPS $0x04, Y12, Y0, Y4", "VBLENDVPS Y4, Y1, Y2, Y6")
	add("clip.VVV", "fmin(fmax(a[I], b[I]), c[I])", "VMAXPS Y0, Y1, Y3", "VMINPS Y3, Y2, Y6")
	add("clip.VKK", "fmin(fmax(a[I], k), k2)", "VMAXPS Y0, Y14, Y3", "VMINPS Y3, Y15, Y6")
	// Fused pairs: the inner operation on a and b (or k) rounded to
	// float32, then the outer operation with c (or k2).
	arith := []struct{ name, sym string }{{"add", "+"}, {"sub", "-"}, {"mul", "*"}}
	for _, in := range arith {
		inner := map[string]string{"VV": "a[I] " + in.sym + " b[I]", "VK": "a[I] " + in.sym + " k"}
		innerAsm := map[string][]string{"VV": binaryAsm[in.name]("Y0", "Y1", "Y3"), "VK": binaryAsm[in.name]("Y0", "Y14", "Y3"),
			"KV": binaryAsm[in.name]("Y14", "Y0", "Y3")}
		forms := []string{"VV", "VK"}
		if in.name == "sub" {
			inner["KV"] = "k - a[I]"
			forms = append(forms, "KV")
		}
		for _, f := range forms {
			x := "float32(" + inner[f] + ")"
			for _, o := range arith {
				outer := map[string]string{"XV": x + " " + o.sym + " c[I]", "XK": x + " " + o.sym + " k2"}
				of := binaryAsm[o.name]
				outerAsm := map[string][]string{"XV": of("Y3", "Y2", "Y6"), "XK": of("Y3", "Y15", "Y6"),
					"VX": of("Y2", "Y3", "Y6"), "KX": of("Y15", "Y3", "Y6")}
				oforms := []string{"XV", "XK"}
				if o.name == "sub" {
					outer["VX"] = "c[I] - " + x
					outer["KX"] = "k2 - " + x
					oforms = append(oforms, "VX", "KX")
				}
				for _, of := range oforms {
					add(in.name+"."+f+"|"+o.name+"."+of, outer[of], append(append([]string(nil), innerAsm[f]...), outerAsm[of]...)...)
				}
			}
		}
	}

	var b bytes.Buffer
	b.WriteString("// Code generated by gen_loops.go; DO NOT EDIT.\n\npackage expr\n\n")
	b.WriteString("// goLoops maps an operation and operand form to its portable block loop.\n")
	b.WriteString("var goLoops = map[string]loopFunc{\n")
	for _, l := range loops {
		fmt.Fprintf(&b, "\t%q: %s,\n", l.key, l.name)
	}
	b.WriteString("}\n")
	for _, l := range loops {
		fmt.Fprintf(&b, "\n// %s computes %s.\n", l.name, strings.ReplaceAll(l.expr, "[I]", "[i]"))
		fmt.Fprintf(&b, "func %s(d, a, b, c []float32, k, k2 float32) {\n", l.name)
		b.WriteString("\tn := len(d)\n")
		for _, v := range l.args {
			fmt.Fprintf(&b, "\t%c = %c[:n]\n", v, v)
		}
		b.WriteString("\ti := 0\n\tfor ; i <= n-4; i += 4 {\n")
		for j := 0; j < 4; j++ {
			idx := "i"
			if j > 0 {
				idx = fmt.Sprintf("i+%d", j)
			}
			fmt.Fprintf(&b, "\t\td[%s] = %s\n", idx, strings.ReplaceAll(l.expr, "[I]", "["+idx+"]"))
		}
		b.WriteString("\t}\n\tfor ; i < n; i++ {\n")
		fmt.Fprintf(&b, "\t\td[i] = %s\n", strings.ReplaceAll(l.expr, "[I]", "[i]"))
		b.WriteString("\t}\n")
		b.WriteString("}\n")
	}
	src, err := format.Source(b.Bytes())
	if err != nil {
		log.Fatalf("gofmt: %v\n%s", err, b.Bytes())
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
	writeAsm(*asmOut, loops)
}

// writeAsm writes base.s, the AVX2 loops, and base.go, their declarations
// and the table that maps keys to them.
func writeAsm(base string, loops []loop) {
	var s, g bytes.Buffer
	s.WriteString("// Code generated by gen_loops.go; DO NOT EDIT.\n\n//go:build amd64 && !purego\n\n#include \"textflag.h\"\n\n")
	s.WriteString("// tailMask: eight set lanes, then eight clear; a load at\n// tailMask+32-4*r sets the first r lanes.\n")
	for i := 0; i < 16; i++ {
		v := "0xffffffff"
		if i >= 8 {
			v = "0x00000000"
		}
		fmt.Fprintf(&s, "DATA tailMask<>+%d(SB)/4, $%s\n", 4*i, v)
	}
	s.WriteString("GLOBL tailMask<>(SB), RODATA|NOPTR, $64\n")
	g.WriteString("// Code generated by gen_loops.go; DO NOT EDIT.\n\n//go:build amd64 && !purego\n\npackage expr\n\n")
	g.WriteString("// avxLoops maps keys to the AVX2 block loops of loops_amd64.s.\n")
	g.WriteString("var avxLoops = map[string]loopFunc{\n")
	for _, l := range loops {
		if l.asm != nil {
			fmt.Fprintf(&g, "\t%q: avx%s,\n", l.key, strings.TrimPrefix(l.name, "loop"))
		}
	}
	g.WriteString("}\n")
	for _, l := range loops {
		if l.asm == nil {
			continue
		}
		name := "avx" + strings.TrimPrefix(l.name, "loop")
		fmt.Fprintf(&g, "\n// %s is %s with AVX2.\n//\n//go:noescape\nfunc %s(d, a, b, c []float32, k, k2 float32)\n", name, l.name, name)
		regs := map[rune]string{'a': "SI", 'b': "DX", 'c': "R8"}
		ys := map[rune]string{'a': "Y0", 'b': "Y1", 'c': "Y2"}
		fmt.Fprintf(&s, "\n// func %s(d, a, b, c []float32, k, k2 float32)\n", name)
		fmt.Fprintf(&s, "TEXT ·%s(SB), NOSPLIT, $0-104\n", name)
		s.WriteString("\tMOVQ d_base+0(FP), DI\n\tMOVQ d_len+8(FP), BX\n")
		off := map[rune]int{'a': 24, 'b': 48, 'c': 72}
		for _, v := range l.args {
			fmt.Fprintf(&s, "\tMOVQ %c_base+%d(FP), %s\n", v, off[v], regs[v])
		}
		s.WriteString("\tVBROADCASTSS k+96(FP), Y14\n\tVBROADCASTSS k2+100(FP), Y15\n")
		s.WriteString("\tVXORPS Y12, Y12, Y12\n")
		s.WriteString("\tMOVL $0x3f800000, AX\n\tVMOVD AX, X13\n\tVPBROADCASTD X13, Y13\n")
		s.WriteString("\tMOVL $0x80000000, AX\n\tVMOVD AX, X10\n\tVPBROADCASTD X10, Y10\n")
		s.WriteString("\tMOVL $0x7fffffff, AX\n\tVMOVD AX, X11\n\tVPBROADCASTD X11, Y11\n")
		s.WriteString("\tXORQ AX, AX\n\tMOVQ BX, CX\n\tANDQ $-8, CX\n\tJZ tail\n\nloop:\n")
		for _, v := range l.args {
			fmt.Fprintf(&s, "\tVMOVUPS (%s)(AX*4), %s\n", regs[v], ys[v])
		}
		for _, in := range l.asm {
			fmt.Fprintf(&s, "\t%s\n", in)
		}
		s.WriteString("\tVMOVUPS Y6, (DI)(AX*4)\n\tADDQ $8, AX\n\tCMPQ AX, CX\n\tJB loop\n\ntail:\n")
		s.WriteString("\tCMPQ AX, BX\n\tJAE done\n\tMOVQ BX, CX\n\tSUBQ AX, CX\n\tSHLQ $2, CX\n")
		s.WriteString("\tLEAQ tailMask<>+32(SB), R9\n\tSUBQ CX, R9\n\tVMOVDQU (R9), Y7\n")
		for _, v := range l.args {
			fmt.Fprintf(&s, "\tVMASKMOVPS (%s)(AX*4), Y7, %s\n", regs[v], ys[v])
		}
		for _, in := range l.asm {
			fmt.Fprintf(&s, "\t%s\n", in)
		}
		s.WriteString("\tVMASKMOVPS Y6, Y7, (DI)(AX*4)\n\ndone:\n\tVZEROUPPER\n\tRET\n")
	}
	gsrc, err := format.Source(g.Bytes())
	if err != nil {
		log.Fatalf("gofmt: %v\n%s", err, g.Bytes())
	}
	if err := os.WriteFile(base+".go", gsrc, 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(base+".s", s.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
