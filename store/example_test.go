package store_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gomonnto/gomonnto/store"
)

// A results folder: Create makes parent/<name>-<UTC time>-<random> with a
// manifest, SaveArray writes .npy files (np.load opens them) and lists
// them with their SHA-256, Finish records the status and results; Open
// and ReadArray read them back, checking the checksums.
func ExampleCreate() {
	parent, _ := os.MkdirTemp("", "results")
	defer os.RemoveAll(parent)

	run, err := store.Create(parent, "demo", store.RunOptions{Params: map[string]any{"N": 3}, Seed: 7, Command: []string{"demo"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	run.SaveArray("v", []float32{-65, -64.5, -70, 1, 2, 3}, []int{2, 3})
	run.SaveArray("spikes/E.fired", []int32{10, 0, 12, 2}, []int{2, 2}) // (iteration, index) pairs
	run.Finish(store.StatusDone, map[string]any{"rate": 12.5}, nil)

	r, err := store.Open(run.Dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	v, shape, err := store.ReadArray[float32](r, "v")
	if err != nil {
		fmt.Println(err)
		return
	}
	m := r.Manifest()
	fmt.Println(strings.HasPrefix(filepath.Base(r.Dir), "demo-"), m.Status, m.Seed, m.Params, m.Results)
	fmt.Println(r.Names())
	fmt.Println(shape, v)
	sp, shape, _ := store.ReadArray[int32](r, "spikes/E.fired")
	fmt.Println(shape, sp)
	_, _, err = store.ReadArray[float32](r, "w")
	fmt.Println(strings.ReplaceAll(err.Error(), r.Dir, "<run>"))
	// Output:
	// true done 7 map[N:3] map[rate:12.5]
	// [v spikes/E.fired]
	// [2 3] [-65 -64.5 -70 1 2 3]
	// [2 2] [10 0 12 2]
	// store: <run> holds no array "w"; it has v, spikes/E.fired
}
