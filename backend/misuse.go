package backend

import (
	"errors"
	"fmt"
)

// Misuse is the value GoMoNNto's packages panic with when a program
// misuses them in a way it can avoid (shapes that do not fit, a released
// tensor, an operation called twice in a step). Recover it with Maybe, or
// match it with errors.As on a recovered value; device failures are not
// misuse and come back as errors.
type Misuse struct {
	Pkg string // "backend", "cpu", "gl", "core"
	Op  string // the operation: "MatVec", "PropagateDelayed"
	Msg string // what is wrong and how to fix it
}

func (e *Misuse) Error() string {
	if e.Op == "" {
		return e.Pkg + ": " + e.Msg
	}
	return e.Pkg + ": " + e.Op + ": " + e.Msg
}

// Misusef makes a Misuse of package pkg and operation op.
func Misusef(pkg, op, format string, a ...any) *Misuse {
	return &Misuse{Pkg: pkg, Op: op, Msg: fmt.Sprintf(format, a...)}
}

// Maybe runs f and returns the Misuse it panicked with, if any (as
// gonum's mat.Maybe); any other panic goes on.
func Maybe(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok {
				var m *Misuse
				if errors.As(e, &m) {
					err = m
					return
				}
			}
			panic(r)
		}
	}()
	f()
	return nil
}
