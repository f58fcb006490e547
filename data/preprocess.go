package data

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/flowgrad/flowgrad/tensor"
)

// Task chooses how [Fit] treats the target column.
type Task int

const (
	// AutoTask: classes if the target column is categorical (strings)
	// or holds exactly two values, both whole numbers (0 and 1, say: a
	// yes/no outcome); else regression. It looks at the rows it is given:
	// fix the task for a whole table with [ResolveTask] before splitting.
	AutoTask Task = iota
	// ClassTask: each distinct target value is a class; numeric targets
	// (integer labels such as 0, 1, 2) are classes too.
	ClassTask
	// RegressionTask: the target is a real number to predict.
	RegressionTask
)

var taskNames = [...]string{"auto", "classification", "regression"}

// String returns "auto", "classification" or "regression".
func (t Task) String() string {
	if t >= 0 && int(t) < len(taskNames) {
		return taskNames[t]
	}
	return fmt.Sprintf("Task(%d)", int(t))
}

// ParseTask returns the Task that String names; "classify", "class" and
// "classes" are accepted for ClassTask, "regress" for RegressionTask (the
// command's -task values).
func ParseTask(s string) (Task, error) {
	switch s {
	case "classify", "class", "classes":
		return ClassTask, nil
	case "regress":
		return RegressionTask, nil
	}
	for i, n := range taskNames {
		if s == n {
			return Task(i), nil
		}
	}
	return 0, fmt.Errorf("data: unknown task %q (want auto, classification or regression)", s)
}

// MarshalText encodes the kind as its name ("classification",
// "regression"), as the model file stores it.
func (k Kind) MarshalText() ([]byte, error) {
	if k != Classification && k != Regression {
		return nil, fmt.Errorf("data: unknown %v", k)
	}
	return []byte(k.String()), nil
}

// UnmarshalText decodes a name that String returns.
func (k *Kind) UnmarshalText(b []byte) error {
	for _, c := range []Kind{Classification, Regression} {
		if string(b) == c.String() {
			*k = c
			return nil
		}
	}
	return fmt.Errorf("data: unknown task kind %q (want classification or regression)", b)
}

// FitOptions tells [Fit] (and [Split]) which column is the target and what
// to learn.
type FitOptions struct {
	// Target names the target column; "" means the last column.
	Target string
	// Targets names several numeric target columns to predict together,
	// in this order, instead of Target: a regression with one output per
	// target (each standardised on its own with ScaleTarget).
	Targets []string
	// Ignore names columns that are not features, such as an ID column.
	// Text columns (see [CSVOptions]) are never features either: reading
	// the ignored columns as Text spares parsing their values at all.
	Ignore []string
	// Task is classification, regression or (the zero value) decided by
	// the target column (see [AutoTask]).
	Task Task
	// ScaleTarget standardises a regression target to mean 0 and
	// standard deviation 1 for training; [Preprocessor.Unscale] undoes it
	// on predictions.
	ScaleTarget bool
	// Scaling chooses how numeric features are scaled; the zero value is
	// ScaleAuto. A constant feature is an error whatever the choice.
	Scaling FeatureScaling
	// FillMissing fills in missing feature values (blank fields of a table
	// read with [CSVOptions.Missing]), now and in every later table: a
	// numeric feature's with its mean over the training rows (kept as the
	// Feature's Fill), a categorical feature's with no category (all of its
	// one-hot inputs 0). Without it a missing feature value is an error.
	// A missing target is an error either way.
	FillMissing bool
	// MinCategoryRows groups rare categories. When it is positive, a
	// category of a categorical feature that fewer than MinCategoryRows
	// training rows have gets no input of its own: all such categories
	// share one, the feature's "other" input ([Feature.Other]), which in
	// every later table also takes the categories that no training row had.
	// When no category is that rare there is no other input, and an unseen
	// category becomes no category (all of the feature's inputs 0, as a
	// filled-in missing value). With 0 (the default) each category has
	// its own input and an unseen category is an error ([ErrUnseen]).
	// Grouping keeps a column with thousands of rare values (a city, a
	// product code) from becoming thousands of inputs, each learnt from a
	// row or two, and lets the model take values it never saw.
	MinCategoryRows int
}

// FeatureScaling chooses how [Fit] scales the numeric features. Each
// numeric feature x becomes (x − Mean)/Std; the choices differ in Mean and
// Std.
type FeatureScaling int

const (
	// ScaleAuto is ScaleJoint when the numeric features' standard
	// deviations are all within a factor [JointSpreadRatio] of each other
	// (they look like measurements of one kind: lengths in one unit,
	// pixels, readings of like sensors), and ScaleEach otherwise.
	ScaleAuto FeatureScaling = iota
	// ScaleEach standardises each feature with its own mean and standard
	// deviation: the choice for features in different units (it is what
	// makes the Wine and Breast cancer tables trainable).
	ScaleEach
	// ScaleJoint centres each feature on its mean and divides all by one
	// scale, the root mean square of their standard deviations, so the
	// inputs' mean variance is 1 as with ScaleEach but the features keep
	// their relative spread. When the features share a unit, the larger
	// spreads tend to belong to the more telling features, and scaling
	// each to the same spread would amplify the weakest (Iris:
	// docs/tabular.md).
	ScaleJoint
	// ScaleNone leaves the numeric features as they are (Mean 0, Std 1).
	ScaleNone
)

// JointSpreadRatio is the largest ratio of two numeric features' standard
// deviations for which [ScaleAuto] scales them jointly: within one order
// of magnitude.
const JointSpreadRatio = 10

var scalingNames = [...]string{"auto", "each", "joint", "none"}

// String returns "auto", "each", "joint" or "none".
func (s FeatureScaling) String() string {
	if s >= 0 && int(s) < len(scalingNames) {
		return scalingNames[s]
	}
	return fmt.Sprintf("FeatureScaling(%d)", int(s))
}

// ParseFeatureScaling returns the FeatureScaling that String names.
func ParseFeatureScaling(s string) (FeatureScaling, error) {
	for i, n := range scalingNames {
		if s == n {
			return FeatureScaling(i), nil
		}
	}
	return 0, fmt.Errorf("data: unknown feature scaling %q (want auto, each, joint or none)", s)
}

// resolve finds the target column of t and the task, and checks that the
// ignored columns exist.
func (o *FitOptions) resolve(t *Table) (*Column, Kind, error) {
	if len(o.Targets) > 0 {
		return o.resolveTargets(t)
	}
	target := t.cols[len(t.cols)-1]
	if o.Target != "" {
		if target = t.Column(o.Target); target == nil {
			return nil, 0, fmt.Errorf("data: %s: %w: no target column %q (the columns are %s)", t.name, ErrColumns, o.Target, t.columnList())
		}
	}
	for _, n := range o.Ignore {
		switch c := t.Column(n); {
		case c == nil:
			return nil, 0, fmt.Errorf("data: %s: %w: no column %q to ignore (the columns are %s)", t.name, ErrColumns, n, t.columnList())
		case c == target:
			return nil, 0, fmt.Errorf("data: %s: %w: the target column %q cannot be ignored", t.name, ErrColumns, n)
		}
	}
	switch {
	case target.typ == Text:
		return nil, 0, fmt.Errorf("data: %s: %w: the target column %q is read as text; it must be numeric or categorical", t.name, ErrColumns, target.name)
	case o.Task == ClassTask || o.Task == AutoTask && (target.typ == Categorical || binaryNumbers(target)):
		return target, Classification, nil
	case o.Task != RegressionTask && o.Task != AutoTask:
		panic(fmt.Sprintf("data: FitOptions: unknown %v", o.Task))
	case target.typ != Numeric:
		return nil, 0, fmt.Errorf("data: %s: line %d, column %q: %w: the regression target %q is not a number (is the column a class label? then ask for classification)",
			t.name, t.Line(0), target.name, ErrBadValue, target.Value(0))
	}
	return target, Regression, nil
}

// ResolveTask returns opt with an AutoTask replaced by the task it means
// for t (ClassTask or RegressionTask; see [AutoTask]), and its error for a
// target that does not exist. Resolve on the whole table before a split or
// folds, so that every subset is treated alike: the training rows of a
// split could hold two values of a numeric target that has more, and look
// like classes.
func ResolveTask(t *Table, opt FitOptions) (FitOptions, error) {
	if opt.Task != AutoTask {
		return opt, nil
	}
	_, kind, err := opt.resolve(t)
	if err != nil {
		return opt, err
	}
	opt.Task = RegressionTask
	if kind == Classification {
		opt.Task = ClassTask
	}
	return opt, nil
}

// resolveTargets is resolve for several targets (o.Targets): each must be
// a numeric column, not ignored, named once, and the task regression. It
// returns the first.
func (o *FitOptions) resolveTargets(t *Table) (*Column, Kind, error) {
	if o.Target != "" {
		panic("data: FitOptions: both Target and Targets given")
	}
	if o.Task == ClassTask {
		return nil, 0, fmt.Errorf("data: %s: %w: several targets (%s) are a regression; classes take one target", t.name, ErrColumns, strings.Join(o.Targets, ", "))
	}
	one := *o
	one.Targets = nil
	cols, err := o.targetColumns(t)
	if err != nil {
		return nil, 0, err
	}
	for _, c := range cols {
		one.Target, one.Task = c.name, RegressionTask
		if _, _, err := one.resolve(t); err != nil {
			return nil, 0, err
		}
	}
	return cols[0], Regression, nil
}

// targetColumns returns the columns of t that o.Targets names.
func (o *FitOptions) targetColumns(t *Table) ([]*Column, error) {
	var cols []*Column
	for i, n := range o.Targets {
		c := t.Column(n)
		switch {
		case c == nil:
			return nil, fmt.Errorf("data: %s: %w: no target column %q (the columns are %s)", t.name, ErrColumns, n, t.columnList())
		case slices.Contains(o.Targets[:i], n):
			return nil, fmt.Errorf("data: %s: %w: the target %q is named twice", t.name, ErrColumns, n)
		}
		cols = append(cols, c)
	}
	return cols, nil
}

// binaryNumbers reports whether a numeric column holds exactly two
// distinct values, both whole numbers (missing values aside).
func binaryNumbers(c *Column) bool {
	if c.typ != Numeric {
		return false
	}
	var vals [2]float32
	n := 0
	for v := range c.numbers() {
		switch {
		case v != v: // missing
		case v != float32(math.Trunc(float64(v))):
			return false
		case n > 0 && v == vals[0] || n > 1 && v == vals[1]:
		case n == 2:
			return false
		default:
			vals[n] = v
			n++
		}
	}
	return n == 2
}

// Preprocessor turns raw tables into model inputs and targets the same way
// for training, evaluation and prediction: it is computed once from the
// training rows by [Fit], stored in the model file (its exported fields
// encode as JSON) and applied to every later table.
//
// Each numeric feature x becomes (x − Mean)/Std; each categorical feature
// becomes len(Categories) inputs, one-hot, in the order of Categories, and
// with Other one more for the categories not among them; with
// FillMissing a missing value becomes its Fill (numeric: the training
// mean), then scaled, or all-zero inputs (categorical). The
// inputs are the features' in order. Classification targets become class
// indices into Classes; a regression target y becomes (y −
// TargetMean)/TargetStd when TargetStd > 0, and stays as it is otherwise.
//
// After decoding one from JSON, call [Preprocessor.Check] before use.
type Preprocessor struct {
	Features   []Feature  `json:"features"`
	Target     string     `json:"target"`
	TargetType ColumnType `json:"target_type"` // Numeric or Categorical
	Kind       Kind       `json:"kind"`
	Classes    []string   `json:"classes,omitempty"`     // Classification, in index order
	TargetMean float64    `json:"target_mean,omitempty"` // Regression
	TargetStd  float64    `json:"target_std,omitempty"`  // Regression; 0: not scaled
	// ExtraTargets are a regression's second and later targets
	// ([FitOptions.Targets]): output j > 0 predicts ExtraTargets[j−1],
	// scaled by its own Mean and Std as output 0 by TargetMean and
	// TargetStd.
	ExtraTargets []TargetScale `json:"extra_targets,omitempty"`
	Ignored      []string      `json:"ignored,omitempty"` // columns that are not features
	// FillMissing: missing feature values are filled in (see
	// [FitOptions.FillMissing]) rather than an error.
	FillMissing bool `json:"fill_missing,omitempty"`
	// MinCategoryRows: rare categories were grouped (see
	// [FitOptions.MinCategoryRows]), and a category not among a feature's
	// Categories is encoded as other, not an error.
	MinCategoryRows int `json:"min_category_rows,omitempty"`

	scaling    FeatureScaling // as Fit resolved it; ScaleAuto if not made by Fit
	inputs     int
	catIndex   []map[string]int32 // per feature: category → position
	classIndex map[string]int32   // class name → index
	classNums  []float32          // a numeric target: Classes as numbers
}

// TargetScale is a regression target column and its standardisation:
// y becomes (y − Mean)/Std when Std > 0, and stays as it is otherwise.
type TargetScale struct {
	Name string  `json:"name"`
	Mean float64 `json:"mean,omitempty"`
	Std  float64 `json:"std,omitempty"`
}

// Targets returns the names of the target columns: the one Target, or a
// regression's Target and ExtraTargets, in the order of the outputs.
func (p *Preprocessor) Targets() []string {
	names := []string{p.Target}
	for _, e := range p.ExtraTargets {
		names = append(names, e.Name)
	}
	return names
}

// isTarget reports whether name is one of p's target columns.
func (p *Preprocessor) isTarget(name string) bool {
	return name == p.Target || slices.ContainsFunc(p.ExtraTargets, func(e TargetScale) bool { return e.Name == name })
}

// TargetScale returns the target of regression output j (0 ≤ j <
// Outputs()): its column name and its scaling (Std 0: not scaled).
func (p *Preprocessor) TargetScale(j int) TargetScale {
	if j == 0 {
		return TargetScale{Name: p.Target, Mean: p.TargetMean, Std: p.TargetStd}
	}
	return p.ExtraTargets[j-1]
}

// SetTargetScale sets the scaling of regression output j's target.
func (p *Preprocessor) SetTargetScale(j int, mean, std float64) {
	if j == 0 {
		p.TargetMean, p.TargetStd = mean, std
		return
	}
	p.ExtraTargets[j-1].Mean, p.ExtraTargets[j-1].Std = mean, std
}

// Feature is one feature column as a [Preprocessor] encodes it.
type Feature struct {
	Name       string     `json:"name"`
	Type       ColumnType `json:"type"` // Numeric or Categorical
	Mean       float64    `json:"mean,omitempty"`
	Std        float64    `json:"std,omitempty"`
	Categories []string   `json:"categories,omitempty"`
	// Other: a categorical feature has one more input, after those of
	// Categories, for every other category — the rare ones of the
	// training rows and those no training row had (see
	// [FitOptions.MinCategoryRows]).
	Other bool `json:"other,omitempty"`
	// Fill is the value, in the column's units, that stands for a missing
	// one: the training mean. Set for numeric features when the
	// Preprocessor fills in missing values, nil otherwise. (Mean is the
	// scaling's centre, 0 when features are not centred.)
	Fill *float64 `json:"fill,omitempty"`
}

// Inputs returns the number of model inputs f becomes: 1 for a numeric
// feature; one per category, plus the other input if there is one, for a
// categorical feature.
func (f *Feature) Inputs() int {
	if f.Type == Numeric {
		return 1
	}
	n := len(f.Categories)
	if f.Other {
		n++
	}
	return n
}

// InputNames returns the names of f's inputs, in order: its name for a
// numeric feature; "name=category" for each category of a categorical
// one, and "name (other)" for its other input.
func (f *Feature) InputNames() []string {
	if f.Type == Numeric {
		return []string{f.Name}
	}
	names := make([]string, 0, f.Inputs())
	for _, c := range f.Categories {
		names = append(names, f.Name+"="+c)
	}
	if f.Other {
		names = append(names, f.Name+" (other)")
	}
	return names
}

// scale returns the scaled value (x − Mean)/Std of a numeric feature.
func (f *Feature) scale(x float32) float32 { return float32((float64(x) - f.Mean) / f.Std) }

// Fit computes the preprocessing of the training rows t: the target and
// the task as opt says, the mean and scale of each numeric feature (as
// opt.Scaling says), the categories of each categorical feature and the
// classes, sorted (numerically for a numeric target), all from t alone;
// missing values (see [CSVOptions.Missing]) count for none of these.
//
// Fit returns an error that says what to do for a table without rows
// ([ErrEmpty]), a target or ignored column
// that does not exist, no feature column left ([ErrColumns]), a missing
// target value, a missing feature value without opt.FillMissing or a
// feature column without values ([ErrMissing]), a regression
// target that is not numeric ([ErrBadValue]), training rows with a single
// class, a constant feature, a categorical feature with a different value
// in each of 20 or more rows (an identifier), or a constant target when it
// is to be scaled ([ErrDegenerate]).
func Fit(t *Table, opt FitOptions) (*Preprocessor, error) {
	if t.Len() == 0 {
		return nil, fmt.Errorf("data: %s: %w: no training rows", t.name, ErrEmpty)
	}
	target, kind, err := opt.resolve(t)
	if err != nil {
		return nil, err
	}
	if opt.MinCategoryRows < 0 {
		panic(fmt.Sprintf("data: FitOptions: MinCategoryRows %d < 0", opt.MinCategoryRows))
	}
	p := &Preprocessor{Target: target.name, TargetType: target.typ, Kind: kind, FillMissing: opt.FillMissing, MinCategoryRows: opt.MinCategoryRows}
	targets := []*Column{target}
	if len(opt.Targets) > 0 {
		if targets, err = opt.targetColumns(t); err != nil {
			return nil, err
		}
	}
	isTarget := func(c *Column) bool { return slices.Contains(targets, c) }
	for _, c := range targets {
		if err := checkTarget(t, c); err != nil {
			return nil, err
		}
	}
	for _, c := range t.cols {
		if isTarget(c) || c.typ == Text || slices.Contains(opt.Ignore, c.name) {
			continue
		}
		if err := p.checkMissing(t, c); err != nil {
			return nil, err
		}
	}
	for _, c := range t.cols {
		switch {
		case isTarget(c):
		case c.typ == Text || slices.Contains(opt.Ignore, c.name):
			p.Ignored = append(p.Ignored, c.name)
		case c.typ == Numeric:
			mean, std := meanStd(c)
			if std == 0 {
				return nil, fmt.Errorf("data: %s: %w: the feature column %q has the same value %v in all %d training rows%s, so it cannot help; ignore the column",
					t.name, ErrDegenerate, c.name, c.Value(firstPresent(c)), t.Len()-c.missing, withValue(c))
			}
			f := Feature{Name: c.name, Type: Numeric, Mean: mean, Std: std}
			if opt.FillMissing {
				f.Fill = &mean
			}
			p.Features = append(p.Features, f)
		default:
			cats, counts := levelCounts(c)
			if len(cats) == 1 {
				return nil, fmt.Errorf("data: %s: %w: the feature column %q has the same value %q in all %d training rows%s, so it cannot help; ignore the column",
					t.name, ErrDegenerate, c.name, cats[0], t.Len()-c.missing, withValue(c))
			}
			if n := t.Len(); len(cats) == n && n >= 20 {
				return nil, fmt.Errorf("data: %s: %w: the feature column %q has a different value in each of the %d training rows (an identifier?), so it cannot generalise; ignore the column",
					t.name, ErrDegenerate, c.name, n)
			}
			f := Feature{Name: c.name, Type: Categorical, Categories: cats}
			if opt.MinCategoryRows > 0 {
				f.Categories = f.Categories[:0]
				for i, cat := range cats {
					if counts[i] >= opt.MinCategoryRows {
						f.Categories = append(f.Categories, cat)
					} else {
						f.Other = true
					}
				}
				// The other input alone is constant unless blanks (no
				// category, all inputs 0) set it apart from the values.
				if len(f.Categories) == 0 && c.missing == 0 {
					return nil, fmt.Errorf("data: %s: %w: the feature column %q has %d values, each in fewer than %d training rows (the minimum for a category of its own), so grouped they are one constant input; lower the minimum or ignore the column",
						t.name, ErrDegenerate, c.name, len(cats), opt.MinCategoryRows)
				}
			}
			slices.Sort(f.Categories)
			p.Features = append(p.Features, f)
		}
	}
	p.scaleNumeric(opt.Scaling)
	if len(p.Features) == 0 {
		return nil, fmt.Errorf("data: %s: %w: no feature columns left beside the target %q", t.name, ErrColumns, target.name)
	}
	switch {
	case kind == Classification:
		p.Classes = classNames(target, t.Len())
		if len(p.Classes) < 2 {
			return nil, fmt.Errorf("data: %s: %w: the training rows have a single class %q in the target column %q; classification needs at least two",
				t.name, ErrDegenerate, p.Classes[0], target.name)
		}
	default:
		for j, c := range targets {
			var sc TargetScale
			sc.Name = c.name
			if opt.ScaleTarget {
				if sc.Mean, sc.Std = meanStd(c); sc.Std == 0 {
					return nil, fmt.Errorf("data: %s: %w: the target column %q has the same value %v in all %d training rows: nothing to learn",
						t.name, ErrDegenerate, c.name, c.Value(0), t.Len())
				}
			}
			if j > 0 {
				p.ExtraTargets = append(p.ExtraTargets, sc)
			}
			p.SetTargetScale(j, sc.Mean, sc.Std)
		}
	}
	if err := p.Check(); err != nil {
		panic(err) // Fit made it: a bug here, not bad input
	}
	return p, nil
}

// scaleNumeric turns the numeric features' means and standard deviations,
// as Fit found them, into the Mean and Std that scaling s asks for, and
// records the choice (ScaleAuto resolved).
func (p *Preprocessor) scaleNumeric(s FeatureScaling) {
	if s < ScaleAuto || s > ScaleNone {
		panic(fmt.Sprintf("data: FitOptions: unknown %v", s))
	}
	var sumVar float64
	var n int
	lo, hi := math.Inf(1), 0.0
	for _, f := range p.Features {
		if f.Type == Numeric {
			sumVar += f.Std * f.Std
			n++
			lo, hi = min(lo, f.Std), max(hi, f.Std)
		}
	}
	if s == ScaleAuto {
		s = ScaleEach
		if n > 0 && hi <= JointSpreadRatio*lo {
			s = ScaleJoint
		}
	}
	p.scaling = s
	joint := math.Sqrt(sumVar / float64(max(n, 1)))
	for i := range p.Features {
		f := &p.Features[i]
		if f.Type != Numeric {
			continue
		}
		switch s {
		case ScaleJoint:
			f.Std = joint
		case ScaleNone:
			f.Mean, f.Std = 0, 1
		}
	}
}

// Scaling returns how [Fit] scaled the numeric features: ScaleEach,
// ScaleJoint or ScaleNone (ScaleAuto resolved). A Preprocessor that Fit
// did not make, such as one read from a model file, returns ScaleAuto: its
// Features' Mean and Std say all that prediction needs.
func (p *Preprocessor) Scaling() FeatureScaling { return p.scaling }

// meanStd returns the mean and the (population) standard deviation of
// the values of a numeric column that are not missing, in float64 with two
// passes; the column must have one.
func meanStd(c *Column) (mean, std float64) {
	n := c.len() - c.missing
	var s float64
	for v := range c.numbers() {
		if v == v { // not missing
			s += float64(v)
		}
	}
	mean = s / float64(n)
	var q float64
	for v := range c.numbers() {
		if v == v {
			d := float64(v) - mean
			q += d * d
		}
	}
	return mean, math.Sqrt(q / float64(n))
}

// firstPresent returns the first row of c whose value is not missing, or
// -1; firstMissing the first whose value is.
func firstPresent(c *Column) int { return firstWhere(c, false) }
func firstMissing(c *Column) int { return firstWhere(c, true) }

func firstWhere(c *Column, missing bool) int {
	for i := range c.len() {
		if c.IsMissing(i) == missing {
			return i
		}
	}
	return -1
}

// withValue says, for an error message, how many of c's rows have no value.
func withValue(c *Column) string {
	if c.missing == 0 {
		return ""
	}
	return fmt.Sprintf(" with a value (%d more are missing)", c.missing)
}

// checkTarget returns an error ([ErrMissing]) naming the first row of t
// whose target (column c) is missing.
func checkTarget(t *Table, c *Column) error {
	if c.missing == 0 {
		return nil
	}
	return fmt.Errorf("data: %s: %w: the target is missing (a row without a target can neither train nor be scored: drop it)",
		t.where(firstMissing(c), c), ErrMissing)
}

// checkMissing returns an error ([ErrMissing]) for the feature column c
// of the training rows t if it has no values, or if it has a missing
// value and p does not fill them in (naming the first).
func (p *Preprocessor) checkMissing(t *Table, c *Column) error {
	switch {
	case c.missing == 0:
		return nil
	case c.missing == t.Len():
		return fmt.Errorf("data: %s: %w: the feature column %q has no values (all %d training rows are blank); ignore the column",
			t.name, ErrMissing, c.name, t.Len())
	case !p.FillMissing:
		return fmt.Errorf("data: %s: %w: the feature has %d missing values; fill them in, or let the model fill them in (flowgrad train -missing mean; FitOptions.FillMissing)",
			t.where(firstMissing(c), c), ErrMissing, c.missing)
	}
	return nil
}

// levelCounts returns the levels of a categorical column that its rows
// use (a subset's column shares all levels of the file), not counting
// missing values, and how many rows have each.
func levelCounts(c *Column) (levels []string, counts []int) {
	for k, n := range c.Counts() {
		if n > 0 {
			levels, counts = append(levels, c.levels[k]), append(counts, n)
		}
	}
	return levels, counts
}

// classNames returns the distinct values of the target column c, sorted:
// numerically for a numeric column, as strings for a categorical one.
func classNames(c *Column, n int) []string {
	if c.typ == Categorical {
		names, _ := levelCounts(c)
		slices.Sort(names)
		return names
	}
	var vals []float32
	seen := make(map[float32]bool)
	for i := range n {
		if v := c.num(i); !seen[v] {
			seen[v] = true
			vals = append(vals, v)
		}
	}
	slices.Sort(vals)
	names := make([]string, len(vals))
	for i, v := range vals {
		names[i] = strconv.FormatFloat(float64(v), 'g', -1, 32)
	}
	return names
}

// Check validates p (as decoded from a file) and prepares it for use: it
// returns an error if a feature or the target is malformed (no name, an
// unknown type, a standard deviation that is not positive and finite, fewer
// than two or duplicate categories or classes, duplicate column names).
func (p *Preprocessor) Check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("data: preprocessing: "+format, args...)
	}
	names := map[string]bool{p.Target: true}
	if p.Target == "" {
		return bad("no target column name")
	}
	for _, e := range p.ExtraTargets {
		if e.Name == "" || names[e.Name] || p.Kind != Regression || e.Std < 0 || math.IsNaN(e.Std) || math.IsInf(e.Std, 0) || math.IsNaN(e.Mean) || math.IsInf(e.Mean, 0) {
			return bad("extra target %q: a repeated or empty name, a %v, mean %v, std %v (want a regression's own column, finite, std ≥ 0)", e.Name, p.Kind, e.Mean, e.Std)
		}
		names[e.Name] = true
	}
	if len(p.Features) == 0 {
		return bad("no features")
	}
	if p.MinCategoryRows < 0 {
		return bad("min_category_rows %d (want ≥ 0)", p.MinCategoryRows)
	}
	p.inputs = 0
	p.catIndex = make([]map[string]int32, len(p.Features))
	for i, f := range p.Features {
		if f.Name == "" || names[f.Name] {
			return bad("feature %d has an empty or repeated name %q", i, f.Name)
		}
		names[f.Name] = true
		switch f.Type {
		case Numeric:
			if !(f.Std > 0) || math.IsInf(f.Std, 0) || math.IsNaN(f.Mean) || math.IsInf(f.Mean, 0) {
				return bad("feature %q has mean %v and standard deviation %v (want finite, std > 0)", f.Name, f.Mean, f.Std)
			}
			switch {
			case p.FillMissing && f.Fill == nil:
				return bad("feature %q has no fill value, but missing values are to be filled in", f.Name)
			case !p.FillMissing && f.Fill != nil:
				return bad("feature %q has a fill value, but missing values are not to be filled in", f.Name)
			case f.Fill != nil && (math.IsNaN(*f.Fill) || math.IsInf(*f.Fill, 0)):
				return bad("feature %q has fill value %v (want finite)", f.Name, *f.Fill)
			}
			p.inputs++
		case Categorical:
			if f.Other && p.MinCategoryRows <= 0 {
				return bad("feature %q has an other input, but no rare categories were grouped (min_category_rows %d)", f.Name, p.MinCategoryRows)
			}
			min := 2
			if f.Other {
				min = 0 // and the other input (alone: value or blank)
			}
			idx, err := indexOf(f.Categories, min)
			if err != nil {
				return bad("feature %q: %v", f.Name, err)
			}
			p.catIndex[i] = idx
			p.inputs += f.Inputs()
		default:
			return bad("feature %q has type %v (want numeric or categorical)", f.Name, f.Type)
		}
	}
	for _, n := range p.Ignored {
		if names[n] {
			return bad("column %q is ignored and used", n)
		}
	}
	if p.TargetType != Numeric && p.TargetType != Categorical {
		return bad("target type %v (want numeric or categorical)", p.TargetType)
	}
	switch p.Kind {
	case Classification:
		idx, err := indexOf(p.Classes, 2)
		if err != nil {
			return bad("classes: %v", err)
		}
		p.classIndex = idx
		p.classNums = nil
		if p.TargetType == Numeric {
			p.classNums = make([]float32, len(p.Classes))
			for i, s := range p.Classes {
				v, err := strconv.ParseFloat(s, 32)
				if err != nil {
					return bad("class %q of a numeric target is not a number", s)
				}
				p.classNums[i] = float32(v)
				if i > 0 && !(p.classNums[i-1] < p.classNums[i]) {
					return bad("classes of a numeric target out of order: %q after %q", s, p.Classes[i-1])
				}
			}
		}
	case Regression:
		if p.TargetType != Numeric || len(p.Classes) > 0 || p.TargetStd < 0 || math.IsNaN(p.TargetStd) || math.IsInf(p.TargetStd, 0) ||
			math.IsNaN(p.TargetMean) || math.IsInf(p.TargetMean, 0) {
			return bad("regression target %q: type %v, %d classes, mean %v, std %v", p.Target, p.TargetType, len(p.Classes), p.TargetMean, p.TargetStd)
		}
	default:
		return bad("unknown %v", p.Kind)
	}
	return nil
}

// indexOf maps each of at least min distinct names to its position.
func indexOf(names []string, min int) (map[string]int32, error) {
	if len(names) < min {
		return nil, fmt.Errorf("%d values (want ≥ %d)", len(names), min)
	}
	idx := make(map[string]int32, len(names))
	for i, n := range names {
		if _, dup := idx[n]; dup {
			return nil, fmt.Errorf("%q appears twice", n)
		}
		idx[n] = int32(i)
	}
	return idx, nil
}

// Inputs returns the number of model inputs per row: the sum of the
// features' [Feature.Inputs].
func (p *Preprocessor) Inputs() int { return p.inputs }

// Outputs returns the number of model outputs: the classes, or one per
// regression target.
func (p *Preprocessor) Outputs() int {
	if p.Kind == Classification {
		return len(p.Classes)
	}
	return 1 + len(p.ExtraTargets)
}

// CSVOptions returns a copy of base (nil: the defaults) that reads the
// categorical features and a categorical target as categories, so that a
// later file is read as the training file was even when a first value
// looks like a number, the ignored columns as text, and blank fields as
// missing values if p fills them in.
func (p *Preprocessor) CSVOptions(base *CSVOptions) *CSVOptions {
	var o CSVOptions
	if base != nil {
		o = *base
	}
	o.Categorical = slices.Clone(o.Categorical)
	for _, f := range p.Features {
		if f.Type == Categorical {
			o.Categorical = append(o.Categorical, f.Name)
		}
	}
	if p.TargetType == Categorical {
		o.Categorical = append(o.Categorical, p.Target)
	}
	o.Text = append(slices.Clone(o.Text), p.Ignored...)
	o.Missing = o.Missing || p.FillMissing
	return &o
}

// Match checks that t has the columns p was fitted on: every feature, with
// the same type; the target too if withTarget; and no other column except
// the target, the ignored ones and text columns. Its error ([ErrColumns])
// lists what is missing or extra.
func (p *Preprocessor) Match(t *Table, withTarget bool) error {
	var missing []string
	at := 0
	for _, f := range p.Features {
		k := t.find(f.Name, at)
		if k < 0 {
			missing = append(missing, strconv.Quote(f.Name))
			continue
		}
		at = k + 1
		if c := t.cols[k]; c.typ != f.Type {
			return fmt.Errorf("data: %s: %w: column %q is %v here (first value %q) but was %v in the training data",
				t.name, ErrColumns, f.Name, c.typ, c.Value(0), f.Type)
		}
	}
	for j := range 1 + len(p.ExtraTargets) {
		if !withTarget { // prediction: no lookups
			break
		}
		name := p.TargetScale(j).Name
		switch c := t.Column(name); {
		case c == nil:
			missing = append(missing, strconv.Quote(name)+" (the target)")
		case p.Kind == Regression && c.typ != Numeric:
			return fmt.Errorf("data: %s: %w: the target column %q is %v here (first value %q) but numeric in the training data",
				t.name, ErrColumns, name, c.typ, c.Value(0))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("data: %s: %w: missing column %s (the model needs %s)%s", t.name, ErrColumns, strings.Join(missing, ", "), p.columnList(), t.SeparatorHint())
	}
	// Every feature is a column of t, and no feature is the target, ignored
	// or a text column: t has other columns iff they are not all of those.
	others := 0
	for _, c := range t.cols {
		if c.typ == Text || p.isTarget(c.name) || slices.Contains(p.Ignored, c.name) {
			others++
		}
	}
	if len(p.Features)+others == len(t.cols) {
		return nil
	}
	for _, c := range t.cols {
		if c.typ != Text && !p.isTarget(c.name) && !slices.Contains(p.Ignored, c.name) && !slices.ContainsFunc(p.Features, func(f Feature) bool { return f.Name == c.name }) {
			return fmt.Errorf("data: %s: %w: column %q was not in the training data (the model needs %s); remove it, or skip it (flowgrad eval and predict: -ignore %s; in Go, read it as text: CSVOptions.Text)",
				t.name, ErrColumns, c.name, p.columnList(), c.name)
		}
	}
	panic("data: Match: miscounted columns")
}

func (p *Preprocessor) columnList() string {
	var b strings.Builder
	for i, f := range p.Features {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(f.Name))
	}
	if len(p.ExtraTargets) == 0 {
		fmt.Fprintf(&b, " and the target %q", p.Target)
	} else {
		fmt.Fprintf(&b, " and the targets %s", quoteAll(p.Targets()))
	}
	return b.String()
}

// Transform writes the model inputs of t's rows into dst, row-major
// (t.Len()×Inputs values), and returns an error naming the file, line and
// column for a category that the training rows did not have unless p
// groups rare categories ([ErrUnseen]; see [FitOptions.MinCategoryRows]),
// a missing value unless p.FillMissing ([ErrMissing]), or for columns that
// do not match ([Preprocessor.Match]). It allocates
// nothing unless it fails. It panics if dst is too short.
func (p *Preprocessor) Transform(dst []float32, t *Table) error {
	n, in := t.Len(), p.inputs
	if len(dst) < n*in {
		panic(fmt.Sprintf("data: Transform: %d values for %d rows of %d inputs", len(dst), n, in))
	}
	if err := p.Match(t, false); err != nil {
		return err
	}
	off, at := 0, 0
	for k := range p.Features {
		f := &p.Features[k]
		at = t.find(f.Name, at) + 1
		c := t.cols[at-1]
		if c.missing > 0 && !p.FillMissing {
			return fmt.Errorf("data: %s: %w: a missing value, but the model was trained without filling them in; fill it in or drop the row (or train with -missing mean)",
				t.where(firstMissing(c), c), ErrMissing)
		}
		if f.Type == Numeric {
			i := off
			for v := range c.numbers() {
				dst[i] = f.scale(v)
				i += in
			}
			if c.missing > 0 { // filled in with the training mean
				fill := f.scale(float32(*f.Fill))
				for r := range n {
					if c.IsMissing(r) {
						dst[r*in+off] = fill
					}
				}
			}
			off++
			continue
		}
		width := f.Inputs()
		for i := range n {
			row := dst[i*in+off : i*in+off+width]
			clear(row)
			code := c.code(i)
			if code == missingCode {
				continue
			}
			s := c.levels[code]
			j, ok := p.catIndex[k][s]
			switch {
			case ok:
				row[j] = 1
			case f.Other:
				row[width-1] = 1
			case p.MinCategoryRows == 0:
				return fmt.Errorf("data: %s: %w: category %q was not in the training data (known: %s); the model cannot encode it (a model trained with -min-category encodes such values as other)",
					t.where(i, c), ErrUnseen, s, someOf(f.Categories))
			}
		}
		off += width
	}
	return nil
}

// Labels writes the class index of each of t's rows into dst and returns
// an error naming the file, line and column for a class that the training
// rows did not have ([ErrUnseen]). It panics unless p is for
// classification and len(dst) ≥ t.Len(); t must have passed Match with its
// target.
func (p *Preprocessor) Labels(dst []int32, t *Table) error {
	if p.Kind != Classification {
		panic("data: Labels of a regression preprocessor")
	}
	c := t.Column(p.Target)
	if err := checkTarget(t, c); err != nil {
		return err
	}
	for i := range t.Len() {
		var k int32 = -1
		if c.typ == Categorical {
			if j, ok := p.classIndex[c.levels[c.code(i)]]; ok {
				k = j
			}
		} else if p.classNums != nil {
			if j, ok := slices.BinarySearch(p.classNums, c.num(i)); ok {
				k = int32(j)
			}
		} else if j, ok := p.classIndex[c.Value(i)]; ok { // numbers as class names
			k = j
		}
		if k < 0 {
			return fmt.Errorf("data: %s: %w: class %q was not in the training data (known: %s)",
				t.where(i, c), ErrUnseen, c.Value(i), someOf(p.Classes))
		}
		dst[i] = k
	}
	return nil
}

// MaxInputBytes bounds the float32 input matrix that [Preprocessor.Dataset]
// makes of a table (rows × inputs × 4 bytes): 4 GiB. Beyond it Dataset
// returns [ErrTooLarge] before allocating, rather than exhaust the
// machine's memory — typically a categorical column with thousands of
// values, one input each. Raise it to train on more.
var MaxInputBytes int64 = 4 << 30

// CheckSize returns an error ([ErrTooLarge]) if the model inputs of rows
// rows of t would take more than [MaxInputBytes], naming the categorical
// feature with the most categories when it holds most of the inputs.
func (p *Preprocessor) CheckSize(t *Table, rows int) error {
	need := int64(rows) * int64(p.inputs) * 4
	if need <= MaxInputBytes {
		return nil
	}
	advice := "use fewer rows or features, or raise data.MaxInputBytes"
	widest := -1
	for i, f := range p.Features {
		if f.Type == Categorical && (widest < 0 || len(f.Categories) > len(p.Features[widest].Categories)) {
			widest = i
		}
	}
	if widest >= 0 && 2*len(p.Features[widest].Categories) > p.inputs {
		f := p.Features[widest]
		advice = fmt.Sprintf("the categorical feature %q has %d categories, one input each: group its rare values (flowgrad train -min-category 10; FitOptions.MinCategoryRows) or ignore the column (-ignore %s)",
			f.Name, len(f.Categories), f.Name)
	}
	return fmt.Errorf("data: %s: %w: %d rows × %d inputs take %.1f GB as float32, more than data.MaxInputBytes (%.1f GB); %s",
		t.name, ErrTooLarge, rows, p.inputs, float64(need)/1e9, float64(MaxInputBytes)/1e9, advice)
}

// Dataset returns t as a dataset for training or evaluation: its inputs
// (see [Preprocessor.Transform]) and its targets, class indices or the
// (scaled) regression target as one output. Its errors are [ErrEmpty] for
// a table without rows (a [Table.Subset] can have none), [ErrTooLarge]
// for inputs beyond [MaxInputBytes] ([Preprocessor.CheckSize]), Match's
// with the target and Transform's and Labels'.
func (p *Preprocessor) Dataset(t *Table) (*Dataset, error) {
	if t.Len() == 0 {
		return nil, fmt.Errorf("data: %s: %w: no rows", t.name, ErrEmpty)
	}
	if err := p.CheckSize(t, t.Len()); err != nil {
		return nil, err
	}
	if err := p.Match(t, true); err != nil {
		return nil, err
	}
	x := tensor.New[float32](t.Len(), p.inputs)
	if err := p.Transform(x.Data(), t); err != nil {
		return nil, err
	}
	if p.Kind == Classification {
		labels := make([]int32, t.Len())
		if err := p.Labels(labels, t); err != nil {
			return nil, err
		}
		return NewClassTable(x, labels, len(p.Classes))
	}
	k := p.Outputs()
	y := tensor.New[float32](t.Len(), k)
	for j, name := range p.Targets() {
		c := t.Column(name)
		if err := checkTarget(t, c); err != nil {
			return nil, err
		}
		for i := range t.Len() {
			y.Data()[i*k+j] = p.scaleTarget(j, c.num(i))
		}
	}
	return NewRegressionTable(x, y)
}

// scaleTarget returns output j's target value y scaled for training.
func (p *Preprocessor) scaleTarget(j int, y float32) float32 {
	sc := p.TargetScale(j)
	if sc.Std == 0 {
		return y
	}
	return float32((float64(y) - sc.Mean) / sc.Std)
}

// Unscale maps model outputs for a regression target back to the targets'
// units in place: y holds rows of Outputs values, row-major, and output j
// becomes y·Std + Mean of its target (unchanged when the target was not
// scaled).
func (p *Preprocessor) Unscale(y []float32) {
	k := p.Outputs()
	for i, v := range y {
		if sc := p.TargetScale(i % k); sc.Std != 0 {
			y[i] = float32(float64(v)*sc.Std + sc.Mean)
		}
	}
}

// quoteAll returns the names quoted, comma-separated.
func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// someOf lists names for an error message: all of up to 20, or the first
// 20 and how many there are.
func someOf(names []string) string {
	const most = 20
	if len(names) <= most {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s, … (%d in all)", strings.Join(names[:most], ", "), len(names))
}

// sortedKeys returns m's keys in ascending order.
func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
