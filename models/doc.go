// Package models is GoMoNNto's behaviour library.
//
// The reference models of the project (M1 basic, M2 LIF, M3 Izhikevich,
// M4 Izhikevich 2003, M5 COBA, M6 simple LIF + STDP, M7 Izhikevich + trace
// STDP, M8 SORN; M9 PD14 is package models/pd14) are ordinary behaviours,
// used by the examples, the benchmarks and the cross-backend tests; each is
// built by one function that adds its groups to a network. docs/models.md
// defines them.
//
// The field's classics written as equations (package equations): HH, the
// HH chain, WangBuzsaki, HindmarshRose, BrunelHakim, Synfire, LIFNetEq,
// COBANetEq, IzhSTDPEq; and Hopfield.
//
// PymoNNto's library, with its parameter names and defaults, each checked
// against a NumPy implementation of PymoNNto's behaviour
// (bench/peers/pymonnto_lib.py, pymonnto_paper.py): InstantHomeostasis,
// TimeIntegrationHomeostasis, SynapticNormalization, ThreeTermSTDP,
// ExhaustionHomeostasis, RelativeRefractory, CreateWeights, the inputs
// TimedArray, SpikeGenerator and PoissonInput; the paper's networks
// (PaperNeuron, PaperInput, PymoNNtoBasic, PymoNNtoComplex); and the
// Structure code: GridDim, Partition, Subgroup, receptive-field masks
// (BoxReceptiveFields, CircleReceptiveFields, RemoveAutapses) and
// NOXDiffusion.
package models
