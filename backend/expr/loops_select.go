package expr

// loops maps an operation and operand form to the block loop the CPU
// evaluator runs: the portable loop of goLoops, replaced by its AVX2 twin
// (avxLoops, amd64 only) where the processor has AVX2. Both give the same
// bits for every input.
var loops = selectLoops()

func selectLoops() map[string]loopFunc {
	m := make(map[string]loopFunc, len(goLoops))
	for k, f := range goLoops {
		m[k] = f
	}
	for k, f := range fastLoops() {
		m[k] = f
	}
	return m
}
