package initexpr

import "testing"

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"abc", "", 3},
		{"uniform", "uniform", 0},
		{"unifrom", "uniform", 1}, // one swap
		{"unform", "uniform", 1},  // one insertion
		{"kitten", "sitting", 3},
		{"ca", "abc", 3}, // optimal string alignment: no edit of a swapped pair
		{"normla", "normal", 1},
		{"lognorm", "lognormal", 2},
	} {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestDidYouMean(t *testing.T) {
	names := functionNames()
	for _, tc := range []struct{ name, want string }{
		{"unifrom", "; did you mean 'uniform'?"},
		{"gaus", "; did you mean 'gauss'?"},
		{"randn", "; did you mean 'rand'?"},
		{"norm", "; did you mean 'normal'?"},
		{"x", ""},
		{"exponential", ""},
	} {
		if got := didYouMean(tc.name, names); got != tc.want {
			t.Errorf("didYouMean(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}
