package store

// SetKillHook makes writeAtomic call f at every stage of a write (see
// killHook) and returns a function that restores the hook before. Tests
// set the hook only through it.
func SetKillHook(f func(stage string, written int64)) (restore func()) {
	old := killHook
	killHook = f
	return func() { killHook = old }
}
