package equations

import (
	"fmt"
	"math"
	"strings"
)

// Dim is a physical dimension: twice the exponents of the SI base units
// metre, kilogram, second, ampere, kelvin, mole and candela (twice, so that
// the noise xi, of dimension second**-0.5, has one).
type Dim [7]int8

var baseNames = [7]string{"m", "kg", "s", "A", "K", "mol", "cd"}

// Dimensionless is the dimension of pure numbers.
var Dimensionless Dim

func (d Dim) mul(e Dim) Dim {
	for i := range d {
		d[i] += e[i]
	}
	return d
}

func (d Dim) div(e Dim) Dim {
	for i := range d {
		d[i] -= e[i]
	}
	return d
}

func (d Dim) pow(k int) Dim {
	for i := range d {
		d[i] *= int8(k)
	}
	return d
}

// sqrt halves the exponents; ok is false when one is odd.
func (d Dim) sqrt() (Dim, bool) {
	for i := range d {
		if d[i]%2 != 0 {
			return d, false
		}
		d[i] /= 2
	}
	return d, true
}

// String names the dimension by its usual unit where there is one ("volt",
// "amp/metre**2"), else by SI base units ("kg*m**2/(A*s**3)").
func (d Dim) String() string {
	if d == Dimensionless {
		return "1 (dimensionless)"
	}
	named := []string{"volt", "amp", "second", "siemens", "farad", "ohm", "hertz", "coulomb", "watt", "metre", "kilogram", "mole", "kelvin", "joule", "newton"}
	for _, n := range named {
		if units[n].dim == d {
			return n
		}
	}
	for _, per := range []struct {
		name string
		dim  Dim
	}{{"second", dSecond}, {"metre**2", dMetre.pow(2)}, {"metre**3", dMetre.pow(3)}} {
		for _, n := range named {
			if units[n].dim.div(per.dim) == d {
				return n + "/" + per.name
			}
		}
	}
	var num, den []string
	for i, e2 := range d {
		e := float64(e2) / 2
		switch {
		case e == 1:
			num = append(num, baseNames[i])
		case e > 0:
			num = append(num, fmt.Sprintf("%s**%g", baseNames[i], e))
		case e == -1:
			den = append(den, baseNames[i])
		case e < 0:
			den = append(den, fmt.Sprintf("%s**%g", baseNames[i], -e))
		}
	}
	s := strings.Join(num, "*")
	if s == "" {
		s = "1"
	}
	switch len(den) {
	case 0:
	case 1:
		s += "/" + den[0]
	default:
		s += "/(" + strings.Join(den, "*") + ")"
	}
	return s
}

// unit is a named unit: its dimension and its size in SI units.
type unit struct {
	dim   Dim
	scale float64
}

var (
	dMetre   = Dim{2, 0, 0, 0, 0, 0, 0}
	dKilo    = Dim{0, 2, 0, 0, 0, 0, 0}
	dSecond  = Dim{0, 0, 2, 0, 0, 0, 0}
	dAmp     = Dim{0, 0, 0, 2, 0, 0, 0}
	dKelvin  = Dim{0, 0, 0, 0, 2, 0, 0}
	dMole    = Dim{0, 0, 0, 0, 0, 2, 0}
	dCandela = Dim{0, 0, 0, 0, 0, 0, 2}
	dVolt    = dKilo.mul(dMetre.pow(2)).div(dSecond.pow(3)).div(dAmp)
	dSiemens = dAmp.div(dVolt)
	dFarad   = dAmp.mul(dSecond).div(dVolt)
)

// units holds Brian2's unit names: the base and derived SI units, their
// prefixed forms (mV, nS, uF, pA, ms, cm, ...) and squared and cubed
// lengths (cm2, um3).
var units = map[string]unit{}

func init() {
	named := map[string]Dim{
		"metre": dMetre, "meter": dMetre, "kilogram": dKilo, "gram": dKilo, "second": dSecond, "amp": dAmp, "ampere": dAmp,
		"kelvin": dKelvin, "mole": dMole, "candela": dCandela, "volt": dVolt, "siemens": dSiemens, "farad": dFarad,
		"ohm": dVolt.div(dAmp), "hertz": Dimensionless.div(dSecond), "coulomb": dAmp.mul(dSecond),
		"watt": dVolt.mul(dAmp), "joule": dVolt.mul(dAmp).mul(dSecond), "newton": dKilo.mul(dMetre).div(dSecond.pow(2)),
		"molar": dMole.div(dMetre.pow(3)), "liter": dMetre.pow(3), "litre": dMetre.pow(3),
	}
	short := map[string]string{"m": "metre", "g": "gram", "s": "second", "A": "amp", "K": "kelvin", "mol": "mole", "cd": "candela",
		"V": "volt", "S": "siemens", "F": "farad", "Hz": "hertz", "C": "coulomb", "W": "watt", "J": "joule", "N": "newton", "M": "molar", "l": "liter", "L": "liter"}
	scaleOf := func(name string) float64 {
		switch name {
		case "gram":
			return 1e-3
		case "molar":
			return 1e3 // mol/l in mol/m**3
		case "liter", "litre":
			return 1e-3
		}
		return 1
	}
	prefixes := map[string]float64{"y": 1e-24, "z": 1e-21, "a": 1e-18, "f": 1e-15, "p": 1e-12, "n": 1e-9, "u": 1e-6, "m": 1e-3, "c": 1e-2, "d": 1e-1,
		"da": 1e1, "h": 1e2, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}
	for n, d := range named {
		units[n] = unit{d, scaleOf(n)}
		if n == "kilogram" {
			continue
		}
		for p, f := range prefixes { // Brian2's mvolt, msiemens, ufarad, kohm
			units[p+n] = unit{d, f * scaleOf(n)}
		}
	}
	for s, n := range short {
		u := units[n]
		if s == "N" || s == "l" || s == "L" || s == "C" || s == "M" || s == "W" || s == "J" {
			// Short names that Brian2 does not define bare (N is the
			// group size, M the molar prefix clash, ...): prefixed only.
		} else {
			units[s] = u
		}
		for p, f := range prefixes {
			if p == "da" || p == "h" || p == "d" && s != "l" && s != "L" {
				continue
			}
			units[p+s] = unit{u.dim, f * u.scale}
		}
	}
	// Brian2's squared and cubed lengths: metre2, cm2, um3, ...
	for _, p := range []string{"", "k", "c", "m", "u", "n", "p"} {
		f := 1.0
		if p != "" {
			f = prefixes[p]
		}
		for k := 2; k <= 3; k++ {
			d := dMetre.pow(k)
			sc := math.Pow(f, float64(k))
			units[fmt.Sprintf("%sm%d", p, k)] = unit{d, sc}
			units[fmt.Sprintf("%smetre%d", p, k)] = unit{d, sc}
			units[fmt.Sprintf("%smeter%d", p, k)] = unit{d, sc}
		}
	}
	units["kg"] = unit{dKilo, 1}
	units["1"] = unit{Dimensionless, 1}
	units["radian"] = unit{Dimensionless, 1}
}

// lookupUnit returns the unit called name ("mV", "msiemens", "cm2"); µ
// is accepted for u.
func lookupUnit(name string) (unit, bool) {
	name = strings.ReplaceAll(name, "µ", "u")
	u, ok := units[name]
	return u, ok
}
