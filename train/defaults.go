package train

import "github.com/flowgrad/flowgrad/data"

// The defaults below are the recipe `flowgrad train` uses on tables
// (docs/tabular.md, "What train does, and its defaults"), exported so that
// a Go program training an MLP on a table gets the same: Adam at 0.001,
// L2 weight decay DefaultWeightDecay, dropout 0.1 after each hidden layer,
// B = 32, early stopping with patience DefaultPatience (for classes on the
// validation accuracy, ties keeping the later epoch: EarlyStopping's
// KeepLatest), then a refit on all rows for the chosen number of epochs.

// The bounds of DefaultPatience: about DefaultPatienceSteps steps' worth
// of epochs, but MinDefaultPatience to MaxDefaultPatience epochs.
const (
	DefaultPatienceSteps = 3000
	MinDefaultPatience   = 10
	MaxDefaultPatience   = 200
)

// DefaultPatience returns the epochs early stopping waits for a better
// validation score: about DefaultPatienceSteps steps, but 10 to 200
// epochs. Patience is a number of updates more than of epochs: 200 epochs
// of a 100-row table are 800 steps, of a 100 000-row table 630 000 (tens
// of minutes). Up to 15 steps an epoch (480 training rows at B = 32) it is
// 200, so the public tables of docs/tabular.md (3–12 steps an epoch) keep
// the patience they were tuned with. It panics if stepsPerEpoch < 1.
func DefaultPatience(stepsPerEpoch int) int {
	if stepsPerEpoch < 1 {
		panic("train: DefaultPatience: fewer than 1 step an epoch")
	}
	return min(MaxDefaultPatience, max(MinDefaultPatience, (DefaultPatienceSteps+stepsPerEpoch-1)/stepsPerEpoch))
}

// DecayRows is the number of training rows above which DefaultWeightDecay
// shrinks in proportion to 1/rows.
const DecayRows = 1000

// baseDecay is the weight decay by task up to DecayRows rows. Chosen with
// docs/tabular/compare.py on four public tables over 40 seeds of 80/20
// splits, with dropout 0.1 and patience 200 and every feature standardised
// (the default then): for classes 0.03 (Iris 97.00 %, Wine 98.89 %, Breast
// cancer 98.03 % on seeds 1–20, against 96.67 / 97.92 / 97.68 with no
// decay, dropout 0.2 and patience 60; 0.02 and 0.05 are within a few
// tenths); for regression the squared error on a standardised target
// wants stronger shrinkage, 0.1 (Diabetes R² 0.472 against 0.419), which
// for classes cost Iris 5 points in the same search.
var baseDecay = map[data.Kind]float64{data.Classification: 0.03, data.Regression: 0.1}

// DefaultWeightDecay returns the L2 weight decay λ for an MLP trained on
// rows training rows of a table: 0.03 for classes and 0.1 for regression
// up to DecayRows rows (the tables it was chosen on had 96–455), then in
// proportion to 1/rows. The loss is a mean over the rows while the
// penalty is not, so a fixed λ weighs more and more against the data as
// they grow (scikit-learn divides its alpha by the rows for that reason):
// on 100 000 rows the fixed values held a synthetic regression at
// validation R² 0.973 and a 3-class table at 93.2 % against 0.997 and
// 95.1 % with the scaled ones (docs/tabular/large.py).
func DefaultWeightDecay(kind data.Kind, rows int) float64 {
	if rows <= DecayRows {
		return baseDecay[kind]
	}
	return baseDecay[kind] * DecayRows / float64(rows)
}
