// Package models is GoMoNNto's behaviour library: the reference models of
// the project (M1 basic, M2 LIF, M3 Izhikevich, M4 Izhikevich 2003, M5 COBA,
// M6 simple LIF + STDP, M7 Izhikevich + trace STDP, M8 SORN, M9 PD14; see
// shared/reference/models.md) as ordinary behaviours, used by the examples,
// the benchmarks and the cross-backend tests. Each model is built by one
// function that adds its groups to a network.
package models
