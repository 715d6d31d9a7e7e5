// Package expr parses fused elementwise update programs such as
//
//	v += dt*(0.04*v*v + 5*v + 140 - u + I); u += dt*a*(b*v - u)
//
// into a checked Program that a backend compiles into one kernel.
package expr

// Program is a parsed, checked update program.
type Program struct{}
