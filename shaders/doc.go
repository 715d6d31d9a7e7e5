// Package shaders holds the GLSL 4.30 compute shaders of the gl backend,
// one .comp file per kernel, named like its twin in the cpu backend.
//
// Elementwise work has no shader here: it is compiled from backend/expr
// programs (package backend's Fill, Binary, ... and every fused kernel).
//
// Every file starts with "#version 430". The backend specialises a file
// by inserting "#define NAME VALUE" lines after that first line (for
// example reduce.comp with PASS and OP), and replaces a line
// `#include "mathd.glsl"` with that file: double-precision exp, log, cos
// and tanh, which random.comp and expr's double-precision GLSL use so that
// they round to the same float32 as the cpu backend, which computes them
// in float64; ordered.glsl is included the same way
// by the ordered scatters of propagate_sparse.comp and
// propagate_delayed.comp (ORDERED, for backend.Options.Deterministic).
//
// Conventions shared by all kernels:
//   - Tensors are std430 float arrays bound to shader storage binding
//     points; a large matrix is split into several buffers (tiles of whole
//     rows), so a kernel sees one tile and indexes it with uint.
//   - Element kernels use 256 invocations per group and a 2-D grid of
//     groups (more than 65535 groups are spread over y); the flat index is
//     (gl_WorkGroupID.y*gl_NumWorkGroups.x + gl_WorkGroupID.x)*256 +
//     gl_LocalInvocationIndex, and every invocation returns when it is
//     past n.
//   - Offsets into a bound buffer are uniforms (offDst, offA, offB), so
//     any range of a tensor can be addressed without re-binding.
//   - Results that must equal the cpu backend bit for bit are computed
//     with `precise` so that no multiply-add is fused.
package shaders

import "embed"

// FS holds every kernel (*.comp) and the shared include (*.glsl).
//
//go:embed *.comp *.glsl
var FS embed.FS
