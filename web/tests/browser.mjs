// The browser test: web/dist (built by web/build.sh) served on localhost, opened in Debian's
// Chromium, headless, with WebGPU on SwiftShader (Chrome's own WGSL compiler, Tint, and a
// software Vulkan), driven by playwright-core. Checks the page and the module against files
// made by real Keras (tests/fixtures/models, tools/gen_keras_models.py):
//  - every WGSL kernel compiles in Tint;
//  - the bundled CIFAR-10 model: Keras's summary character for character, Keras's outputs on
//    WebGPU and on the wasm reference, the bench view; keras.applications.MobileNetV2's output;
//  - a .keras file dropped on the page and one chosen with the file picker: Keras's summary,
//    Keras's outputs within the native tests' tolerances; a two-input, two-output model by name;
//  - an architecture JSON (no weights), a bad file and a wrong input: one clear message each,
//    and the page keeps working;
//  - a browser without WebGPU: said plainly, and summary, explain and the reference still work;
//  - the fuzz corpora, every model fixture and damaged copies of them (about 250 files): each
//    loads or gives an Error, never a wasm trap, and what loads runs on both backends.
// No WebGPU adapter fails the test: it never skips. Writes a screenshot (argument 1, else
// web/dist/screenshot.png).
//
// Usage: (cd web && npm ci && npm test [-- SCREENSHOT.png]); CHROMIUM=/path/to/chrome overrides
// /usr/bin/chromium.

import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const web = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const dist = path.join(web, "dist");
const fixtures = path.join(web, "..", "tests", "fixtures", "models");
const screenshot = process.argv[2] ?? path.join(dist, "screenshot.png");
const fixture = (name) => fs.readFileSync(path.join(fixtures, name));
// What the native tests allow against Keras for these models (tests/cli.rs, `run --compare`).
const TOLERANCE = { rtol: 1e-4, atol: 2e-5 };

if (!fs.existsSync(path.join(dist, "pkg", "wgcnn_wasm_bg.wasm"))) {
  console.error("web/dist has no build: run web/build.sh first");
  process.exit(1);
}

// --- a static server: the site at /, the Keras fixtures at /fixtures/ ---------------------------
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css",
  ".wasm": "application/wasm", ".json": "application/json" };
const server = http.createServer((req, res) => {
  const url = decodeURIComponent(new URL(req.url, "http://localhost").pathname);
  const [root, rest] = url.startsWith("/fixtures/") ? [fixtures, url.slice(10)] : [dist, url.slice(1)];
  const file = path.resolve(root, rest || "index.html");
  if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream" });
  fs.createReadStream(file).pipe(res);
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const site = `http://127.0.0.1:${server.address().port}/`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader",
    "--enable-features=Vulkan", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-quic"],
});

let failures = 0;
async function check(name, body) {
  const started = Date.now();
  try {
    await body();
    console.log(`ok   ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (e) {
    failures += 1;
    console.log(`FAIL ${name}\n${e.stack ?? e}`);
  }
}

async function openPage({ webgpu = true } = {}) {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  page.on("pageerror", (e) => console.log(`  page error: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error" && !m.text().includes("404")) console.log(`  console: ${m.text()}`); });
  if (!webgpu) {
    // A browser without WebGPU: navigator.gpu is missing.
    await page.addInitScript(() => Object.defineProperty(Navigator.prototype, "gpu", { get: () => undefined }));
  }
  await page.goto(site);
  await page.waitForFunction(() => document.body.dataset.state === "ready"
    || !document.getElementById("error").hidden, null, { timeout: 120_000 });
  assert.equal(await page.textContent("#error"), "", "the page opened with an error");
  return page;
}

const text = (page, selector) => page.textContent(selector);
const tab = (page, name) => page.click(`[data-tab=${name}]`);

async function runOnPage(page, backend) {
  await tab(page, "run");
  await page.selectOption("#backend", backend);
  await page.click("#run");
  await page.waitForFunction(() => ["done", "error"].includes(document.getElementById("run-result").dataset.state),
    null, { timeout: 300_000 });
  assert.equal(await text(page, "#error"), "", `run on ${backend} failed`);
}

/** Opens `name` from the fixtures through the file picker. */
async function pick(page, name, { synthetic = false } = {}) {
  await page.setChecked("#synthetic", synthetic);
  await page.setInputFiles("#model-file", { name, mimeType: "application/octet-stream", buffer: fixture(name) });
  await page.waitForFunction(() => ["ready", "error"].includes(document.getElementById("model").dataset.state)
    && document.getElementById("model").dataset.state !== "loading", null, { timeout: 60_000 });
}

/** Drops `bytes` as a file named `name` on the drop zone, as a visitor's drag and drop does. */
async function drop(page, name, bytes) {
  const dataTransfer = await page.evaluateHandle(({ name, data }) => {
    const t = new DataTransfer();
    t.items.add(new File([new Uint8Array(data)], name));
    return t;
  }, { name, data: [...bytes] });
  await page.evaluate(() => { document.getElementById("model").dataset.state = "loading"; });
  await page.dispatchEvent("#drop", "drop", { dataTransfer });
  await page.waitForFunction(() => document.getElementById("model").dataset.state !== "loading",
    null, { timeout: 60_000 });
}

/** Runs `file` on `backend` through window.wgcnn and compares each output with Keras's. */
async function predictMatchesKeras(page, model, inputs, outputs, backend) {
  const arrays = (names) => Object.fromEntries(names.map(([key, file]) => [key, [...fixture(file)]]));
  return page.evaluate(async ({ model, inputs, outputs, backend, tolerance }) => {
    const w = window.wgcnn;
    const m = await w.load(new Uint8Array(model), { name: "fixture.keras" });
    const x = {};
    for (const [name, bytes] of Object.entries(inputs)) x[name] = await w.readNpy(new Uint8Array(bytes), name);
    const ys = await m.predict(m.inputs.length === 1 ? Object.values(x)[0] : x, { backend });
    const report = [];
    for (const y of ys) {
      const want = await w.readNpy(new Uint8Array(outputs[y.name]), y.name);
      report.push({ name: y.name, ...(await w.compare(y, want, tolerance)) });
    }
    m.free();
    return report;
  }, { model: [...fixture(model)], inputs: arrays(inputs), outputs: arrays(outputs), backend, tolerance: TOLERANCE });
}

const page = await openPage();

await check("WebGPU is there (SwiftShader) and every WGSL kernel compiles in Tint", async () => {
  assert.equal(await page.getAttribute("#adapter", "data-state"), "webgpu",
    `no WebGPU adapter: ${await text(page, "#adapter")}`);
  const report = await page.evaluate(() => window.wgcnn.checkKernels());
  assert.ok(report.length >= 20, `${report.length} kernels`);
  const failed = report.filter((r) => r.error !== null).map((r) => `${r.name}: ${r.error}`);
  assert.deepEqual(failed, [], failed.join("\n"));
});

await check("the bundled CIFAR-10 model: Keras's summary, and Keras's outputs on WebGPU and the reference", async () => {
  assert.equal(await text(page, "#summary"), fixture("cifar10.summary.txt").toString());
  assert.match(await text(page, "#explain"), /conv2d \(Conv2D\)/);
  for (const backend of ["webgpu", "reference"]) {
    await runOnPage(page, backend);
    const verdict = await page.getAttribute("#run-result .compare", "data-all-close");
    assert.equal(verdict, "true", `${backend}: ${await text(page, "#run-result")}`);
  }
});

await check("keras.applications.MobileNetV2 (bundled architecture, synthetic weights): Keras's output on WebGPU and the reference", async () => {
  await page.selectOption("#example", "mobilenetv2");
  await page.waitForFunction(() => document.getElementById("model").dataset.state === "ready", null, { timeout: 120_000 });
  assert.equal(await text(page, "#error"), "");
  assert.match(await text(page, "#summary"), /Total params: 3,538,984/);
  for (const backend of ["webgpu", "reference"]) {
    await runOnPage(page, backend);
    const verdict = await page.getAttribute("#run-result .compare", "data-all-close");
    assert.equal(verdict, "true", `${backend}: ${await text(page, "#run-result")}`);
  }
  await page.selectOption("#example", "cifar10");
  await page.waitForFunction(() => document.getElementById("model").dataset.state === "ready", null, { timeout: 60_000 });
});

await check("the bench view times each layer on WebGPU and the reference", async () => {
  await tab(page, "bench");
  await page.fill("#bench-repeat", "2");
  await page.click("#bench");
  await page.waitForFunction(() => ["done", "error"].includes(document.getElementById("bench-result").dataset.state),
    null, { timeout: 300_000 });
  assert.equal(await text(page, "#error"), "");
  const rows = await page.$$eval("table.bench tr", (trs) => trs.slice(1).map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.ok(rows.length >= 10, `${rows.length} rows`);
  const conv = rows.find((r) => r[0] === "conv2d");
  assert.ok(conv && /ms$/.test(conv[2]) && /ms$/.test(conv[4]), `conv2d row: ${conv}`);
  assert.ok(await page.$("#bench-result svg.chart rect.gpu"), "no chart");
});

await check("a dropped .keras file: Keras's summary, and Keras's outputs on WebGPU and the reference", async () => {
  await drop(page, "every_layer.keras", fixture("every_layer.keras"));
  assert.equal(await text(page, "#error"), "");
  assert.equal(await text(page, "#summary"), fixture("every_layer.summary.txt").toString());
  for (const backend of ["webgpu", "reference"]) {
    const report = await predictMatchesKeras(page, "every_layer.keras",
      [["input_layer_10", "every_layer.input.npy"]], [["softmax", "every_layer.output.npy"]], backend);
    assert.equal(report.length, 1);
    assert.ok(report.every((r) => r.allClose), `${backend}: ${JSON.stringify(report)}`);
  }
});

await check("a two-input, two-output model chosen with the file picker, inputs by name", async () => {
  await pick(page, "two_heads.keras");
  assert.equal(await text(page, "#error"), "");
  assert.equal(await text(page, "#summary"), fixture("two_heads.summary.txt").toString());
  for (const backend of ["webgpu", "reference"]) {
    const report = await predictMatchesKeras(page, "two_heads.keras",
      [["image", "two_heads.image.npy"], ["ids", "two_heads.ids.npy"]],
      [["probs", "two_heads.probs.npy"], ["score", "two_heads.score.npy"]], backend);
    assert.deepEqual(report.map((r) => r.name), ["probs", "score"]);
    assert.ok(report.every((r) => r.allClose), `${backend}: ${JSON.stringify(report)}`);
  }
  // The page runs it too, on seeded random inputs.
  await runOnPage(page, "webgpu");
  assert.equal(await page.$$eval("#run-result .output", (o) => o.length), 2);
});

await check("an architecture JSON: the summary, and a run only with synthetic weights", async () => {
  await pick(page, "every_layer.json");
  assert.equal(await text(page, "#summary"), fixture("every_layer.summary.txt").toString());
  assert.match(await text(page, "#model-io"), /no weights/);
  assert.equal(await page.isDisabled("#run"), true);
  await pick(page, "every_layer.json", { synthetic: true });
  assert.equal(await page.isDisabled("#run"), false);
  await runOnPage(page, "webgpu");
  assert.match(await text(page, "#run-result"), /softmax \(1, 5\)/);
});

await check("a bad file and a wrong input give one clear message, and the page keeps working", async () => {
  await drop(page, "bad.keras", Buffer.from("PK\u0003\u0004 this is not a zip archive"));
  const message = await text(page, "#error");
  assert.match(message, /^bad\.keras: /, message);
  assert.equal(await page.isHidden("#model"), true, "a bad file left a model on the page");
  await pick(page, "broken_wrong_shape.keras");
  assert.match(await text(page, "#error"), /broken_wrong_shape\.keras: .*shape/, await text(page, "#error"));
  const wrong = await page.evaluate(async () => {
    const m = await window.wgcnn.example(0);
    return m.predict({ data: new Float32Array(12), shape: [1, 2, 2, 3] }).then(() => "resolved", (e) => e.message);
  });
  assert.match(wrong, /input .*shape/, wrong);
  const garbage = await page.evaluate(async () => {
    const m = await window.wgcnn.example(0);
    const tries = [{ data: "text", shape: [1] }, { data: new Float32Array(4), shape: [2, -2] }, 7];
    return Promise.all(tries.map((x) => m.predict(x).then(() => "resolved", (e) => e.message)));
  });
  assert.match(garbage[0], /data must be/, garbage[0]);
  assert.match(garbage[1], /not a size/, garbage[1]);
  assert.match(garbage[2], /expected \{data, shape\}/, garbage[2]);
  // A config of a few bytes declaring a 1.1 GB kernel: summarised; with synthetic weights
  // refused before anything is allocated (a failed allocation would abort the wasm module).
  const huge = fixture("seed003_conv_chain.json").toString().replace('"filters": 35', '"filters": 500000');
  await page.setInputFiles("#model-file", { name: "huge.json", mimeType: "application/json", buffer: Buffer.from(huge) });
  await page.waitForFunction(() => document.getElementById("model").dataset.state === "ready", null, { timeout: 60_000 });
  assert.match(await text(page, "#summary"), /Total params: 275,501,045 \(1\.03 GB\)/);
  await page.setChecked("#synthetic", true);
  await page.setInputFiles("#model-file", { name: "huge2.json", mimeType: "application/json", buffer: Buffer.from(huge) });
  await page.waitForFunction(() => document.getElementById("model").dataset.state === "error", null, { timeout: 60_000 });
  assert.match(await text(page, "#error"), /^huge2\.json: synthetic weight .* needs 1100000000 bytes, more than the CPU memory limit/, await text(page, "#error"));
  await page.setChecked("#synthetic", false);
  await page.selectOption("#example", "cifar10");
  await page.waitForFunction(() => document.getElementById("model").dataset.state === "ready", null, { timeout: 60_000 });
  assert.equal(await text(page, "#error"), "");
  assert.equal(await text(page, "#summary"), fixture("cifar10.summary.txt").toString());
});

await check("the seed examples open with the shapes and parameter counts of the seed documents", async () => {
  await page.selectOption("#example", "0");
  await page.waitForFunction(() => document.getElementById("model").dataset.state === "ready", null, { timeout: 60_000 });
  const summary = await text(page, "#summary");
  assert.match(summary, /\(None, 100, 100, 16\)\s+│\s+80 │/, summary);
  await runOnPage(page, "webgpu");
  assert.match(await text(page, "#run-result"), /\(1, 100, 100, 16\)/);
});

await check("without WebGPU: said plainly; summary, explain and the reference still work", async () => {
  const plain = await openPage({ webgpu: false });
  assert.equal(await plain.getAttribute("#adapter", "data-state"), "no-webgpu");
  assert.match(await text(plain, "#adapter"), /No WebGPU here: .*navigator\.gpu/);
  assert.equal(await text(plain, "#summary"), fixture("cifar10.summary.txt").toString());
  await runOnPage(plain, "reference");
  assert.equal(await plain.getAttribute("#run-result .compare", "data-all-close"), "true");
  const rejected = await plain.evaluate(async () => {
    const m = await window.wgcnn.example(0);
    const x = m.syntheticInputs(1);
    return m.predict(x, { backend: "webgpu" }).then(() => "resolved", (e) => e.message);
  });
  assert.match(rejected, /no WebGPU/, rejected);
  await plain.close();
});

await check("fuzzed and hostile files: an Error each, never a trap, and the module keeps working", async () => {
  // The fuzz targets' corpora and past findings, every model fixture, and damaged copies of
  // each binary one: cut short, and with bytes overwritten (a fixed pseudo-random sequence).
  const root = path.join(web, "..");
  const walk = (dir) => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]);
  const files = ["tests/fixtures", "models", "fuzz/corpus/config", "fuzz/corpus/keras", "fuzz/regressions/config"]
    .flatMap((d) => walk(path.join(root, d)))
    .filter((f) => /\.(keras|json|h5)$/.test(f)).sort();
  let state = 0x2545f491;
  const next = () => { state ^= state << 13; state ^= state >>> 17; state ^= state << 5; return state >>> 0; };
  const cases = [];
  for (const f of files) {
    const bytes = fs.readFileSync(f);
    const name = path.relative(root, f);
    cases.push([name, bytes]);
    if (f.endsWith(".json")) continue;
    for (const cut of [0.1, 0.5, 0.9, 0.99]) cases.push([`${name} cut at ${cut}`, bytes.subarray(0, Math.floor(bytes.length * cut))]);
    for (let k = 0; k < 8; k += 1) {
      const damaged = Buffer.from(bytes);
      for (let j = 0; j < 4; j += 1) damaged[next() % damaged.length] = next() & 255;
      cases.push([`${name} damaged ${k}`, damaged]);
    }
  }
  assert.ok(cases.length >= 200, `${cases.length} cases`);
  const report = await page.evaluate(async (cases) => {
    const w = window.wgcnn;
    const out = { loaded: 0, refused: 0, ran: 0, traps: [] };
    for (const [name, data] of cases) {
      let m;
      try {
        m = await w.load(new Uint8Array(data), { name: name.split(" ")[0].split("/").pop() });
        m.summary(); m.explain();
        out.loaded += 1;
      } catch (e) {
        if (e instanceof WebAssembly.RuntimeError || !(e instanceof Error) || !e.message) {
          out.traps.push(`${name}: load: ${e}`);
        }
        out.refused += 1;
        continue;
      }
      // Small models with weights also run, on both backends.
      if (m.hasWeights && m.cannotRun.length === 0 && (JSON.parse(m.summaryJson()).total_params ?? 0) < 2e6) {
        for (const backend of ["reference", "webgpu"]) {
          try {
            await m.predict(m.syntheticInputs(1), { backend });
            out.ran += 1;
          } catch (e) {
            if (e instanceof WebAssembly.RuntimeError || !(e instanceof Error) || !e.message) {
              out.traps.push(`${name}: ${backend}: ${e}`);
            }
          }
        }
      }
      m.free();
    }
    return out;
  }, cases.map(([n, b]) => [n, [...b]]));
  assert.deepEqual(report.traps, [], report.traps.join("\n"));
  assert.ok(report.loaded >= 40 && report.refused >= 100 && report.ran >= 20, JSON.stringify(report));
  console.log(`     ${cases.length} files: ${report.loaded} loaded, ${report.refused} refused, ${report.ran} runs`);
  // Still alive: the bundled model loads and matches Keras again.
  await page.selectOption("#example", "cifar10");
  await page.waitForFunction(() => document.getElementById("model").dataset.state === "ready", null, { timeout: 60_000 });
  await runOnPage(page, "webgpu");
  assert.equal(await page.getAttribute("#run-result .compare", "data-all-close"), "true");
});

// The screenshot: the bundled model, run on WebGPU.
await page.selectOption("#example", "cifar10");
await page.waitForFunction(() => document.getElementById("model").dataset.state === "ready", null, { timeout: 60_000 });
await runOnPage(page, "webgpu");
await page.screenshot({ path: screenshot, fullPage: false });
await browser.close();
server.close();
console.log(failures ? `${failures} check(s) failed` : "all browser checks passed");
process.exit(failures ? 1 : 0);
