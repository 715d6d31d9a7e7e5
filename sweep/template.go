package sweep

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// A command template is split into words as a POSIX shell would (blanks
// separate words; '...' and "..." quote; \ escapes), but no shell runs
// it. Placeholders in braces are replaced in each word:
//
//	{<param>}  the point's value of a parameter (Go's shortest form)
//	{seed}     the point's seed
//	{id}       the point's ID
//	{dir}      the point's folder
//	{ckpt}     the point's checkpoint folder
//	{steps}    objective.steps, less the iteration of the checkpoint resumed from
//	{threads}  the point's threads
//	{attempt}  the attempt (1, 2, ...)
//	{<var>}    objective.vars (for example {bin})
//
// and two stand for whole words: {flags} is "-<param> <value>" for every
// parameter, and {resume} is "-resume <ckpt>" when the point has a
// checkpoint (and nothing otherwise). {{ and }} are literal braces.

// template is a parsed command template: words of literal and
// placeholder parts.
type template struct {
	words [][]part
	names map[string]bool // the placeholders used
}

type part struct {
	lit  string
	name string // a placeholder if not empty
}

var builtins = []string{"seed", "id", "dir", "ckpt", "steps", "threads", "attempt", "flags", "resume"}

// splitWords splits s as a shell splits a command line (without
// expansions).
func splitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	in := false // a word is being read
	for k := 0; k < len(s); k++ {
		c := s[k]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		case c == '\\':
			if k+1 == len(s) {
				return nil, errors.New("the template ends with a lone \\")
			}
			k++
			cur.WriteByte(s[k])
			in = true
		case c == '\'' || c == '"':
			end := strings.IndexByte(s[k+1:], c)
			if end < 0 {
				return nil, fmt.Errorf("unclosed %c quote at column %d", c, k+1)
			}
			cur.WriteString(s[k+1 : k+1+end])
			k += end + 1
			in = true
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words, nil
}

// template parses the spec's command template and checks that every
// placeholder is known and every parameter is used.
func (s *Spec) template() (*template, error) {
	words, err := splitWords(s.Objective.Command)
	if err != nil {
		return nil, fmt.Errorf("objective.command: %w", err)
	}
	if len(words) == 0 {
		return nil, errors.New("objective.command is blank")
	}
	known := map[string]bool{}
	for _, b := range builtins {
		known[b] = true
	}
	for v := range s.Objective.Vars {
		if slices.Contains(builtins, v) || s.param(v) != nil {
			return nil, fmt.Errorf("objective.vars %q: the name is a placeholder already (a parameter or one of %s)", v, strings.Join(builtins, ", "))
		}
		known[v] = true
	}
	for _, p := range s.Params {
		known[p.Name] = true
	}
	t := &template{names: map[string]bool{}}
	for _, w := range words {
		var parts []part
		for len(w) > 0 {
			switch {
			case strings.HasPrefix(w, "{{"):
				parts = append(parts, part{lit: "{"})
				w = w[2:]
			case strings.HasPrefix(w, "}}"):
				parts = append(parts, part{lit: "}"})
				w = w[2:]
			case w[0] == '{':
				end := strings.IndexByte(w, '}')
				if end < 0 {
					return nil, fmt.Errorf("objective.command: unclosed { in %q", w)
				}
				name := w[1:end]
				if !known[name] {
					k := make([]string, 0, len(known))
					for n := range known {
						k = append(k, n)
					}
					sort.Strings(k)
					return nil, fmt.Errorf("objective.command: unknown placeholder {%s}; the placeholders are {%s} (add %q to params or objective.vars)", name, strings.Join(k, "}, {"), name)
				}
				parts = append(parts, part{name: name})
				t.names[name] = true
				w = w[end+1:]
			default:
				end := strings.IndexAny(w, "{}")
				if end < 0 {
					end = len(w)
				} else if end == 0 { // a lone }
					end = 1
				}
				parts = append(parts, part{lit: w[:end]})
				w = w[end:]
			}
		}
		for _, p := range parts {
			if (p.name == "flags" || p.name == "resume") && len(parts) > 1 {
				return nil, fmt.Errorf("objective.command: {%s} stands for whole words; give it as a word of its own", p.name)
			}
		}
		t.words = append(t.words, parts)
	}
	if !t.names["flags"] {
		for _, p := range s.Params {
			if !t.names[p.Name] {
				return nil, fmt.Errorf("objective.command: parameter %q is not in the command; add -%s {%s} (or {flags})", p.Name, p.Name, p.Name)
			}
		}
	}
	if t.names["resume"] || t.names["steps"] {
		if s.Objective.Steps <= 0 {
			return nil, errors.New("objective.command uses {resume} or {steps}: give objective.steps, the total steps of a point ({steps} is what is left after a resume)")
		}
	}
	if t.names["resume"] && !t.names["ckpt"] {
		return nil, errors.New("objective.command: {resume} resumes from {ckpt}; let the command write its checkpoints there (-checkpoint {ckpt})")
	}
	return t, nil
}

// expand fills the template for a point.
func (t *template) expand(s *Spec, vals map[string]string, p Point, resume bool) []string {
	var out []string
	for _, w := range t.words {
		if len(w) == 1 && w[0].name == "flags" {
			for _, q := range s.Params {
				if v, ok := p.Params[q.Name]; ok {
					out = append(out, "-"+q.Name, formatValue(v))
				}
			}
			continue
		}
		if len(w) == 1 && w[0].name == "resume" {
			if resume {
				out = append(out, "-resume", vals["ckpt"])
			}
			continue
		}
		var b strings.Builder
		for _, pt := range w {
			switch {
			case pt.name == "":
				b.WriteString(pt.lit)
			default:
				if v, ok := p.Params[pt.name]; ok {
					b.WriteString(formatValue(v))
				} else {
					b.WriteString(vals[pt.name])
				}
			}
		}
		out = append(out, b.String())
	}
	return out
}

func formatValue(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
