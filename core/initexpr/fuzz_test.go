package initexpr_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gomonnto/gomonnto/backend/rng"
	"github.com/gomonnto/gomonnto/core/initexpr"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"10%",
		"3*(1+2)",
		"-.5e-3",
		"uniform",
		"uniform(-(1+1), (2*(3)))",
		"uniform(0, 1, density=0.1, scale=2)",
		"normal(0,1), density=10%",
		"gauss(mean=1, sd=0.1)",
		"lognormal(0, 0.5), scale=2",
		"bernoulli(p=5%)",
		"ones, scale=0.5",
		"zeros, density=0.5",
		"constant(-65)",
		"unifrom(1, 0",
		"(((1)))%",
		"3.4028235e+38", // MaxFloat32 prints as a decimal just above it
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		s, err := initexpr.Parse(src)
		if err != nil {
			var se *initexpr.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q): error %T is not a *SyntaxError", src, err)
			}
			if n := utf8.RuneCountInString(src); se.Col < 1 || se.Col > n+1 {
				t.Fatalf("Parse(%q): column %d outside [1, %d]", src, se.Col, n+1)
			}
			if se.Msg == "" || !strings.HasSuffix(se.Error(), "^") {
				t.Fatalf("Parse(%q): malformed error %q", src, se.Error())
			}
			return
		}
		if s.Source != src {
			t.Fatalf("Parse(%q).Source = %q", src, s.Source)
		}
		if err := s.Dist.Validate(); err != nil {
			t.Fatalf("Parse(%q) = %+v: %v", src, s, err)
		}
		for _, v := range []float32{s.Value, s.Dist.A, s.Dist.B, s.Dist.Scale, s.Dist.Density} {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("Parse(%q) = %+v holds a non-finite value", src, s)
			}
		}
		if s.Const && !same(initexpr.Spec{Const: true, Value: s.Value, Dist: rng.ConstDist(s.Value)}, s) {
			t.Fatalf("Parse(%q) = %+v: a Const Spec's Dist is not ConstDist(Value)", src, s)
		}
		canon := s.String()
		back, err := initexpr.Parse(canon)
		if err != nil {
			t.Fatalf("Parse(%q).String() = %q does not parse: %v", src, canon, err)
		}
		if !same(back, s) {
			t.Fatalf("Parse(%q) = %+v, but its String %q parses to %+v", src, s, canon, back)
		}
	})
}
