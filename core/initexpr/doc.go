// Package initexpr parses PymoNNto's initialisation strings: the values
// given to vector and matrix initialisers and to behaviour parameters, such
// as "10%", "uniform(0, 0.5)" or "normal(0, 1), density=10%".
//
// Parse returns a Spec: either a constant (Const, Value) or a random fill
// (an rng.Dist with Scale and Density). Unlike PymoNNto, which rewrites the
// string and evaluates it as Python, the string is read by a tokenizer and
// a recursive-descent parser: parentheses nest freely, arithmetic is
// evaluated in float64 and each value rounded once to float32, and every
// mistake is reported as a *SyntaxError with the column of the offending
// character, a caret under it and, for a misspelt name, a suggestion.
//
// # Grammar
//
// Names and keywords are case-insensitive; whitespace may appear between
// any two tokens.
//
//	Spec     = Body { "," Option } .
//	Body     = Call | Expr .
//	Call     = name [ "(" [ Arg { "," Arg } ] ")" ] .
//	Arg      = Expr | keyword "=" Expr .
//	Option   = ( "density" | "scale" ) "=" Expr .
//	Expr     = Term { ( "+" | "-" ) Term } .
//	Term     = Unary { ( "*" | "/" ) Unary } .
//	Unary    = { "+" | "-" } Postfix .
//	Postfix  = Primary [ "%" ] .
//	Primary  = number | "(" Expr ")" .
//	number   = digits [ "." { digit } ] [ exponent ] | "." digits [ exponent ] .
//	exponent = ( "e" | "E" ) [ "+" | "-" ] digits .
//	digits   = digit { digit } .
//	name     = letter { letter | digit } .   (letter includes '_')
//
// A postfix "%" divides by 100: "10%" is 0.1 and "(1+2)%" is 0.03.
// Positional arguments come before keyword arguments. Parentheses may nest
// up to 10000 deep.
//
// # Names
//
//	zeros, ones                  constant 0, 1 (no arguments)
//	constant(v), const(v)        constant v (keyword: v or value)
//	uniform(lo, hi)              U[lo, hi), lo <= hi (keywords lo|low, hi|high)
//	uniform, random, rand        U[0, 1); random and rand take no arguments
//	normal(mean, sd)             N(mean, sd), sd >= 0 (keywords mean|mu|loc, sd|std|sigma)
//	gauss, gaussian              the same as normal
//	lognormal(mean, sigma)       exp(N(mean, sigma)), sigma >= 0 (keywords mean|mu, sigma|sd)
//	bernoulli(p)                 1 with probability p in [0, 1], else 0
//
// uniform, normal and lognormal take all their parameters or none: without
// them they are U[0, 1), N(0, 1) and exp(N(0, 1)). The names nan, inf and
// infinity are rejected, as is any value outside the float32 range and
// division by zero.
//
// Every call also accepts the options density= and scale=, inside its
// parentheses or after a ',' at the top level; each may be given once.
// density (in [0, 1]) is the probability that an element is kept (the
// others are 0) and scale multiplies every element. Note that scale= is
// not numpy's standard deviation: "normal(0, scale=2)" is an error (sd is
// missing).
//
// A number, an expression, zeros, ones or constant(v) without a density
// gives a Const Spec, with any scale multiplied into Value. With a density
// it gives a Dist of kind rng.Const with that Density.
//
// # Examples
//
//	"0.5", "-65", "3*(1+2)"         Const 0.5, -65, 9
//	"10%"                            Const 0.1
//	"ones, scale=0.5"                Const 0.5
//	"uniform"                        rng.UniformDist(0, 1)
//	"uniform(-(1+1), (2*(3)))"       rng.UniformDist(-2, 6)
//	"uniform(0, 1, density=0.1, scale=2)"
//	                                 U[0, 1) with Density 0.1, Scale 2
//	"normal(0, 1), density=10%"      N(0, 1) with Density 0.1
//	"Gauss(mean=1, sd=0.1)"          rng.NormalDist(1, 0.1)
//	"bernoulli(p=5%)"                rng.BernoulliDist(0.05)
//	"zeros, density=0.5"             Dist{Kind: rng.Const, A: 0, Scale: 1, Density: 0.5}
//
// Spec.String gives a canonical form that parses back to the same Spec:
// "uniform(0, 1), density=0.1, scale=2".
package initexpr
