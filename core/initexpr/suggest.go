package initexpr

// didYouMean returns "; did you mean 'x'?" for the candidate closest to
// name in edit distance (with transpositions), or "" when none is close.
func didYouMean(name string, cands []string) string {
	best, bestD := "", 0
	for _, c := range cands {
		d := editDistance(name, c)
		limit := max(1, len(c)/3)
		if d <= limit && d < len(name) && (best == "" || d < bestD) {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return "; did you mean '" + best + "'?"
}

// editDistance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and swaps of adjacent bytes each
// cost 1.
func editDistance(a, b string) int {
	if len(a) > 64 { // names are short; a long one is never close
		return len(a)
	}
	// rows i-2, i-1 and i of the dynamic programme.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
