//go:build !amd64 || purego

package expr

// fastLoops: no vector loops on this architecture; goLoops run.
func fastLoops() map[string]loopFunc { return nil }
