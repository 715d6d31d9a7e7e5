package examples

// backends lists the backends the example tests run on.
func backends() []string { return []string{"cpu", "gl"} }
