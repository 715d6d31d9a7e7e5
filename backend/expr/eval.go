package expr

import (
	"fmt"
	"math"

	"github.com/gomonnto/gomonnto/backend/rng"
)

// Evaluator evaluates a program on the CPU over host slices. It owns the
// scratch blocks of one worker: an Evaluator is not safe for concurrent
// use, but several Evaluators of one Program may run at once on disjoint
// element ranges.
type Evaluator struct {
	p       *Program
	slots   [][]float32 // the current block of every slot
	bcast   [][]float32 // broadcast copies of one-element tensors
	bbits   []uint32    // the value in bcast[k] (its bits) ...
	blen    []int       // ... and how many elements of bcast[k] hold it
	scratch []float32
}

// NewEvaluator returns an Evaluator with its own scratch memory.
func (p *Program) NewEvaluator() *Evaluator {
	nt := len(p.tensors)
	c := &p.cpu
	e := &Evaluator{p: p, slots: make([][]float32, c.nslots), bcast: make([][]float32, nt), bbits: make([]uint32, nt), blen: make([]int, nt)}
	nb := 0
	for k := 0; k < nt; k++ {
		if p.reads[k] && !p.writes[k] {
			nb++
		}
	}
	e.scratch = make([]float32, (c.nslots-nt+nb)*blockSize)
	buf := e.scratch
	take := func() []float32 {
		s := buf[:blockSize:blockSize]
		buf = buf[blockSize:]
		return s
	}
	for s := nt; s < c.nslots; s++ {
		e.slots[s] = take()
	}
	for _, cs := range c.consts {
		fill(e.slots[cs.slot], cs.k)
	}
	for k := 0; k < nt; k++ {
		if p.reads[k] && !p.writes[k] {
			e.bcast[k] = take()
		}
	}
	return e
}

// Eval evaluates elements [lo, hi) of the program in place with the
// Program's own Evaluator, created on first use. It is not safe for
// concurrent use; give each worker its own NewEvaluator.
func (p *Program) Eval(vars [][]float32, lo, hi int, key rng.Key) {
	if p.eval == nil {
		p.eval = p.NewEvaluator()
	}
	p.eval.Eval(vars, lo, hi, key)
}

// Eval evaluates elements [lo, hi) in place: vars[k] holds the elements of
// tensor k, indexed by element (not by lo), and after the tensors come the
// scalars, each a slice of one element. A tensor of one element that
// the program only reads is broadcast to every element. Element i draws
// its random numbers with index i, so splitting a range over workers does
// not change the result. Eval allocates nothing.
//
// The built-in name i is the element index and N the length of the
// longest tensor in vars, which is the number of elements of a kernel run
// (backend.CheckKernelArgs), whatever range [lo, hi) is evaluated.
//
// Eval panics if len(vars) differs from the number of tensors, if the
// range is invalid, or if a tensor the program uses is shorter than hi
// (and is not a broadcast read-only tensor of one element): in particular,
// assigning to a one-element tensor with hi > 1 panics. Unused tensors may
// be nil.
func (e *Evaluator) Eval(vars [][]float32, lo, hi int, key rng.Key) {
	e.EvalHook(vars, lo, hi, key, nil)
}

// A BlockHook is called after each block of elements that an Evaluator
// has evaluated, while the block is in the cache: the cpu backend gathers
// the spikes of a mask the program writes there.
type BlockHook interface {
	Block(lo, hi int)
}

// EvalHook is Eval that calls h.Block(lo, hi) after each block [lo, hi)
// (h may be nil).
func (e *Evaluator) EvalHook(vars [][]float32, lo, hi int, key rng.Key, h BlockHook) {
	p := e.p
	if len(vars) != len(p.tensors) {
		if p.nt < len(p.tensors) {
			panic(fmt.Sprintf("expr: Eval: got %d slices, the program has %d tensors %v and %d scalars %v (one-element slices, after the tensors)",
				len(vars), p.nt, p.tensors[:p.nt], len(p.tensors)-p.nt, p.tensors[p.nt:]))
		}
		panic(fmt.Sprintf("expr: Eval: got %d tensors, the program has %d (%v)", len(vars), len(p.tensors), p.tensors))
	}
	for k := p.nt; k < len(vars); k++ {
		if len(vars[k]) != 1 && p.cpu.used[k] {
			panic(fmt.Sprintf("expr: Eval: scalar %q is given as %d elements; pass it as a slice of one", p.tensors[k], len(vars[k])))
		}
	}
	if lo < 0 || hi < lo {
		panic(fmt.Sprintf("expr: Eval: invalid element range [%d, %d)", lo, hi))
	}
	if lo == hi {
		return
	}
	c := &p.cpu
	for k, used := range c.used {
		if !used {
			continue
		}
		n := len(vars[k])
		switch {
		case n >= hi:
		case n == 1 && !p.writes[k]:
			// The blocks below use at most need elements; nothing writes
			// a read-only tensor's block, so a value already there stays.
			need, bits := min(blockSize, hi-lo), math.Float32bits(vars[k][0])
			if e.blen[k] < need || e.bbits[k] != bits {
				fill(e.bcast[k][:need], vars[k][0])
				e.blen[k], e.bbits[k] = need, bits
			}
		case n == 1:
			panic(fmt.Sprintf("expr: Eval: tensor %q has one element but the program assigns it; only read-only tensors broadcast", p.tensors[k]))
		default:
			panic(fmt.Sprintf("expr: Eval: tensor %q has %d elements, range [%d, %d) needs %d", p.tensors[k], n, lo, hi, hi))
		}
	}
	longest := 0 // N: the length of the longest tensor
	for _, v := range vars {
		longest = max(longest, len(v))
	}
	count := float32(longest)
	s := e.slots
	for base := lo; base < hi; base += blockSize {
		n := min(blockSize, hi-base)
		for k, used := range c.used {
			if !used {
				continue
			}
			if v := vars[k]; len(v) >= hi {
				s[k] = v[base : base+n : base+n]
			} else {
				s[k] = e.bcast[k][:n]
			}
		}
		for i := range c.code {
			run(&c.code[i], s, n, base, count, key)
		}
		if h != nil {
			h.Block(base, base+n)
		}
	}
}

// run runs one instruction over a block of n elements starting at
// element base, of a run over count elements.
func run(in *instr, s [][]float32, n, base int, count float32, key rng.Key) {
	d := s[in.dst][:n]
	if in.fn != nil {
		var a, b, c []float32
		if in.a >= 0 {
			a = s[in.a][:n]
		}
		if in.b >= 0 {
			b = s[in.b][:n]
		}
		if in.c >= 0 {
			c = s[in.c][:n]
		}
		in.fn(d, a, b, c, in.k, in.k2)
		return
	}
	switch in.op {
	case opConst:
		fill(d, in.k)
	case opIndex:
		for i := range d {
			d[i] = float32(base + i)
		}
	case opCount:
		fill(d, count)
	case opUniform:
		k := rng.Key{Seed: key.Seed, Counter: key.Counter + in.site}
		for i := range d {
			d[i] = rng.Unit(rng.Words(k, uint64(base+i))[0])
		}
	case opNormal:
		k := rng.Key{Seed: key.Seed, Counter: key.Counter + in.site}
		for i := range d {
			d[i] = rng.StdNormal(rng.Words(k, uint64(base+i)))
		}
	default:
		panic("expr: bad instruction")
	}
}

func fill(d []float32, k float32) {
	for i := range d {
		d[i] = k
	}
}
