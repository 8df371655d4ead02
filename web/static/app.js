// The page: opens a model (a dropped or chosen file, or an example), shows its summary and
// explanation, runs it and times it layer by layer. Everything goes through wgcnn.js, which the
// page also exposes as window.wgcnn for automation.

import * as wgcnn from "./wgcnn.js";

window.wgcnn = wgcnn;

const $ = (id) => document.getElementById(id);
const CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
  "ship", "truck"];

/** What is open: the model, where it came from, and what runs on it. */
const state = {
  model: null,
  label: "",
  /** Inputs that came with the model (the bundled sample images), else null. */
  bundledInputs: null,
  /** Expected outputs that came with the model (Keras's own), else null. */
  bundledExpected: null,
  classes: null,
  /** Whether the WebGPU program of this model has been compiled (its first run does it). */
  compiled: false,
  webgpu: false,
};

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

function busy(button, text) {
  const old = button.textContent;
  button.disabled = true;
  button.textContent = text;
  return () => { button.disabled = false; button.textContent = old; };
}

/** Lets the page paint (a status line, a disabled button) before blocking work. */
const paint = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

const fmt = (x, digits = 4) => (x === null || x === undefined || Number.isNaN(x) ? "–"
  : Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(2) : x.toFixed(digits));
const ms = (x) => (x === null || x === undefined || Number.isNaN(x) ? "–" : `${x.toFixed(x < 10 ? 3 : 1)} ms`);
const shapeText = (shape) => `(${shape.map((d) => (d === null ? "None" : d)).join(", ")})`;

function element(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

// ---------------------------------------------------------------------------------------------
// Opening a model.

/** Opens what `loader` gives: {model} and, for a bundled example, its inputs, expected outputs
 * and class names. `label` says where it came from (a function: once the loader ran). */
async function open(loader, label) {
  showError("");
  const section = $("model");
  section.dataset.state = "loading";
  try {
    const { model, label: _, ...extras } = await loader();
    state.model?.free();
    Object.assign(state, {
      model, label: typeof label === "function" ? label() : label, compiled: false,
      bundledInputs: extras.inputs ?? null,
      bundledExpected: extras.expected ?? null,
      classes: extras.classes ?? null,
    });
    render();
    section.dataset.state = "ready";
  } catch (e) {
    // A bad file: its message, and no half-shown model.
    state.model?.free();
    state.model = null;
    section.hidden = true;
    section.dataset.state = "error";
    showError(e.message ?? String(e));
  }
}

function openFile(file) {
  if (!file) return;
  const synthetic = $("synthetic").checked;
  open(async () => ({ model: await wgcnn.load(file, { name: file.name, syntheticWeights: synthetic }) }),
    file.name);
}

async function fetchBytes(path) {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path}: ${response.status} ${response.statusText}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** The examples that come with the page: models, inputs, and Keras's outputs for them. */
const BUNDLED = {
  // Seed 001's CIFAR-10 network as a .keras file, two images, Keras's outputs.
  cifar10: async () => {
    const [model, x, y] = await Promise.all(["models/cifar10.keras", "models/cifar10.input.npy",
      "models/cifar10.output.npy"].map(fetchBytes));
    return {
      label: "cifar10.keras (bundled)",
      model: await wgcnn.load(model, { name: "cifar10.keras" }),
      inputs: [await wgcnn.readNpy(x, "cifar10.input.npy")],
      expected: { arrays: [await wgcnn.readNpy(y, "cifar10.output.npy")], source: "Keras's output (cifar10.output.npy)" },
      classes: CIFAR10_CLASSES,
    };
  },
  // keras.applications.MobileNetV2 (architecture only) with wgcnn's synthetic weights, which
  // tools/keras_random.py gave Keras too, on the seeded random input, against Keras's output:
  // within 1e-4 of the output's largest magnitude, as `wgcnn demo` checks it.
  mobilenetv2: async () => {
    const [model, y] = await Promise.all(["models/mobilenetv2.json", "models/mobilenetv2.output.npy"].map(fetchBytes));
    const m = await wgcnn.load(model, { name: "mobilenetv2.json", syntheticWeights: true });
    const keras = await wgcnn.readNpy(y, "mobilenetv2.output.npy");
    const scale = keras.data.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
    return {
      label: "keras.applications.MobileNetV2, 128×128 (bundled architecture, synthetic weights)",
      model: m,
      inputs: m.syntheticInputs(1),
      expected: { arrays: [keras], source: "Keras's output (mobilenetv2.output.npy)", tolerance: { rtol: 0, atol: 1e-4 * scale } },
      classes: null,
    };
  },
};

async function openExample(value) {
  const bundled = BUNDLED[value];
  if (bundled) {
    let label = value;
    await open(async () => {
      const example = await bundled();
      label = example.label;
      return example;
    }, () => label);
  } else {
    await open(async () => ({ model: await wgcnn.example(Number(value)) }), `seed example ${value}`);
  }
}

function render() {
  const m = state.model;
  $("model").hidden = false;
  $("model-name").textContent = `${m.name} — ${state.label}`;
  const io = (list) => list.map((t) => `${t.name} ${shapeText(t.shape)} ${t.dtype}`).join(", ");
  const lines = [`inputs: ${io(m.inputs)}`, `outputs: ${io(m.outputs)}`];
  const cannot = m.cannotRun;
  if (cannot.length) lines.push(`described but not computed here: ${cannot.join(", ")}`);
  if (!m.hasWeights) lines.push("no weights in this file: tick 'synthetic weights' and open it again to run it");
  $("model-io").textContent = lines.join("\n");
  $("summary").textContent = m.summary(80);
  $("explain").textContent = m.explain();
  const bundled = state.bundledInputs !== null;
  const kind = $("input-kind");
  kind.querySelector("option[value=bundled]")?.remove();
  if (bundled) {
    kind.prepend(element("option", { value: "bundled" }, "the example's input (Keras's output known)"));
    kind.value = "bundled";
  } else if (kind.value === "bundled") {
    kind.value = "random";
  }
  kind.dispatchEvent(new Event("change"));
  $("expected-file").value = "";
  $("run-result").replaceChildren();
  $("bench-result").replaceChildren();
  const runnable = !cannot.length && m.hasWeights;
  $("run").disabled = !runnable;
  $("bench").disabled = !runnable;
}

// ---------------------------------------------------------------------------------------------
// Running.

async function inputs() {
  const m = state.model;
  const kind = $("input-kind").value;
  if (kind === "bundled") return state.bundledInputs;
  if (kind === "file") {
    const file = $("input-file").files[0];
    if (!file) throw new Error("choose the input .npy file (or use a seeded random input)");
    if (m.inputs.length !== 1) {
      throw new Error(`this model has ${m.inputs.length} inputs: use a seeded random input`);
    }
    return [await wgcnn.readNpy(file, file.name)];
  }
  const batch = Math.max(1, Math.min(64, Number($("batch").value) || 1));
  return m.syntheticInputs(batch);
}

async function expected() {
  const file = $("expected-file").files[0];
  if (file) return { arrays: [await wgcnn.readNpy(file, file.name)], source: file.name };
  if ($("input-kind").value === "bundled" && state.bundledExpected) return state.bundledExpected;
  return null;
}

function stats(data) {
  let min = Infinity; let max = -Infinity; let sum = 0; let nonFinite = 0;
  for (const v of data) {
    if (!Number.isFinite(v)) { nonFinite += 1; continue; }
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const n = data.length - nonFinite;
  return { min: n ? min : NaN, max: n ? max : NaN, mean: n ? sum / n : NaN, nonFinite };
}

/** Top-k of each example of a (batch, classes) output. */
function topK(y, k, classes) {
  const [batch, n] = y.shape;
  const table = element("table", { class: "topk" });
  table.append(element("tr", {}, element("th", {}, "example"),
    ...Array.from({ length: Math.min(k, n) }, (_, i) => element("th", {}, `#${i + 1}`))));
  for (let b = 0; b < Math.min(batch, 8); b += 1) {
    const row = Array.from(y.data.subarray(b * n, (b + 1) * n), (v, i) => [v, i])
      .sort((p, q) => q[0] - p[0]).slice(0, k);
    table.append(element("tr", {}, element("td", {}, String(b)),
      ...row.map(([v, i]) => element("td", {}, `${classes?.[i] ?? i} `, element("span", { class: "score" }, fmt(v, 3))))));
  }
  return table;
}

/**
 * Runs `body(out)` for a button: the button disabled with `text`, `out` emptied and marked
 * running, then done or error (the message shown); what the browser test waits on.
 */
async function action(button, text, out, body) {
  const done = busy(button, text);
  out.replaceChildren();
  out.dataset.state = "running";
  showError("");
  try {
    await body(out);
    out.dataset.state = "done";
  } catch (e) {
    out.dataset.state = "error";
    showError(e.message ?? String(e));
  } finally {
    done();
  }
}

function run() {
  return action($("run"), "Running…", $("run-result"), async (out) => {
    const backend = $("backend").value;
    const xs = await inputs();
    const want = await expected();
    await paint();
    const first = backend === "webgpu" && !state.compiled;
    const t0 = performance.now();
    const ys = await state.model.predict(xs, { backend });
    const took = performance.now() - t0;
    if (backend === "webgpu") state.compiled = true;
    const where = backend === "webgpu" ? (await wgcnn.adapter()) : "CPU reference (wasm, one thread)";
    out.append(element("p", { class: "timing" }, `${ms(took)} on ${where}`
      + (first ? " (the first WebGPU run of a model includes compiling its kernels: run again for the steady time)" : "")));
    for (const [k, y] of ys.entries()) {
      const s = stats(y.data);
      const block = element("div", { class: "output", "data-output": y.name });
      block.append(element("h3", {}, `${y.name} ${shapeText(y.shape)}`),
        element("p", {}, `min ${fmt(s.min)}, max ${fmt(s.max)}, mean ${fmt(s.mean)}`
          + (s.nonFinite ? `, ${s.nonFinite} not finite` : "")));
      if (y.shape.length === 2 && y.shape[1] > 1 && y.shape[1] <= 1000) {
        block.append(topK(y, 5, y.shape[1] === state.classes?.length ? state.classes : null));
      }
      if (want) {
        const e = want.arrays[k];
        if (!e) throw new Error(`${want.source} has no array for output ${k} (${y.name})`);
        const tolerance = want.tolerance ?? { rtol: 1e-5, atol: 1e-6 };
        const c = await wgcnn.compare(y, e, tolerance);
        const verdict = element("p", { class: `compare ${c.allClose ? "ok" : "bad"}`, "data-all-close": String(c.allClose) },
          `against ${want.source}: max |diff| ${fmt(c.maxAbs)}, max relative ${fmt(c.maxRel)}, `
          + `${c.beyond} of ${c.count} beyond atol ${fmt(tolerance.atol, 2)} + rtol ${fmt(tolerance.rtol, 2)}: `
          + `${c.allClose ? "match" : "MISMATCH"}`);
        if (c.worst) {
          verdict.append(element("br"), `worst at ${shapeText(c.worst.index)}: got ${c.worst.actual}, expected ${c.worst.expected}`);
        }
        block.append(verdict);
      }
      out.append(block);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Timing layer by layer.

function benchChart(layers, key) {
  // One row per timed layer: WebGPU (device time where known, else host) against the reference.
  const rows = layers.filter((l) => l.fusedInto === null && (l[key] !== null || l.reference !== null));
  const width = 720; const label = 220; const bar = 9; const gap = 6;
  const height = rows.length * (2 * bar + gap) + 30;
  const max = Math.max(1e-9, ...rows.flatMap((l) => [l[key] ?? 0, l.reference ?? 0]));
  const scale = (v) => Math.log10(1 + 1000 * v / max) / Math.log10(1001) * (width - label - 70);
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("class", "chart");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "time per layer, WebGPU against the CPU reference");
  const add = (tag, attrs, text) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    svg.append(e);
  };
  rows.forEach((l, i) => {
    const y = 20 + i * (2 * bar + gap);
    add("text", { x: label - 6, y: y + bar + 3, "text-anchor": "end", class: "label" }, l.name);
    [[l[key], "gpu"], [l.reference, "ref"]].forEach(([v, cls], j) => {
      if (v === null) return;
      add("rect", { x: label, y: y + j * bar, width: Math.max(1, scale(v)), height: bar - 1, class: cls });
      add("text", { x: label + scale(v) + 4, y: y + j * bar + bar - 2, class: "value" }, ms(v));
    });
  });
  add("rect", { x: label, y: 4, width: 10, height: 8, class: "gpu" });
  add("text", { x: label + 14, y: 12, class: "value" }, key === "webgpuDevice" ? "WebGPU (device time)" : "WebGPU (host time)");
  add("rect", { x: label + 180, y: 4, width: 10, height: 8, class: "ref" });
  add("text", { x: label + 194, y: 12, class: "value" }, "CPU reference (wasm) — logarithmic scale");
  return svg;
}

function bench() {
  return action($("bench"), "Timing…", $("bench-result"), async (out) => {
    await paint();
    const batch = Math.max(1, Math.min(64, Number($("bench-batch").value) || 1));
    const repeat = Math.max(1, Math.min(100, Number($("bench-repeat").value) || 5));
    const r = await state.model.bench({ batch, repeat });
    state.compiled = true;
    const device = r.webgpu.device !== null;
    const key = device ? "webgpuDevice" : "webgpuHost";
    out.append(element("p", { class: "timing" },
      r.adapter === null
        ? `WebGPU: not measured (${r.adapterError}). CPU reference: ${ms(r.reference)} per pass.`
        : `Whole pass, batch ${r.batch}, median of ${r.repeat}: WebGPU ${ms(r.webgpu.host)} host`
          + (device ? `, ${ms(r.webgpu.device)} device` : " (no timestamp queries here: host time only)")
          + `; CPU reference ${ms(r.reference)}. Adapter: ${await wgcnn.adapter()}.`));
    out.append(benchChart(r.layers, key));
    const table = element("table", { class: "bench" });
    table.append(element("tr", {}, ...["layer", "class", "WebGPU host", "WebGPU device", "reference"].map((h) => element("th", {}, h))));
    for (const l of r.layers) {
      const fused = l.fusedInto === null ? null : `fused into ${l.fusedInto}`;
      table.append(element("tr", {}, element("td", {}, l.name), element("td", {}, l.className),
        element("td", {}, fused ?? ms(l.webgpuHost)), element("td", {}, fused ?? ms(l.webgpuDevice)),
        element("td", {}, ms(l.reference))));
    }
    out.append(table);
  });
}

// ---------------------------------------------------------------------------------------------
// Wiring.

function wire() {
  const drop = $("drop");
  for (const kind of ["dragenter", "dragover"]) {
    drop.addEventListener(kind, (e) => { e.preventDefault(); drop.classList.add("over"); });
  }
  for (const kind of ["dragleave", "drop"]) {
    drop.addEventListener(kind, () => drop.classList.remove("over"));
  }
  drop.addEventListener("drop", (e) => { e.preventDefault(); openFile(e.dataTransfer.files[0]); });
  $("model-file").addEventListener("change", (e) => openFile(e.target.files[0]));
  $("example").addEventListener("change", (e) => openExample(e.target.value));
  $("input-kind").addEventListener("change", (e) => {
    $("input-file").hidden = e.target.value !== "file";
    $("batch-label").hidden = e.target.value !== "random";
  });
  $("run").addEventListener("click", run);
  $("bench").addEventListener("click", bench);
  for (const tab of document.querySelectorAll("[role=tab]")) {
    tab.addEventListener("click", () => {
      for (const t of document.querySelectorAll("[role=tab]")) {
        t.setAttribute("aria-selected", String(t === tab));
        $(`tab-${t.dataset.tab}`).hidden = t !== tab;
      }
    });
  }
}

async function start() {
  wire();
  try {
    await wgcnn.ready();
  } catch (e) {
    showError(`the wasm module did not load: ${e.message ?? e}`);
    return;
  }
  for (const ex of await wgcnn.examples()) {
    $("example").append(element("option", { value: String(ex.index) }, ex.description));
  }
  const status = $("adapter");
  const [adapter, why] = [await wgcnn.adapter(), await wgcnn.adapterError()];
  state.webgpu = adapter !== null;
  if (adapter !== null) {
    status.textContent = `WebGPU adapter: ${adapter}`;
    status.dataset.state = "webgpu";
  } else {
    status.textContent = `No WebGPU here: ${why}. The summary and explanation still work, and models run on the CPU reference.`;
    status.dataset.state = "no-webgpu";
    $("backend").value = "reference";
    $("backend").querySelector("option[value=webgpu]").disabled = true;
  }
  await openExample("cifar10");
  document.body.dataset.state = "ready";
}

start();
