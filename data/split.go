package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// Split divides the rows of t at random into a training table and a
// validation table holding about valFraction of them, before anything is
// fitted (so that [Fit] sees the training rows only). For classification
// (the task opt resolves to, as for Fit) the split is stratified: each
// class gives round(valFraction·its rows) to validation (but keeps at
// least one for training), so both parts keep the class proportions.
// With rng nil the validation rows are instead the last
// round(valFraction·rows) rows of t, not stratified: for rows in time
// order, the model is then validated on the latest, as it will be used
// (a validation row whose class no training row has moves to training).
// Unless opt groups rare categories ([FitOptions.MinCategoryRows]), a
// validation row with a category (in any categorical column not ignored)
// that no training row has moves to training, since the preprocessing,
// fitted on the training rows, could not encode it (a missing value is no
// category and stays). The parts are views of t ([Table.Subset]), sharing
// its values. Both parts keep the
// file order of their rows. The split is a function of t, opt and rng's
// state (or of t and opt alone).
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
	var tr, va []int
	if rng == nil {
		k := t.Len() - int(math.Round(valFraction*float64(t.Len())))
		for i := range t.Len() {
			if i < k {
				tr = append(tr, i)
			} else {
				va = append(va, i)
			}
		}
		tr, va = keepClasses(t, target, kind, tr, va)
	} else {
		for _, g := range strata(t, target, kind, rng) {
			// Each class keeps a training row, so that validation has no class
			// that the training rows lack.
			k := min(int(math.Round(valFraction*float64(len(g)))), len(g)-1)
			va = append(va, g[:k]...)
			tr = append(tr, g[k:]...)
		}
		slices.Sort(va)
	}
	var culprits []string
	if opt.MinCategoryRows == 0 {
		tr, va, culprits = keepCategories(t, opt, tr, va)
	}
	if len(va) == 0 && len(culprits) > 0 {
		return nil, nil, fmt.Errorf("data: %s: %w: no validation rows left: each has a value that no training row has, in %s",
			t.name, ErrEmpty, unseenAdvice(culprits))
	}
	if len(tr) == 0 || len(va) == 0 {
		return nil, nil, fmt.Errorf("data: %s: %w: a validation fraction of %v splits %d rows into %d for training and %d for validation; both need rows",
			t.name, ErrEmpty, valFraction, t.Len(), len(tr), len(va))
	}
	slices.Sort(tr)
	return t.Subset(tr), t.Subset(va), nil
}

// strata returns the row indices of t by class for classification (in the
// order of the class names), or all in one group for regression, each
// group shuffled with rng.
func strata(t *Table, target *Column, kind Kind, rng *rand.Rand) [][]int {
	var groups [][]int
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
	for _, g := range groups {
		rng.Shuffle(len(g), func(i, j int) { g[i], g[j] = g[j], g[i] })
	}
	return groups
}

// Fold is one round of a k-fold cross-validation ([KFold]): the rows to
// train on and the rows to test on, views of the table.
type Fold struct {
	Train, Test *Table
	// Moved counts the rows of this fold's test part that went to
	// training instead, because no training row has their class or one
	// of their categories (see [KFold]).
	Moved int
}

// KFold divides the rows of t at random into k folds of nearly equal
// size, stratified for classification (each class dealt out in turn, so
// every fold keeps the class proportions), and returns the k rounds of a
// cross-validation: round i tests on fold i and trains on the others.
// As in [Split], a test row that the preprocessing fitted on the training
// rows could not encode — its class, or unless opt groups rare
// categories one of its categories, is in no training row — moves to
// training for that round (Fold.Moved counts them), so every round can be
// scored. The parts keep the file order of their rows, and share t's
// values. The folds are a function of t, opt, k and rng's state.
//
// KFold returns an error if k < 2 or t has fewer than k rows, for a
// target or ignored column that does not exist, for a missing target
// value, or if a round would have no test rows left.
func KFold(t *Table, opt FitOptions, k int, rng *rand.Rand) ([]Fold, error) {
	if k < 2 {
		return nil, fmt.Errorf("data: KFold: %d folds (want at least 2)", k)
	}
	if t.Len() < k {
		return nil, fmt.Errorf("data: %s: %w: %d rows cannot make %d folds", t.name, ErrEmpty, t.Len(), k)
	}
	target, kind, err := opt.resolve(t)
	if err != nil {
		return nil, err
	}
	if err := checkTarget(t, target); err != nil {
		return nil, err
	}
	fold := make([]int, t.Len()) // each row's fold
	next := 0
	for _, g := range strata(t, target, kind, rng) {
		for _, i := range g {
			fold[i] = next
			next = (next + 1) % k
		}
	}
	folds := make([]Fold, k)
	for f := range folds {
		var tr, te []int
		for i, fi := range fold {
			if fi != f {
				tr = append(tr, i)
			} else {
				te = append(te, i)
			}
		}
		others := len(tr)
		tr, te = keepClasses(t, target, kind, tr, te)
		var culprits []string
		if opt.MinCategoryRows == 0 {
			tr, te, culprits = keepCategories(t, opt, tr, te)
		}
		if len(te) == 0 {
			why := "a class that no other fold has"
			if len(culprits) > 0 {
				why = "a value that no other fold has, in " + unseenAdvice(culprits)
			}
			return nil, fmt.Errorf("data: %s: %w: fold %d of %d has no test rows left: each has %s",
				t.name, ErrEmpty, f+1, k, why)
		}
		slices.Sort(tr)
		folds[f] = Fold{Train: t.Subset(tr), Test: t.Subset(te), Moved: len(tr) - others}
	}
	return folds, nil
}

// keepClasses moves to tr, for classification, the rows of va whose class
// no row of tr has: the preprocessing could not encode their target.
func keepClasses(t *Table, target *Column, kind Kind, tr, va []int) (newTr, newVa []int) {
	if kind != Classification {
		return tr, va
	}
	has := map[string]bool{}
	for _, i := range tr {
		has[target.Value(i)] = true
	}
	newVa = va[:0]
	for _, i := range va {
		if has[target.Value(i)] {
			newVa = append(newVa, i)
		} else {
			tr = append(tr, i)
		}
	}
	return tr, newVa
}

// keepCategories moves to tr the rows of va that have a category, in a
// categorical column that is not ignored, that no row of tr has: the
// preprocessing learns categories from the training rows only and could
// not encode them. It also returns the columns whose values moved rows,
// those that moved the most first.
func keepCategories(t *Table, opt FitOptions, tr, va []int) (newTr, newVa []int, culprits []string) {
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
	moved := make([]int, len(cols)) // rows each column moved
	newVa = va[:0]
	for _, i := range va {
		known := true
		for k, c := range cols {
			if code := c.code(i); code != missingCode && !seen[k][code] {
				known = false
				moved[k]++
			}
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
	order := make([]int, 0, len(cols))
	for k, n := range moved {
		if n > 0 {
			order = append(order, k)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return moved[b] - moved[a] })
	for _, k := range order {
		culprits = append(culprits, cols[k].name)
	}
	return tr, newVa, culprits
}

// unseenAdvice names the columns whose values no training row had, and
// says what to do about them.
func unseenAdvice(cols []string) string {
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = strconv.Quote(c)
	}
	return fmt.Sprintf("%s (an identifier or free text? ignore it: flowgrad train -ignore %s; or group rare values: -min-category 5; in Go, FitOptions.Ignore or MinCategoryRows)",
		strings.Join(quoted, ", "), strings.Join(cols, ","))
}
