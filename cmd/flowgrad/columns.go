package main

import (
	"maps"
	"math"
	"slices"

	"github.com/flowgrad/flowgrad/data"
)

// Facts about a numeric column that train's notes and describe share.

// maxCodes is the most distinct whole numbers a numeric column may hold
// for the notes to call them codes or labels.
const maxCodes = 10

// isWhole reports whether v is a whole number (not NaN).
func isWhole(v float32) bool { return v == float32(math.Trunc(float64(v))) }

// wholeValues returns the distinct values of a numeric column, sorted, if
// they are all whole numbers and at most maxCodes of them (blanks aside);
// nil otherwise.
func wholeValues(c *data.Column, rows int) []float32 {
	seen := map[float32]bool{}
	for i := range rows {
		v := c.Float(i)
		switch {
		case v != v: // blank
		case !isWhole(v):
			return nil
		default:
			if seen[v] = true; len(seen) > maxCodes {
				return nil
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// risesByRow reports whether a numeric column of at least manyCategories
// rows holds whole numbers that rise with every row, none blank: a row
// number or an identifier.
func risesByRow(c *data.Column, rows int) bool {
	if rows < manyCategories {
		return false
	}
	for i := range rows {
		v := c.Float(i)
		if !isWhole(v) || i > 0 && !(v > c.Float(i-1)) { // NaN (blank) fails both
			return false
		}
	}
	return true
}
