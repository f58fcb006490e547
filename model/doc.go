// Package model is a trained model as one file: the architecture, the
// weights, the preprocessing of the input table (standardisation,
// categories, class names) and metadata. [New] assembles a model from a
// trained network and the [data.Preprocessor] fitted on its training rows;
// [Model.Save] writes it, [Load] reads it back in another program into a
// ready model, and [Model.Predict] turns raw table rows into classes with
// probabilities or into values in the target's own units.
//
//	tab, err := data.LoadCSV("new.csv", m.Pre.CSVOptions(nil))
//	...
//	pred, err := m.Predict(tab) // pred.Class[i], pred.Prob.Row(i) or pred.Value.Row(i)
//
// # File format
//
// A model file is a safetensors file (the layout of
// github.com/huggingface/safetensors, which NumPy, PyTorch and other
// ecosystems read):
//
//	N        uint64, little endian: the length of the header
//	header   N bytes of UTF-8 JSON, padded with spaces to a multiple of 8
//	data     the tensors' bytes, back to back
//
// The header maps each parameter's name ("fc1.W", "fc1.b", …) to
// {"dtype":"F32","shape":[rows,cols],"data_offsets":[begin,end]}, with
// offsets into data; float32 values are little endian, row-major. A Linear
// layer's W is in×out (the transpose of PyTorch's weight) and b is 1×out.
// The header's "__metadata__" object holds strings:
//
//	format          "flowgrad.model"
//	version         "1" (Version); other versions are refused
//	spec            the architecture, a layers.Spec as JSON
//	preprocessing   the data.Preprocessor as JSON (its "fill_missing"
//	                and the features' "fill", written only when missing
//	                values are filled in, "min_category_rows" and
//	                "other", written only when rare categories are
//	                grouped, and "extra_targets", written only for a
//	                regression with several targets, are refused as
//	                unknown fields by a flowgrad from before those
//	                options)
//	meta            the user's metadata, a JSON object of strings
//	checksum        "crc32c:" and 8 hex digits: CRC-32C (Castagnoli) of
//	                the data bytes, then of each other metadata entry in
//	                ascending key order as key, a 0 byte, value, a 0 byte
//
// Files are written atomically (a temporary file, synced, renamed), so a
// crash never leaves half a model. Reading checks everything before
// trusting it — the header's bounds, each tensor's size and offsets (back
// to back, covering data exactly), the version, the checksum, the spec,
// the preprocessing and that they fit one another — and returns an error
// wrapping [ErrNotModel], [ErrVersion] or [ErrCorrupt]; no input makes it
// panic.
//
// # Prediction
//
// A Model keeps the buffers its predictions need, so a warm prediction of
// a batch allocates nothing but its result ([Model.PredictInto] with a
// reused result allocates nothing at all). For the same reason a Model is
// not safe for concurrent use: give each goroutine its own [Model.Clone],
// which shares the weights.
package model
