package equations

import (
	"fmt"
	"math"
	"strings"
)

// exactStep writes the exact update of a linear system with constant
// coefficients, x' = A x + b (A made of numbers, units and constants; b
// free of the state variables but possibly of parameters, held over the
// step): x(t+dt) = E x + F b with E = exp(A dt) and F = the integral of
// exp(A s) over [0, dt], both computed in float64 at build time from the
// exponential of the block matrix [[A, I], [0, 0]] dt.
func (m *model) exactStep(w func(string, ...any), env map[string]string) error {
	n := len(m.diffs)
	A := make([][]float64, n)
	bs := make([]*node, n)
	for i, x := range m.diffs {
		A[i] = make([]float64, n)
		rest := m.subst(x.expr)
		for j, y := range m.diffs {
			a, r, why := linear(rest, y.Name)
			if why != "" {
				return &Error{Line: x.Line, Col: x.expr.pos + 1, Src: x.src, Msg: fmt.Sprintf("exact needs a linear system: %s; use exponential_euler, rk4 or euler", why)}
			}
			c, ok := m.fold(a, nil)
			if !ok {
				return &Error{Line: x.Line, Col: x.expr.pos + 1, Src: x.src, Msg: fmt.Sprintf("exact needs constant coefficients: the coefficient of %s in d%s/dt is %s; use exponential_euler, rk4 or euler", y.Name, x.Name, a)}
			}
			A[i][j], rest = c, r
		}
		bs[i] = rest
	}
	E, F := expIntegral(A, m.dt)
	for i, x := range m.diffs {
		w("_%s_b := %s", x.Name, m.gen(bs[i], env))
	}
	for i, x := range m.diffs {
		var terms []string
		for j, y := range m.diffs {
			if E[i][j] != 0 {
				terms = append(terms, fmt.Sprintf("%s*_%s_0", lit(E[i][j]), y.Name))
			}
			if F[i][j] != 0 {
				terms = append(terms, fmt.Sprintf("%s*_%s_b", lit(F[i][j]), y.Name))
			}
		}
		if len(terms) == 0 {
			terms = []string{"0"}
		}
		w("_%s_1 := %s", x.Name, strings.Join(terms, " + "))
	}
	return nil
}

// expIntegral returns exp(A dt) and the integral of exp(A s) ds over
// [0, dt], from the exponential of [[A dt, I dt], [0, 0]].
func expIntegral(A [][]float64, dt float64) (E, F [][]float64) {
	n := len(A)
	M := make([][]float64, 2*n)
	for i := range M {
		M[i] = make([]float64, 2*n)
	}
	for i := range n {
		for j := range n {
			M[i][j] = A[i][j] * dt
		}
		M[i][n+i] = dt
	}
	X := expm(M)
	E, F = make([][]float64, n), make([][]float64, n)
	for i := range n {
		E[i], F[i] = X[i][:n:n], X[i][n:]
	}
	return E, F
}

// expm is the matrix exponential by scaling and squaring with a Taylor
// series (float64; the matrices here are small and their norms modest).
func expm(M [][]float64) [][]float64 {
	n := len(M)
	norm := 0.0
	for i := range M {
		s := 0.0
		for _, v := range M[i] {
			s += math.Abs(v)
		}
		norm = math.Max(norm, s)
	}
	k := 0
	for norm > 0.5 {
		norm /= 2
		k++
	}
	scale := math.Ldexp(1, -k)
	S := make([][]float64, n)
	for i := range S {
		S[i] = make([]float64, n)
		for j := range S[i] {
			S[i][j] = M[i][j] * scale
		}
	}
	R := identity(n)
	term := identity(n)
	for p := 1; p <= 24; p++ {
		term = matmul(term, S)
		for i := range term {
			for j := range term[i] {
				term[i][j] /= float64(p)
				R[i][j] += term[i][j]
			}
		}
	}
	for range k {
		R = matmul(R, R)
	}
	return R
}

func identity(n int) [][]float64 {
	I := make([][]float64, n)
	for i := range I {
		I[i] = make([]float64, n)
		I[i][i] = 1
	}
	return I
}

func matmul(a, b [][]float64) [][]float64 {
	n := len(a)
	c := make([][]float64, n)
	for i := range c {
		c[i] = make([]float64, n)
		for k := range n {
			if a[i][k] == 0 {
				continue
			}
			for j := range n {
				c[i][j] += a[i][k] * b[k][j]
			}
		}
	}
	return c
}
