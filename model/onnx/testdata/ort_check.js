// Run ONNX files with onnxruntime and compare with the outputs recorded
// beside them (NAME.json: flowgrad's predictions for flowgrad_*.onnx,
// PyTorch's for torch_*.onnx), to the tolerance of the Go tests:
// |got − want| ≤ 2e-5 · (1 + |want|) per value.
//
//   mkdir -p /tmp/ort && (cd /tmp/ort && npm install --ignore-scripts onnxruntime-node@1.30.0)
//   NODE_PATH=/tmp/ort/node_modules node model/onnx/testdata/ort_check.js model/onnx/testdata/*.onnx
//
// (--ignore-scripts: the install script only fetches GPU libraries; the CPU
// runtime ships inside the package.) Exits 1 if any file fails.
const fs = require("fs");
const ort = require("onnxruntime-node");

const tolerance = 2e-5;

async function check(path) {
  const rec = JSON.parse(fs.readFileSync(path.replace(/\.onnx$/, ".json"), "utf8"));
  const session = await ort.InferenceSession.create(path, { logSeverityLevel: 3 });
  const rows = rec.inputs.length, cols = rec.inputs[0].length;
  const x = new ort.Tensor("float32", Float32Array.from(rec.inputs.flat()), [rows, cols]);
  const out = await session.run({ [session.inputNames[0]]: x });
  const got = out[session.outputNames[0]].data, want = rec.outputs.flat();
  if (got.length !== want.length) throw new Error(`${got.length} outputs, want ${want.length}`);
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
  }
  if (!(worst <= tolerance)) throw new Error(`largest relative difference ${worst.toExponential(2)} > ${tolerance}`);
  const who = rec.torch ? `PyTorch ${rec.torch}` : "flowgrad";
  return `${rows}×${cols} → ${out[session.outputNames[0]].dims.join("×")}, largest relative difference to ${who} ${worst.toExponential(1)}`;
}

(async () => {
  console.log(`onnxruntime ${ort.env.versions.node}`);
  let failed = 0;
  for (const path of process.argv.slice(2)) {
    try {
      console.log(`ok   ${path}: ${await check(path)}`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${path}: ${e.message}`);
    }
  }
  process.exit(failed ? 1 : 0);
})();
