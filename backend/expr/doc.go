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
// and !, binary + - * / % and ** , comparisons < <= > >= == != (1 or 0),
// && and || (on truthiness, non-zero meaning true; 1 or 0), the
// conditional c ? a : b, parentheses, and the functions
//
//	exp log sqrt abs tanh sigmoid floor heaviside   one argument
//	exprel expm1 log1p log10 sin cos sign ceil int  one argument
//	min max pow                                     two
//	clip(x, lo, hi) where(c, a, b)                  three
//	uniform() normal()                              random, U[0,1) and N(0,1)
//
// heaviside(x) is 1 if x > 0 else 0; min(a, b) is b < a ? b : a and
// max(a, b) is a < b ? b : a (as in GLSL); clip(x, lo, hi) is
// min(max(x, lo), hi). exprel(x) is (exp(x)-1)/x, 1 at 0 (+Inf at +Inf, 0
// at -Inf), computed without the cancellation near 0; expm1(x) is
// exp(x)-1 and log1p(x) is log(1+x), accurate for small x. sign(x) is 1
// for x > 0, -1 for x < 0 and 0 otherwise (zeros of either sign, and NaN,
// as Brian2's C++ targets). ceil rounds up; int(x) truncates toward zero
// as Brian2's int() (int(-2.7) = -2) but stays a float32.
//
// x ** y is the power. As in Python and Brian2 it binds tighter than a
// unary operator on its left and is right-associative, and its exponent
// may carry a sign: -x**2 is -(x**2), x**-1 is x**(-1), 2**3**2 is
// 2**(3**2). When y is an integer with |y| <= 8, x ** y is float32
// products by repeated squaring, each rounded: x**2 = x*x, x**3 = x**2*x,
// x**4 = x**2*x**2, x**5 = x**4*x, x**6 = x**3*x**3, x**7 = x**6*x,
// x**8 = x**4*x**4, x**0 = 1 (also for NaN), and x**-k = 1/x**k. A
// constant exponent (a literal, a constant or an expression of them) is
// expanded at compile time, so x**2 costs one multiplication and x**-1
// one division; a variable one chooses at run time. Other exponents are
// pow(x, y). pow(x, k) itself stays pow: pow(3.3, 3) is the float64 power
// rounded once (35.937), 3.3**3 the float32 products (35.936996).
//
// x % y is the float modulo of Python and numpy, x - floor(x/y)*y with
// each operation rounded to float32, which has the sign of y (7 % 3 = 1,
// -7 % 3 = 2, 7 % -3 = -2); it is NaN when y is 0 or an operand is
// infinite. It is GLSL's mod(x, y) by definition; the shader computes the
// quotient in double (see Program.GLSL) so that both backends agree.
//
// Comparisons do not chain: write (a < b) && (b < c). Line breaks inside
// parentheses and after an operator continue the expression. Precedence,
// loosest first: ?:, ||, &&, comparisons, + -, * / %, unary - and !, **.
//
// # Built-in names, time and time step
//
// Two names are built in, for each element: i, the index of the element
// in the run (0, 1, ..., as a float32, exact below 2^24), and N, the
// number of elements of the run (the largest tensor length; on the CPU,
// the length of the longest slice passed to Eval). A tensor or constant of
// the Env with the same name hides them; they cannot be assigned or
// declared.
//
// A kernel has no clock: t (the time, iteration*dt) and dt are names the
// caller binds like any other. The usual binding is dt as a constant
// (Env.Consts["dt"], baked in) and t as a tensor of one element listed in
// Env.Tensors, which the program only reads, so it broadcasts to every
// element: before each run the caller writes iteration*dt into it
// (backend.Write, or the host slice given to Eval) and passes it among the
// run's arguments, and the program is not recompiled. (t may also be a
// constant of a program compiled for one run.) Reading t or dt when the
// Env binds neither is a compile error that says so.
//
// Names resolve at compile time in an Env: Tensors are bound by position
// when the program runs, Scalars are numbers given with each run (read-only,
// the same for every element), Consts are baked in as literals. Assigning to a
// constant or to an undeclared name, and reading an unknown name, are
// errors. Compile errors are *Error values that point at the line and
// column and suggest the closest known name.
//
// # Semantics
//
// Arithmetic is float32 throughout, each operation rounded, as GLSL
// computes; exp, log, sqrt, tanh, sigmoid, pow, exprel, expm1, log1p,
// log10, sin and cos are computed in float64 and rounded once. Constant
// subexpressions are folded at compile time with the same arithmetic. Expressions have no side effects, so both branches
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
// The shader computes exprel, expm1, log1p, log10, sin and cos in double
// (with its own double exp and log, and Go's sin and cos reductions and
// polynomials), and the quotient of % and the reciprocal of x**-k in
// double, so they agree with the CPU to float32 rounding: on Mesa
// llvmpipe every value of backend/opengl's TestFuseFunctions is equal, and
// x**k, %, sign, ceil, int, i and N are equal bit for bit wherever the
// driver's arithmetic is IEEE. exp, log, tanh, sigmoid, pow, / and normal()
// use the driver's float32 built-ins, which may differ in the last bits.
package expr
