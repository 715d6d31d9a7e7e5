package initexpr_test

import (
	"fmt"

	"github.com/gomonnto/gomonnto/core/initexpr"
)

func Example() {
	for _, src := range []string{
		"10%",
		"3*(1+2)",
		"ones, scale=0.5",
		"uniform(-(1+1), (2*(3)))",
		"Normal(0, 1), density=10%",
	} {
		s, err := initexpr.Parse(src)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%-28q const=%-5v %s\n", src, s.Const, s)
	}
	_, err := initexpr.Parse("unifrom(0, 1)")
	fmt.Println(err)
	// Output:
	// "10%"                        const=true  0.1
	// "3*(1+2)"                    const=true  9
	// "ones, scale=0.5"            const=true  0.5
	// "uniform(-(1+1), (2*(3)))"   const=false uniform(-2, 6)
	// "Normal(0, 1), density=10%"  const=false normal(0, 1), density=0.1
	// initexpr: column 1: unknown name 'unifrom'; did you mean 'uniform'?
	//   unifrom(0, 1)
	//   ^
}
