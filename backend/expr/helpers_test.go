package expr

import (
	"fmt"
	"strings"
	"testing"
)

const izhikevichSrc = "v += dt*(0.04*v*v + 5*v + 140 - u + I); u += dt*a*(b*v - u)"

var izhikevichEnv = Env{Tensors: []string{"v", "u", "I"}, Consts: map[string]float32{"dt": 0.5, "a": 0.02, "b": 0.2}}

func mustCompile(tb testing.TB, src string, env Env) *Program {
	tb.Helper()
	p, err := Compile(src, env)
	if err != nil {
		tb.Fatalf("Compile(%q): %v", src, err)
	}
	return p
}

// describe lists the graph, for tests and debugging.
func (p *Program) describe() string {
	var b strings.Builder
	for id, v := range p.vals {
		if !v.live {
			continue
		}
		fmt.Fprintf(&b, "%d: %d", id, v.op)
		switch v.op {
		case opConst:
			fmt.Fprintf(&b, " %s", formatNum(v.k))
		case opInput, opUniform, opNormal:
			fmt.Fprintf(&b, " #%d", v.idx)
		default:
			for i := 0; i < v.op.arity(); i++ {
				fmt.Fprintf(&b, " %d", v.args[i])
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}
