// Command fakeobj is a test objective for package sweep: it prints a JSON
// result of -x, or fails as -mode says.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"
)

func main() {
	x := flag.Float64("x", 0, "the parameter")
	seed := flag.Uint64("seed", 0, "the seed")
	mode := flag.Int("mode", 0, "0: ok, 1: prints no JSON, 2: fails (exit 1), 3: fails at attempt 1 (exit 3), 4: sleeps a minute")
	attempt := flag.Int("attempt", 1, "the attempt")
	flag.Parse()
	switch *mode {
	case 2:
		fmt.Fprintln(os.Stderr, "error: the model diverged at step 17")
		os.Exit(1)
	case 1:
		fmt.Println("rate: 5 Hz")
		return
	case 4:
		time.Sleep(time.Minute)
	case 3:
		if *attempt == 1 {
			fmt.Fprintln(os.Stderr, "error: transient failure")
			os.Exit(3)
		}
	}
	fmt.Fprintln(os.Stderr, "fakeobj: running")
	fmt.Printf("{\"score\": %v, \"seed\": %d, \"backend\": \"fake\", \"device\": \"none\", \"tags\": [\"a\"]}\n", (*x-2)*(*x-2), *seed)
}
