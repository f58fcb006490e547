package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Split divides the rows of t at random into a training table and a
// validation table holding about valFraction of them, before anything is
// fitted (so that [Fit] sees the training rows only). For classification
// (the task opt resolves to, as for Fit) the split is stratified: each
// class gives round(valFraction·its rows) to validation (but keeps at
// least one for training), so both parts keep the class proportions.
// Unless opt groups rare categories ([FitOptions.MinCategoryRows]), a
// validation row with a category (in any categorical column not ignored)
// that no training row has moves to training, since the preprocessing,
// fitted on the training rows, could not encode it (a missing value is no
// category and stays). The parts are views of t ([Table.Subset]), sharing
// its values. Both parts keep the
// file order of their rows. The split is a function of t, opt and rng's
// state.
//
// Split returns an error if valFraction is not in (0, 1), if either part
// would be empty, for a target or ignored column that does not exist, or
// for a missing target value.
func Split(t *Table, opt FitOptions, valFraction float64, rng *rand.Rand) (train, val *Table, err error) {
	if !(valFraction > 0 && valFraction < 1) {
		return nil, nil, fmt.Errorf("data: Split: validation fraction %v (want 0 < fraction < 1)", valFraction)
	}
	target, kind, err := opt.resolve(t)
	if err != nil {
		return nil, nil, err
	}
	if err := checkTarget(t, target); err != nil {
		return nil, nil, err
	}
	var groups [][]int // row indices per stratum
	if kind == Classification {
		byClass := make(map[string][]int)
		for i := range t.Len() {
			k := target.Value(i)
			byClass[k] = append(byClass[k], i)
		}
		for _, k := range sortedKeys(byClass) {
			groups = append(groups, byClass[k])
		}
	} else {
		all := make([]int, t.Len())
		for i := range all {
			all[i] = i
		}
		groups = [][]int{all}
	}
	var tr, va []int
	for _, g := range groups {
		rng.Shuffle(len(g), func(i, j int) { g[i], g[j] = g[j], g[i] })
		// Each class keeps a training row, so that validation has no class
		// that the training rows lack.
		k := min(int(math.Round(valFraction*float64(len(g)))), len(g)-1)
		va = append(va, g[:k]...)
		tr = append(tr, g[k:]...)
	}
	slices.Sort(va)
	if opt.MinCategoryRows == 0 {
		tr, va = keepCategories(t, opt, tr, va)
	}
	if len(tr) == 0 || len(va) == 0 {
		return nil, nil, fmt.Errorf("data: %s: %w: a validation fraction of %v splits %d rows into %d for training and %d for validation; both need rows",
			t.name, ErrEmpty, valFraction, t.Len(), len(tr), len(va))
	}
	slices.Sort(tr)
	return t.Subset(tr), t.Subset(va), nil
}

// keepCategories moves to tr the rows of va that have a category, in a
// categorical column that is not ignored, that no row of tr has: the
// preprocessing learns categories from the training rows only and could
// not encode them.
func keepCategories(t *Table, opt FitOptions, tr, va []int) (newTr, newVa []int) {
	var cols []*Column
	var seen [][]bool // per column: levels that training rows have
	for _, c := range t.cols {
		if c.typ == Categorical && !slices.Contains(opt.Ignore, c.name) {
			s := make([]bool, len(c.levels))
			for _, i := range tr {
				if k := c.code(i); k != missingCode {
					s[k] = true
				}
			}
			cols, seen = append(cols, c), append(seen, s)
		}
	}
	newVa = va[:0]
	for _, i := range va {
		known := true
		for k, c := range cols {
			code := c.code(i)
			known = known && (code == missingCode || seen[k][code])
		}
		if known {
			newVa = append(newVa, i)
			continue
		}
		tr = append(tr, i)
		for k, c := range cols {
			if code := c.code(i); code != missingCode {
				seen[k][code] = true
			}
		}
	}
	return tr, newVa
}
