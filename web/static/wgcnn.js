// wgcnn in the browser: Keras models (.keras, legacy .h5, architecture JSON) with Keras's
// summary, the formula behind every shape and parameter count, and the forward pass on WebGPU
// (the WGSL kernels of the native build) or on the plain-loop CPU reference, all in wasm.
//
//   import * as wgcnn from "./wgcnn.js";
//   const m = await wgcnn.load(bytes);                 // Uint8Array, ArrayBuffer, Blob or File
//   m.summary();                                       // what `wgcnn summary` prints
//   m.explain();                                       // what `wgcnn summary --explain` prints
//   m.inputs; m.outputs;                               // [{name, shape, dtype}], batch = null
//   const ys = await m.predict({data, shape});         // or {NAME: {data, shape}, ...}
//   await wgcnn.adapter();                             // the WebGPU adapter, or null
//
// Every error is a thrown Error (a rejected promise for the async calls) carrying wgcnn's
// message.

import init, * as wasm from "./pkg/wgcnn_wasm.js";

let started = null;

/** Loads and instantiates the wasm module (once; every call below does it on demand). */
export function ready() {
  started ??= init({ module_or_path: new URL("./pkg/wgcnn_wasm_bg.wasm", import.meta.url) });
  return started;
}

async function bytesOf(source) {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) {
    return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  }
  if (typeof Blob !== "undefined" && source instanceof Blob) {
    return new Uint8Array(await source.arrayBuffer());
  }
  throw new TypeError("expected the file's bytes: a Uint8Array, an ArrayBuffer, a Blob or a File");
}

/**
 * Reads a model from a `.keras`, legacy `.h5` or architecture-JSON file.
 * options.name: a file name for messages (a File's own name by default);
 * options.syntheticWeights: give every layer deterministic synthetic weights (an architecture
 * JSON carries none), as the CLI's `--synthetic-weights`.
 */
export async function load(source, options = {}) {
  await ready();
  const name = options.name ?? source?.name ?? "model";
  return new Model(wasm.load(await bytesOf(source), String(name), !!options.syntheticWeights));
}

/** The worked examples of the seed documents: [{index, description}]. */
export async function examples() {
  await ready();
  return wasm.examples();
}

/** Seed example `index` as a model with synthetic weights. */
export async function example(index) {
  await ready();
  return new Model(wasm.example(index));
}

/**
 * The WebGPU adapter wgcnn runs on, described in one line ("google swiftshader, cpu, device
 * time from timestamp queries"); null without WebGPU (`adapterError()` says why).
 */
export async function adapter() {
  const info = await adapterInfo();
  if (info === null) return null;
  const name = [info.name, info.driver, info.driverInfo].filter((s) => s).join(", ");
  return `${name || "unnamed adapter"}, ${info.deviceType}, `
    + (info.deviceTime ? "device time from timestamp queries" : "no timestamp queries (host time only)");
}

/**
 * The adapter as {name, driver, driverInfo, deviceType, deviceTime}, or null without WebGPU.
 * Where wgpu gets no name, the browser's own adapter info (vendor, architecture, description)
 * names it.
 */
export async function adapterInfo() {
  await ready();
  const info = await wasm.adapter();
  if (info === null || info.name) return info;
  try {
    const a = await navigator.gpu.requestAdapter();
    const i = a?.info ?? {};
    info.name = [i.vendor, i.architecture, i.device, i.description].filter((s) => s).join(" ");
  } catch {
    // Only the name is missing.
  }
  return info;
}

/** Why `adapter()` is null (no WebGPU, no usable adapter), or null when there is one. */
export async function adapterError() {
  await ready();
  return wasm.adapterError();
}

/**
 * Compiles every WGSL kernel wgcnn has on this browser's WebGPU (a model compiles only those
 * it uses): [{name, error}], error null where the browser's shader compiler accepted it.
 */
export async function checkKernels() {
  await ready();
  return wasm.checkKernels();
}

/** wgcnn's version. */
export async function version() {
  await ready();
  return wasm.version();
}

/** Reads a float32 or integer `.npy` file as {name, data: Float32Array, shape}. */
export async function readNpy(source, name = source?.name ?? "array.npy") {
  await ready();
  return wasm.readNpy(await bytesOf(source), String(name));
}

/**
 * How far `actual` is from `expected` ({data, shape} each) against
 * |actual − expected| ≤ atol + rtol·|expected| (defaults of `wgcnn run --compare`):
 * {maxAbs, maxRel, beyond, count, allClose, worst}.
 */
export async function compare(actual, expected, { rtol = 1e-5, atol = 1e-6 } = {}) {
  await ready();
  return wasm.compare(actual, expected, rtol, atol);
}

/** A loaded model. */
export class Model {
  #m;

  constructor(inner) {
    this.#m = inner;
  }

  /** The model's name. */
  get name() { return this.#m.name; }
  /** [{name, shape, dtype}], the shape starting with null for the batch. */
  get inputs() { return this.#m.inputs; }
  /** [{name, shape, dtype}] in the model's output order. */
  get outputs() { return this.#m.outputs; }
  /** Whether the file carried weights (an architecture JSON does not). */
  get hasWeights() { return this.#m.hasWeights; }
  /** The layers wgcnn describes but cannot compute ([] when the model runs). */
  get cannotRun() { return this.#m.cannotRun; }

  /** Keras's summary table for a terminal `columns` wide (80, as printed to a file). */
  summary(columns) { return this.#m.summary(columns); }
  /** Each output shape and parameter count with its formula. */
  explain() { return this.#m.explain(); }
  /** The summary as JSON text (`wgcnn summary --json`). */
  summaryJson() { return this.#m.summaryJson(); }
  /** Seeded synthetic inputs for `batch` examples: [{name, data, shape}]. */
  syntheticInputs(batch = 1) { return this.#m.syntheticInputs(batch); }

  /**
   * The forward pass. `x` is {data, shape} for a one-input model, {NAME: {data, shape}} or an
   * array in input order for several; data a Float32Array, an Int32Array or numbers, shape
   * with the batch first. options.backend: "webgpu" (default) or "reference".
   * Resolves to [{name, data: Float32Array, shape}] in the model's output order.
   */
  async predict(x, { backend = "webgpu" } = {}) {
    return this.#m.predict(this.#ordered(x), String(backend));
  }

  /**
   * Times the model on synthetic inputs: the whole pass and each layer, on WebGPU (host and,
   * where the adapter can, device time) and on the reference. options: batch (1), repeat (5).
   */
  async bench({ batch = 1, repeat = 5 } = {}) {
    return this.#m.bench(batch, repeat);
  }

  /** Frees the model's wasm memory now (else the garbage collector does, eventually). */
  free() { this.#m.free(); }

  #ordered(x) {
    const names = this.inputs.map((i) => i.name);
    if (Array.isArray(x)) return x;
    if (x === null || typeof x !== "object") {
      throw new TypeError("predict: expected {data, shape}, {NAME: {data, shape}} or an array");
    }
    if ("data" in x && "shape" in x) {
      if (names.length !== 1) {
        throw new Error(`predict: the model has ${names.length} inputs (${names.join(", ")}): `
          + "pass {NAME: {data, shape}, ...}");
      }
      return [x];
    }
    const unknown = Object.keys(x).filter((k) => !names.includes(k));
    if (unknown.length) {
      throw new Error(`predict: no input named ${unknown.join(", ")}; inputs: ${names.join(", ")}`);
    }
    const missing = names.filter((n) => !(n in x));
    if (missing.length) throw new Error(`predict: missing input ${missing.join(", ")}`);
    return names.map((n) => x[n]);
  }
}
