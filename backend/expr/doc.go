// Package expr compiles fused elementwise update programs such as
//
//	v += dt*(0.04*v*v + 5*v + 140 - u + I); u += dt*a*(b*v - u)
//
// into one kernel: one pass over memory on the CPU (Evaluator) and one
// GLSL compute shader on OpenGL (Program.GLSL). Backends compile a
// Program with backend.Fuser and run it with backend.Kernel.
//
// # Language
//
// A program is a list of statements separated by ';' or new lines; '#'
// starts a comment. Each statement assigns a name:
//
//	name = e     name += e     name -= e     name *= e     name /= e
//	name := e    declares an element-local temporary
//
// Statements run in order for each element, so u += ... after v += ...
// sees the updated v. A tensor keeps its value for the statements that
// follow; a temporary exists only while one element is computed.
//
// Expressions are float32: literals (1, 0.04, 1e-3, .5), names, unary -
// and !, binary + - * /, comparisons < <= > >= == != (1 or 0), && and ||
// (on truthiness, non-zero meaning true; 1 or 0), the conditional
// c ? a : b, parentheses, and the functions
//
//	exp log sqrt abs tanh sigmoid floor heaviside   one argument
//	min max pow                                     two
//	clip(x, lo, hi) where(c, a, b)                  three
//	uniform() normal()                              random, U[0,1) and N(0,1)
//
// heaviside(x) is 1 if x > 0 else 0; min(a, b) is b < a ? b : a and
// max(a, b) is a < b ? b : a (as in GLSL); clip(x, lo, hi) is
// min(max(x, lo), hi). Comparisons do not chain: write (a < b) && (b < c).
// Line breaks inside parentheses and after an operator continue the
// expression. Precedence, loosest first: ?:, ||, &&, comparisons, + -,
// * /, unary.
//
// Names resolve at compile time in an Env: Tensors are bound by position
// when the program runs, Consts are baked in as literals. Assigning to a
// constant or to an undeclared name, and reading an unknown name, are
// errors. Compile errors are *Error values that point at the line and
// column and suggest the closest known name.
//
// # Semantics
//
// Arithmetic is float32 throughout, each operation rounded, as GLSL
// computes; exp, log, sqrt, tanh, sigmoid and pow are computed in float64
// and rounded once. Constant subexpressions are folded at compile time with
// the same arithmetic. Expressions have no side effects, so both branches
// of a conditional may be evaluated.
//
// A tensor of one element that the program only reads broadcasts to every
// element. A tensor the program assigns (Program.Writes) must have every
// element; backends panic when it has one element and the kernel runs on
// more. Each tensor is read once before and written once after the
// element's statements, so a tensor must not be bound twice to one run
// when one of the bindings is assigned.
//
// Random call sites are numbered in source order (Program.NumRandom).
// Site i of element e draws the Philox4x32-10 words rng.Words(k, e) with
// k = {Seed: key.Seed, Counter: key.Counter + i}; uniform() is
// rng.Unit(w[0]) and normal() is rng.StdNormal(w). Numbers depend only on
// the key, the site and the element index, never on how elements are
// split among workers or threads, and the CPU and GPU draw the same
// words.
//
// # Backends
//
// The CPU form is a list of register instructions built at Compile time.
// Evaluator.Eval runs each instruction as a tight loop over a block of
// elements, so interpretation costs once per block and each tensor
// element is loaded and stored once; it allocates nothing. Give each
// worker goroutine its own Evaluator (Program.NewEvaluator).
//
// Program.GLSL writes a "#version 430" compute shader; its doc comment
// states the binding and uniform contract that the gl backend follows.
package expr
