//! The `wgcnn` binary: results on both backends, and every class of bad input exits non-zero
//! with one clear line on stderr, no output file and no panic.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use npyz::WriterBuilder;
use wgcnn::npy::{read_npy, write_npy};
use wgcnn::{reference, Activation, Conv2dSpec, Padding, Pool2dSpec};

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!("wgcnn-cli-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Dir(path)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn npy(&self, name: &str, shape: &[usize]) -> PathBuf {
        let path = self.file(name);
        let mut rng = common::Rng::new(name.len() as u64);
        write_npy(&path, &common::int_tensor(&mut rng, shape, 3)).unwrap();
        path
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The binary with `args`; COLUMNS is cleared so that summaries take Keras's pipe width, and
/// the autotuning cache goes to a temporary directory, not the user's.
fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wgcnn"));
    command.args(args).env_remove("COLUMNS").env(
        "WGCNN_CACHE_DIR",
        std::env::temp_dir().join("wgcnn-cli-test-cache"),
    );
    command
}

/// Runs [`command`].
fn wgcnn(args: &[&str]) -> std::process::Output {
    command(args).output().unwrap()
}

/// A path as a command-line argument (temp paths here are UTF-8).
fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Asserts a successful run (showing its output if not) and returns its stdout.
fn assert_succeeds(out: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Asserts a successful run and parses its stdout as one JSON value per line (`--json`).
fn json_lines(out: &std::process::Output) -> Vec<serde_json::Value> {
    assert_succeeds(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Asserts a failed run: non-zero exit, exactly one `error: ...` line mentioning `needle`, no
/// panic, and no output file.
fn assert_fails(out: std::process::Output, needle: &str, output_file: &Path) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "expected failure, stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {stderr}");
    assert!(
        lines[0].starts_with("error: ") && lines[0].contains(needle),
        "{stderr} should mention {needle}"
    );
    assert!(
        !output_file.exists(),
        "an output file was written despite the error"
    );
}

#[test]
fn conv2d_on_both_backends_matches_the_reference() {
    let dir = Dir::new("conv-ok");
    let x = dir.npy("x.npy", &[2, 7, 6, 3]);
    let k = dir.npy("k.npy", &[3, 2, 3, 4]);
    let b = dir.npy("b.npy", &[4]);
    let spec = Conv2dSpec::new(4, [3, 2])
        .strides([2, 1])
        .padding(Padding::Same)
        .activation(Activation::Relu);
    let expected = reference::conv2d(
        &spec,
        &read_npy(&x).unwrap(),
        &read_npy(&k).unwrap(),
        Some(&read_npy(&b).unwrap()),
    )
    .unwrap();
    for backend in ["gpu", "cpu"] {
        let y = dir.file(&format!("y-{backend}.npy"));
        let out = wgcnn(&[
            "conv2d",
            "--input",
            arg(&x),
            "--kernel",
            arg(&k),
            "--bias",
            arg(&b),
            "--strides",
            "2,1",
            "--padding",
            "same",
            "--activation",
            "relu",
            "--backend",
            backend,
            "--output",
            arg(&y),
        ]);
        assert_succeeds(&out);
        assert_eq!(read_npy(&y).unwrap(), expected, "{backend}");
    }
}

#[test]
fn max_pool2d_strides_default_to_pool_size() {
    let dir = Dir::new("pool-ok");
    let x = dir.npy("x.npy", &[1, 9, 8, 2]);
    let expected = reference::max_pool2d(
        &Pool2dSpec::new([3, 2]).strides([3, 2]),
        &read_npy(&x).unwrap(),
    )
    .unwrap();
    assert_eq!(expected.shape(), &[1, 3, 4, 2]);
    for backend in ["gpu", "cpu"] {
        let y = dir.file(&format!("y-{backend}.npy"));
        let out = wgcnn(&[
            "max-pool2d",
            "--input",
            arg(&x),
            "--pool-size",
            "3,2",
            "--backend",
            backend,
            "--output",
            arg(&y),
        ]);
        assert_succeeds(&out);
        assert_eq!(read_npy(&y).unwrap(), expected, "{backend}");
    }
}

#[test]
fn bad_files_fail_cleanly() {
    let dir = Dir::new("bad-files");
    let y = dir.file("y.npy");
    let k = dir.npy("k.npy", &[3, 3, 1, 2]);

    let missing = dir.file("missing.npy");
    assert_fails(
        wgcnn(&[
            "conv2d",
            "--input",
            arg(&missing),
            "--kernel",
            arg(&k),
            "--output",
            arg(&y),
        ]),
        "missing.npy",
        &y,
    );

    let corrupt = dir.file("corrupt.npy");
    std::fs::write(&corrupt, b"this is not numpy").unwrap();
    assert_fails(
        wgcnn(&[
            "conv2d",
            "--input",
            arg(&corrupt),
            "--kernel",
            arg(&k),
            "--output",
            arg(&y),
        ]),
        "not a valid .npy",
        &y,
    );

    // A valid header whose data is cut short.
    let truncated = dir.npy("truncated.npy", &[1, 5, 5, 1]);
    let bytes = std::fs::read(&truncated).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() - 8]).unwrap();
    assert_fails(
        wgcnn(&[
            "conv2d",
            "--input",
            arg(&truncated),
            "--kernel",
            arg(&k),
            "--output",
            arg(&y),
        ]),
        "truncated.npy",
        &y,
    );

    let f64_file = dir.file("f64.npy");
    let mut w = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&[1, 5, 5, 1])
        .writer(std::fs::File::create(&f64_file).unwrap())
        .begin_nd()
        .unwrap();
    w.extend(std::iter::repeat_n(1.0f64, 25)).unwrap();
    w.finish().unwrap();
    assert_fails(
        wgcnn(&[
            "conv2d",
            "--input",
            arg(&f64_file),
            "--kernel",
            arg(&k),
            "--output",
            arg(&y),
        ]),
        "float32",
        &y,
    );

    let fortran = dir.file("fortran.npy");
    let mut w = npyz::WriteOptions::new()
        .default_dtype()
        .order(npyz::Order::Fortran)
        .shape(&[1, 5, 5, 1])
        .writer(std::fs::File::create(&fortran).unwrap())
        .begin_nd()
        .unwrap();
    w.extend(std::iter::repeat_n(1.0f32, 25)).unwrap();
    w.finish().unwrap();
    assert_fails(
        wgcnn(&[
            "max-pool2d",
            "--input",
            arg(&fortran),
            "--pool-size",
            "2",
            "--output",
            arg(&y),
        ]),
        "Fortran",
        &y,
    );
}

#[test]
fn bad_shapes_and_configs_fail_cleanly() {
    let dir = Dir::new("bad-shapes");
    let y = dir.file("y.npy");
    let x = dir.npy("x.npy", &[1, 5, 5, 3]);
    let x3 = dir.npy("x3.npy", &[5, 5, 3]);
    let k = dir.npy("k.npy", &[3, 3, 3, 2]);
    let k_wrong_c = dir.npy("kc.npy", &[3, 3, 2, 2]);
    let k_rank3 = dir.npy("k3.npy", &[3, 3, 3]);
    let k_big = dir.npy("kbig.npy", &[7, 7, 3, 2]);
    let b3 = dir.npy("b3.npy", &[3]);
    let conv = |extra: &[&str], input: &Path, kernel: &Path| {
        let mut args = vec![
            "conv2d",
            "--input",
            arg(input),
            "--kernel",
            arg(kernel),
            "--output",
            arg(&y),
        ];
        args.extend_from_slice(extra);
        wgcnn(&args)
    };
    assert_fails(conv(&[], &x3, &k), "rank 4", &y);
    assert_fails(conv(&[], &x, &k_rank3), "rank 4", &y);
    assert_fails(
        conv(&[], &x, &k_wrong_c),
        "kernel has shape [3, 3, 2, 2]",
        &y,
    );
    assert_fails(
        conv(&["--bias", arg(&b3)], &x, &k),
        "bias has shape [3]",
        &y,
    );
    assert_fails(conv(&[], &x, &k_big), "output would be empty", &y);
    assert_fails(conv(&["--strides", "0"], &x, &k), "strides", &y);
    assert_fails(
        conv(&["--strides", "2", "--dilation", "2"], &x, &k),
        "cannot be combined",
        &y,
    );
    assert_fails(
        wgcnn(&[
            "max-pool2d",
            "--input",
            arg(&x),
            "--pool-size",
            "6",
            "--output",
            arg(&y),
        ]),
        "output would be empty",
        &y,
    );
}

#[test]
fn adapters_lists_and_marks_the_selected_one() {
    let out = wgcnn(&["adapters"]);
    let stdout = assert_succeeds(&out);
    let selected: Vec<&str> = stdout.lines().filter(|l| l.starts_with('*')).collect();
    assert_eq!(selected.len(), 1, "{stdout}");
    assert!(
        selected[0].contains(&common::gpu().adapter_info().name),
        "{stdout}"
    );
    // Every line says whether the adapter can run wgcnn; the one in use can.
    assert!(selected[0].ends_with("| runs wgcnn"), "{stdout}");
    assert!(
        stdout
            .lines()
            .all(|l| l.ends_with("| runs wgcnn") || l.contains("| cannot run wgcnn: ")),
        "{stdout}"
    );
}

/// `WGCNN_ADAPTER_PCI_BUS_ID` picks an adapter by its PCI address (the GPU a scheduler gave
/// a process on a multi-GPU machine); one that is not an address, or matches no adapter, is a
/// clear error (the software adapters report no address: only the errors are checked here).
#[test]
fn pci_bus_id_errors_say_what_there_is() {
    let dir = Dir::new("pci");
    let model = batch_fixture("classifier.keras");
    let x = dir.npy("x.npy", &[1, 32, 32, 3]);
    let y = dir.file("y.npy");
    let run = |bus: &str| {
        command(&["run", arg(&model), "--input", arg(&x), "--output", arg(&y)])
            .args(["--backend", "gpu"])
            .env("WGCNN_ADAPTER_PCI_BUS_ID", bus)
            .output()
            .unwrap()
    };
    assert_fails(
        run("gpu0"),
        "WGCNN_ADAPTER_PCI_BUS_ID='gpu0' is not a PCI address",
        &y,
    );
    assert_fails(
        run("00000000:FF:1F.7"),
        "WGCNN_ADAPTER_PCI_BUS_ID='00000000:FF:1F.7' matches no adapter that can run wgcnn; \
         adapters: '",
        &y,
    );
}

#[test]
fn demo_runs_the_seed_examples() {
    let out = wgcnn(&["demo"]);
    let stdout = assert_succeeds(&out);
    for needle in [
        "Total params: 1,250,858 (4.77 MB)",
        "156 layers, Total params: 3,538,984",
        "(None, 100, 100, 16)",
        "(None, 17, 47, 35)",
        "19285",
        "51200",
        "GPU == fast CPU == reference exactly",
    ] {
        assert!(
            stdout.contains(needle),
            "demo output lacks {needle}:\n{stdout}"
        );
    }
    // The CIFAR-10 model and MobileNetV2 both agree with Keras.
    assert_eq!(stdout.matches("the outputs agree").count(), 2, "{stdout}");
    assert!(!stdout.contains("MISMATCH"), "{stdout}");
}

fn models(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/models")
        .join(name)
}

/// A model with Conv3D, a custom layer and MultiHeadAttention: `summary` prints Keras's table,
/// `run` fails in one line naming what cannot run.
#[test]
fn summary_describes_what_run_cannot_compute() {
    let custom =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/any_layer/custom.keras");
    for columns in ["80", "200"] {
        let out = command(&["summary", arg(&custom)])
            .env("COLUMNS", columns)
            .output()
            .unwrap();
        let keras =
            std::fs::read_to_string(custom.with_file_name(format!("custom.summary{columns}.txt")))
                .unwrap();
        assert_eq!(assert_succeeds(&out), keras, "COLUMNS={columns}");
    }
    let dir = Dir::new("cannot-run");
    let y = dir.file("y.npy");
    let out = wgcnn(&[
        "run",
        arg(&custom),
        "--backend",
        "cpu",
        "--random-input",
        "--output",
        arg(&y),
    ]);
    assert_fails(
        out,
        "cannot run: wgcnn cannot compute conv3d_3 (Conv3D), channel_scale",
        &y,
    );
}

#[test]
fn summary_prints_keras_table_json_and_explanations() {
    let keras = std::fs::read_to_string(models("cifar10.summary.txt")).unwrap();
    let out = wgcnn(&["summary", arg(&models("cifar10.json"))]);
    assert_eq!(assert_succeeds(&out), keras);

    // In a 120-column terminal Keras draws the table 88 wide; wgcnn follows $COLUMNS the same way.
    let wide = command(&["summary", arg(&models("frozen.json"))])
        .env("COLUMNS", "120")
        .output()
        .unwrap();
    let keras_wide = std::fs::read_to_string(models("frozen.summary120.txt")).unwrap();
    assert_eq!(assert_succeeds(&wide), keras_wide);
    // A model that is not sequential-like (two inputs): min(108, columns − 4), as Keras.
    for columns in ["120", "200"] {
        let wide = command(&["summary", arg(&models("two_heads.json"))])
            .env("COLUMNS", columns)
            .output()
            .unwrap();
        let keras =
            std::fs::read_to_string(models(&format!("two_heads.summary{columns}.txt"))).unwrap();
        assert_eq!(assert_succeeds(&wide), keras, "COLUMNS={columns}");
    }

    let out = wgcnn(&["summary", "--json", arg(&models("every_layer.keras"))]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            v["total_params"].as_u64(),
            v["non_trainable_params"].as_u64()
        ),
        (Some(471), Some(12))
    );

    let out = wgcnn(&[
        "summary",
        "--explain",
        arg(&models("seed000_conv_same.json")),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("params = 32 × (3 × 3 × 3 + 1) = 896"),
        "{text}"
    );
    assert!(text.contains("height: out = ceil(128 / 2) = 64"), "{text}");
}

#[test]
fn run_matches_keras_on_both_backends() {
    let dir = Dir::new("run-ok");
    let expected = read_npy(models("functional_chain.output.npy")).unwrap();
    for backend in ["gpu", "cpu"] {
        let y = dir.file(&format!("y-{backend}.npy"));
        let out = wgcnn(&[
            "run",
            arg(&models("functional_chain.keras")),
            "--input",
            arg(&models("functional_chain.input.npy")),
            "--output",
            arg(&y),
            "--backend",
            backend,
            "--batch-size",
            "2",
        ]);
        assert_succeeds(&out);
        common::assert_close(&read_npy(&y).unwrap(), &expected, 2e-5, backend);
    }
}

#[test]
fn bad_models_fail_cleanly() {
    let dir = Dir::new("bad-models");
    let y = dir.file("y.npy");
    let x = dir.npy("x.npy", &[1, 9, 8, 2]);
    let corrupt = dir.file("corrupt.keras");
    let mut bytes = std::fs::read(models("functional_chain.keras")).unwrap();
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&corrupt, &bytes).unwrap();
    // A layer wgcnn does not have.
    let unknown = dir.file("conv3d.json");
    let config = std::fs::read_to_string(models("seed000_conv_valid.json")).unwrap();
    std::fs::write(&unknown, config.replace("\"Conv2D\"", "\"Conv3D\"")).unwrap();
    let (json, every, missing) = (
        models("functional_chain.json"),
        models("every_layer.keras"),
        dir.file("missing.keras"),
    );
    let cases: [(&[&str], &str); 5] = [
        (
            &[
                "run",
                arg(&corrupt),
                "--input",
                arg(&x),
                "--output",
                arg(&y),
            ],
            "zip",
        ),
        (
            &["run", arg(&json), "--input", arg(&x), "--output", arg(&y)],
            "has no weights",
        ),
        (
            &["run", arg(&every), "--input", arg(&x), "--output", arg(&y)],
            "input 'input_layer_10': has shape [1, 9, 8, 2], expected (batch ≥ 1, 13, 11, 3)",
        ),
        (
            &["summary", arg(&unknown)],
            "'kernel_size' must be N or a list of 3 integers",
        ),
        (&["summary", arg(&missing)], "missing.keras"),
    ];
    for (args, needle) in cases {
        assert_fails(wgcnn(args), needle, &y);
    }
}

#[test]
fn bench_reports_json_tables_and_plots() {
    let out = wgcnn(&[
        "bench",
        "conv2d",
        "--input-shape",
        "2,9,9,3",
        "--filters",
        "8",
        "--kernel-size",
        "3",
        "--padding",
        "same",
        "--repeat",
        "3",
        "--warmup",
        "1",
        "--backend",
        "gpu,cpu,reference",
        "--json",
    ]);
    let lines = json_lines(&out);
    // The GPU on its host clock, then on its own where the adapter has timestamp queries
    // (Mesa's software adapters do), else a note on stderr says there is no device time.
    let adapter = lines[0]["adapter"].as_str().unwrap_or_default().to_string();
    let timed_on_device = lines.len() == 4;
    if adapter.contains("llvmpipe") {
        assert!(timed_on_device, "{adapter}: {lines:?}");
    }
    if !timed_on_device {
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("no device time"),
            "{lines:?}"
        );
    }
    let expected: &[(&str, &str)] = if timed_on_device {
        &[
            ("gpu", "host"),
            ("gpu", "device"),
            ("cpu", "host"),
            ("reference", "host"),
        ]
    } else {
        &[("gpu", "host"), ("cpu", "host"), ("reference", "host")]
    };
    assert_eq!(lines.len(), expected.len(), "{lines:?}");
    for (line, (backend, clock)) in lines.iter().zip(expected) {
        assert_eq!(line["backend"], *backend);
        assert_eq!(line["clock"], *clock);
        assert_eq!(line["runs"], 3);
        for key in [
            "median_ms",
            "p50_ms",
            "p90_ms",
            "p99_ms",
            "min_ms",
            "max_ms",
            "gflops",
            "gbs",
            "examples_per_s",
        ] {
            assert!(
                line[key].as_f64().is_some_and(|v| v > 0.0),
                "{key} in {line}"
            );
        }
        assert!(line["min_ms"].as_f64() <= line["median_ms"].as_f64());
        assert!(line["median_ms"].as_f64() <= line["p90_ms"].as_f64());
        assert!(line["p90_ms"].as_f64() <= line["p99_ms"].as_f64());
        assert!(line["p99_ms"].as_f64() <= line["max_ms"].as_f64());
        // Two examples per run.
        let per_s = 2.0 / (line["median_ms"].as_f64().unwrap() / 1e3);
        assert!((line["examples_per_s"].as_f64().unwrap() / per_s - 1.0).abs() < 1e-9);
        assert!(line["adapter"].as_str().is_some_and(|a| !a.is_empty()));
        // 2·9·9·8 outputs × 27 multiply-adds × 2 FLOPs; 4 bytes for each of the input
        // (2·9·9·3), kernel (3·3·3·8), bias (8) and output (2·9·9·8) values.
        assert_eq!(
            line["gflop_per_run"].as_f64(),
            Some(2.0 * 1296.0 * 27.0 / 1e9)
        );
        assert_eq!(line["mb_per_run"].as_f64(), Some(4.0 * 2006.0 / 1e6));
        let (gflops, gbs) = (
            line["gflops"].as_f64().unwrap(),
            line["gbs"].as_f64().unwrap(),
        );
        assert!((gbs / gflops - (4.0 * 2006.0) / (2.0 * 1296.0 * 27.0)).abs() < 1e-9);
    }

    // --threads sets the CPU backend's threads.
    let out = wgcnn(&[
        "bench",
        "conv2d",
        "--input-shape",
        "1,6,6,2",
        "--filters",
        "3",
        "--kernel-size",
        "2",
        "--repeat",
        "1",
        "--warmup",
        "0",
        "--backend",
        "cpu",
        "--threads",
        "1",
        "--json",
    ]);
    let line = &json_lines(&out)[0];
    assert_eq!(line["adapter"], "cpu: gemm, 1 thread", "{line}");

    let dir = Dir::new("bench");
    let svg = dir.file("plot.svg");
    let out = wgcnn(&[
        "bench",
        arg(&models("every_layer.keras")),
        "--batch-size",
        "2",
        "--repeat",
        "2",
        "--warmup",
        "0",
        "--plot",
        arg(&svg),
    ]);
    let table = assert_succeeds(&out);
    assert!(
        table.contains("conv2d_17 (Conv2D)") && table.contains("whole forward pass"),
        "{table}"
    );
    if timed_on_device {
        assert!(
            table.contains(" gpu device ms |") && table.contains("gpu device whole pass"),
            "{table}"
        );
    }
    let plot = std::fs::read_to_string(&svg).unwrap();
    assert!(
        plot.starts_with("<svg") && plot.contains("re_lu (ReLU)"),
        "{plot}"
    );
    if timed_on_device {
        // Each clock has its own legend entry.
        assert!(plot.contains(">gpu device: "), "{plot}");
    }

    // On a terminal 80 columns wide ($COLUMNS stands in for one) the per-layer table wraps
    // its long cells ("fused into ...") instead of running past the edge.
    let out = command(&[
        "bench",
        arg(&models("every_layer.keras")),
        "--repeat",
        "1",
        "--warmup",
        "0",
        "--backend",
        "gpu,cpu,reference",
    ])
    .env("COLUMNS", "80")
    .output()
    .unwrap();
    let table = assert_succeeds(&out);
    let rows: Vec<&str> = table.lines().filter(|l| l.starts_with('|')).collect();
    assert!(rows.len() > 20, "{table}");
    for row in rows {
        assert!(
            row.chars().count() <= 80,
            "{} columns: {row}",
            row.chars().count()
        );
    }

    let out = wgcnn(&["bench"]);
    assert!(!out.status.success());
}

#[test]
fn run_takes_named_inputs_integer_ids_and_writes_every_output() {
    // Two inputs (an image and int32 token ids) and two outputs, made by real Keras.
    let dir = Dir::new("two-heads");
    let model = models("two_heads.keras");
    let image = models("two_heads.image.npy");
    let ids = models("two_heads.ids.npy");
    let image_arg = format!("image={}", arg(&image));
    let ids_arg = format!("ids={}", arg(&ids));
    let out_dir = dir.file("out");
    for backend in ["gpu", "cpu", "reference"] {
        let out = wgcnn(&[
            "run",
            arg(&model),
            "--input",
            &image_arg,
            "--input",
            &ids_arg,
            "--output-dir",
            arg(&out_dir),
            "--backend",
            backend,
        ]);
        assert_succeeds(&out);
        for name in ["probs", "score"] {
            let y = read_npy(out_dir.join(format!("{name}.npy"))).unwrap();
            let keras = read_npy(models(&format!("two_heads.{name}.npy"))).unwrap();
            common::assert_close(&y, &keras, 1e-5, &format!("{name} on {backend}"));
        }
    }
    // One output by name.
    let score = dir.file("score.npy");
    let score_arg = format!("score={}", arg(&score));
    let out = wgcnn(&[
        "run",
        arg(&model),
        "--input",
        &image_arg,
        "--input",
        &ids_arg,
        "--output",
        &score_arg,
        "--backend",
        "cpu",
    ]);
    assert_succeeds(&out);
    assert_eq!(read_npy(&score).unwrap().shape(), &[2, 2]);

    // Unnamed inputs for a two-input model, a missing input, float ids where the image goes,
    // and several outputs without names are clear errors.
    let y = dir.file("y.npy");
    let cases: [(&[&str], &str); 4] = [
        (
            &[
                "run",
                arg(&model),
                "--input",
                arg(&image),
                "--output",
                arg(&y),
            ],
            "give each as --input NAME=FILE.npy",
        ),
        (
            &[
                "run",
                arg(&model),
                "--input",
                &image_arg,
                "--output-dir",
                arg(&out_dir),
            ],
            "input 'ids' is missing",
        ),
        (
            &[
                "run",
                arg(&model),
                "--input",
                &format!("image={}", arg(&ids)),
                "--input",
                &ids_arg,
                "--output",
                arg(&y),
            ],
            "wgcnn needs float32",
        ),
        (
            &[
                "run",
                arg(&model),
                "--input",
                &image_arg,
                "--input",
                &ids_arg,
                "--output",
                arg(&y),
            ],
            "give --output NAME=FILE.npy",
        ),
    ];
    for (args, needle) in cases {
        assert_fails(wgcnn(args), needle, &y);
    }
}

#[test]
fn outputs_follow_symlinks_write_through_fifos_and_accept_stdout() {
    let dir = Dir::new("output-kinds");
    let x = dir.npy("x.npy", &[1, 6, 6, 2]);
    let pool = |output: &str| {
        wgcnn(&[
            "max-pool2d",
            "--input",
            arg(&x),
            "--pool-size",
            "2",
            "--backend",
            "cpu",
            "--output",
            output,
        ])
    };
    let expected = reference::max_pool2d(&Pool2dSpec::new([2, 2]), &read_npy(&x).unwrap()).unwrap();

    // A symlink stays a symlink; the file it points to gets the output.
    let target = dir.file("target.npy");
    std::fs::write(&target, b"old").unwrap();
    let link = dir.file("link.npy");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    assert_succeeds(&pool(arg(&link)));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(read_npy(&target).unwrap(), expected);

    // A FIFO is written through, not replaced by a regular file.
    let fifo = dir.file("fifo.npy");
    let c_path = std::ffi::CString::new(arg(&fifo)).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    assert_succeeds(&pool(arg(&fifo)));
    let bytes = reader.join().unwrap();
    assert_eq!(wgcnn::npy::parse_npy(&bytes[..], "fifo").unwrap(), expected);
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());

    // `-` is standard output; the report goes to stderr.
    let out = pool("-");
    assert!(out.status.success());
    assert_eq!(
        wgcnn::npy::parse_npy(&out.stdout[..], "stdout").unwrap(),
        expected
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrote standard output"));

    // A directory that does not exist is an error before any work, with nothing written.
    let missing = dir.file("no/such/dir/y.npy");
    assert_fails(
        pool(arg(&missing)),
        "its directory does not exist",
        &missing,
    );
}

/// The keys of an autotune cache file.
fn cache_keys(dir: &Path) -> std::collections::BTreeSet<String> {
    let text = std::fs::read_to_string(dir.join("autotune.json")).unwrap();
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text).unwrap();
    map.keys().cloned().collect()
}

/// A short GPU benchmark of one Conv2D with `filters` filters: it autotunes and writes the
/// autotune cache.
fn tuning_bench(filters: usize) -> Command {
    let filters = filters.to_string();
    command(&[
        "bench",
        "conv2d",
        "--input-shape",
        "1,9,9,8",
        "--filters",
        &filters,
        "--kernel-size",
        "3",
        "--backend",
        "gpu",
        "--repeat",
        "1",
        "--warmup",
        "1",
    ])
}

#[test]
fn concurrent_autotuning_processes_keep_every_entry() {
    let bench = |cache: &Path, filters: usize| {
        tuning_bench(filters)
            .env("WGCNN_CACHE_DIR", cache)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let together = Dir::new("cache-together");
    let mut children: Vec<_> = (1..=8).map(|k| bench(&together.0, 4 * k)).collect();
    for child in &mut children {
        assert!(child.wait().unwrap().success());
    }
    let one_by_one = Dir::new("cache-one-by-one");
    for k in 1..=8 {
        assert!(bench(&one_by_one.0, 4 * k).wait().unwrap().success());
    }
    let expected = cache_keys(&one_by_one.0);
    assert!(expected.len() >= 8, "{expected:?}");
    assert_eq!(cache_keys(&together.0), expected);
}

#[test]
fn an_empty_cache_dir_variable_counts_as_unset() {
    let home = Dir::new("cache-home");
    let cwd = Dir::new("cache-cwd");
    let out = tuning_bench(8)
        .env("WGCNN_CACHE_DIR", "")
        .env_remove("XDG_CACHE_HOME")
        .env("HOME", &home.0)
        .current_dir(&cwd.0)
        .output()
        .unwrap();
    assert_succeeds(&out);
    assert!(!cwd.file("autotune.json").exists());
    assert!(!cache_keys(&home.0.join(".cache/wgcnn")).is_empty());
}

/// A GPU `run` reports its two steps apart, each with its time (logged with
/// `RUST_LOG=wgcnn=info`; on a terminal a spinner shows them), saves the compiled pipelines
/// beside the autotune cache where the adapter keeps them (Vulkan), and the next run loads them.
#[test]
fn gpu_run_reports_autotuning_and_compiling_apart_and_keeps_pipelines() {
    let cache = Dir::new("pipelines");
    let model = models("functional_chain.keras");
    let run = || {
        command(&[
            "run",
            arg(&model),
            "--random-input",
            "2",
            "--backend",
            "gpu",
        ])
        .env("WGCNN_CACHE_DIR", &cache.0)
        .env("RUST_LOG", "wgcnn=info,wgcnn::gpu::pipeline_cache=debug")
        .output()
        .unwrap()
    };
    let out = run();
    assert_succeeds(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let seconds = |step: &str| -> (usize, f64) {
        let at = stderr
            .find(&format!("{step}: "))
            .unwrap_or_else(|| panic!("no '{step}' step in:\n{stderr}"));
        let rest = &stderr[at + step.len() + 2..];
        let number = rest.split(" s").next().unwrap();
        (at, number.parse().unwrap_or_else(|_| panic!("{rest}")))
    };
    let (tuning, _) = seconds("autotuning kernels, uploading weights");
    let (compiling, _) = seconds("compiling GPU pipelines");
    assert!(tuning < compiling, "{stderr}");

    let pipeline_files: Vec<_> = std::fs::read_dir(&cache.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("wgpu_pipeline_cache"))
        .collect();
    if common::gpu().adapter_info().backend != wgcnn::wgpu::Backend::Vulkan {
        // wgpu keeps pipeline caches on Vulkan only.
        assert!(pipeline_files.is_empty(), "{pipeline_files:?}");
        return;
    }
    assert_eq!(pipeline_files.len(), 1, "{pipeline_files:?}");
    let size = std::fs::metadata(cache.file(&pipeline_files[0]))
        .unwrap()
        .len();
    let again = run();
    assert_succeeds(&again);
    let stderr = String::from_utf8_lossy(&again.stderr);
    // What the file holds after wgcnn's 24-byte header.
    let loaded = format!("{}: {} bytes loaded", pipeline_files[0], size - 24);
    assert!(stderr.contains(&loaded), "no '{loaded}' in:\n{stderr}");
}

#[test]
fn run_compares_with_expected_outputs_and_picks_the_backend_itself() {
    let dir = Dir::new("compare");
    let model = models("every_layer.keras");
    let x = models("every_layer.input.npy");
    let keras = models("every_layer.output.npy");
    // No --backend: on a software adapter wgcnn says so and runs on the CPU backend.
    let out = wgcnn(&[
        "run",
        arg(&model),
        "--input",
        arg(&x),
        "--compare",
        arg(&keras),
        "--rtol",
        "1e-4",
        "--atol",
        "2e-5",
    ]);
    let stdout = assert_succeeds(&out);
    assert!(
        !stdout.contains("MISMATCH") && stdout.contains(": ok"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    if common::gpu().adapter_info().device_type == wgcnn::wgpu::DeviceType::Cpu {
        assert!(stderr.contains("only a software GPU adapter"), "{stderr}");
    }
    // A perturbed expectation fails, after printing the differences.
    let mut wrong = read_npy(&keras).unwrap();
    let first = wrong.data()[0];
    wrong = wgcnn::Tensor::new(
        wrong.shape().to_vec(),
        std::iter::once(first + 1.0)
            .chain(wrong.data()[1..].iter().copied())
            .collect(),
    )
    .unwrap();
    let wrong_path = dir.file("wrong.npy");
    write_npy(&wrong_path, &wrong).unwrap();
    let out = wgcnn(&[
        "run",
        arg(&model),
        "--input",
        arg(&x),
        "--compare",
        arg(&wrong_path),
        "--backend",
        "cpu",
    ]);
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("MISMATCH") && stdout.contains("1 of"),
        "{stdout}"
    );
}

/// An `.npz` as `np.savez` writes one: a zip of `NAME.npy` members, here the `.npy` files
/// NumPy itself wrote for the fixtures (stored, or deflated as `np.savez_compressed` does).
fn npz_of(path: &Path, members: &[(&str, &Path)], method: zip::CompressionMethod) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, file) in members {
        let options = zip::write::SimpleFileOptions::default().compression_method(method);
        zip.start_file(format!("{name}.npy"), options).unwrap();
        std::io::Write::write_all(&mut zip, &std::fs::read(file).unwrap()).unwrap();
    }
    zip.finish().unwrap();
}

#[test]
fn run_reads_and_writes_npz_archives_for_several_inputs_and_outputs() {
    let dir = Dir::new("npz");
    let model = models("two_heads.keras");
    let (image, ids) = (models("two_heads.image.npy"), models("two_heads.ids.npy"));
    let (probs, score) = (models("two_heads.probs.npy"), models("two_heads.score.npy"));
    let named = dir.file("named.npz");
    npz_of(
        &named,
        &[("ids", &ids), ("image", &image)],
        zip::CompressionMethod::Deflated,
    );
    // np.savez(path, image, ids): unnamed arrays in the model's input order.
    let positional = dir.file("positional.npz");
    npz_of(
        &positional,
        &[("arr_0", &image), ("arr_1", &ids)],
        zip::CompressionMethod::Stored,
    );
    let expected = dir.file("keras.npz");
    npz_of(
        &expected,
        &[("score", &score), ("probs", &probs)],
        zip::CompressionMethod::Stored,
    );
    for (inputs, backend) in [(&named, "cpu"), (&positional, "gpu")] {
        let out_file = dir.file(&format!("out-{backend}.npz"));
        let out = wgcnn(&[
            "run",
            arg(&model),
            "--input",
            arg(inputs),
            "--output",
            arg(&out_file),
            "--compare",
            arg(&expected),
            "--rtol",
            "1e-4",
            "--atol",
            "1e-5",
            "--backend",
            backend,
        ]);
        let stdout = assert_succeeds(&out);
        assert_eq!(stdout.matches(": ok").count(), 2, "{stdout}");
        // The archive holds every output by name, stored as np.savez stores them.
        let mut archive = zip::ZipArchive::new(std::fs::File::open(&out_file).unwrap()).unwrap();
        let mut names = Vec::new();
        for i in 0..archive.len() {
            let member = archive.by_index(i).unwrap();
            assert_eq!(member.compression(), zip::CompressionMethod::Stored);
            names.push(member.name().unwrap().to_string());
        }
        assert_eq!(names, ["probs.npy", "score.npy"]);
        let arrays = wgcnn::npy::read_npz(&out_file, |_| false).unwrap();
        for ((name, y), keras) in arrays.iter().zip([&probs, &score]) {
            let keras = read_npy(keras).unwrap();
            common::assert_close(y, &keras, 1e-5, &format!("{name} on {backend}"));
        }
    }
    // A one-input, one-output model takes an archive's one array whatever its name
    // (np.savez(path, x=x)).
    let (x_npz, keras_npz) = (dir.file("x.npz"), dir.file("expected.npz"));
    let x = models("every_layer.input.npy");
    npz_of(&x_npz, &[("x", &x)], zip::CompressionMethod::Stored);
    let keras = models("every_layer.output.npy");
    npz_of(
        &keras_npz,
        &[("keras", &keras)],
        zip::CompressionMethod::Stored,
    );
    let out = wgcnn(&[
        "run",
        arg(&models("every_layer.keras")),
        "--input",
        arg(&x_npz),
        "--compare",
        arg(&keras_npz),
        "--rtol",
        "1e-4",
        "--atol",
        "2e-5",
        "--backend",
        "cpu",
    ]);
    let stdout = assert_succeeds(&out);
    assert!(
        stdout.contains("expected.npz[keras]") && stdout.contains(": ok"),
        "{stdout}"
    );

    // An array the model does not take, and an input given twice, are clear errors.
    let stray = dir.file("stray.npz");
    npz_of(
        &stray,
        &[("image", &image), ("ids", &ids), ("mask", &ids)],
        zip::CompressionMethod::Stored,
    );
    let y = dir.file("y.npz");
    assert_fails(
        wgcnn(&[
            "run",
            arg(&model),
            "--input",
            arg(&stray),
            "--output",
            arg(&y),
        ]),
        "holds 'mask', which is no model input",
        &y,
    );
    let named_npz = format!("probs={}", arg(&y));
    assert_fails(
        wgcnn(&[
            "run",
            arg(&model),
            "--input",
            arg(&named),
            "--output",
            &named_npz,
        ]),
        "names its arrays itself",
        &y,
    );
    let image_arg = format!("image={}", arg(&image));
    assert_fails(
        wgcnn(&[
            "run",
            arg(&model),
            "--input",
            arg(&named),
            "--input",
            &image_arg,
            "--output",
            arg(&y),
        ]),
        "input 'image' is given twice",
        &y,
    );
}

#[test]
fn run_batch_size_is_examples_per_pass_on_every_backend() {
    let dir = Dir::new("passes");
    let model = models("every_layer.keras");
    let x = models("every_layer.input.npy");
    let keras = read_npy(models("every_layer.output.npy")).unwrap();
    assert!(keras.shape()[0] > 1, "the fixture needs several examples");
    for backend in ["cpu", "reference", "gpu"] {
        let y = dir.file(&format!("y-{backend}.npy"));
        let out = wgcnn(&[
            "run",
            arg(&model),
            "--input",
            arg(&x),
            "--output",
            arg(&y),
            "--batch-size",
            "1",
            "--backend",
            backend,
        ]);
        assert_succeeds(&out);
        common::assert_close(&read_npy(&y).unwrap(), &keras, 2e-5, backend);
    }
}

#[test]
fn bench_conv2d_takes_dilation_activation_and_no_bias() {
    let out = wgcnn(&[
        "bench",
        "conv2d",
        "--input-shape",
        "1,12,12,3",
        "--filters",
        "4",
        "--kernel-size",
        "3",
        "--dilation-rate",
        "2",
        "--activation",
        "relu",
        "--no-bias",
        "--repeat",
        "1",
        "--warmup",
        "0",
        "--backend",
        "cpu,reference",
        "--json",
    ]);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 2);
    for line in &lines {
        assert_eq!(line["dilation_rate"], serde_json::json!([2, 2]));
        assert_eq!(line["activation"], "relu");
        assert_eq!(line["use_bias"], false);
        // A 3×3 kernel dilated by 2 spans 5 cells: 8×8 outputs × 4 filters × 27 MACs × 2.
        assert_eq!(
            line["gflop_per_run"].as_f64(),
            Some(2.0 * 8.0 * 8.0 * 4.0 * 27.0 / 1e9)
        );
    }
}

/// A Functional config, no weights needed: input `x` of per-example shape `[3]`, and per
/// `(name, offset)` a `Rescaling` layer computing `x + offset`; `outputs` lists the layers
/// that are the model's outputs (a layer may be listed several times).
fn rescaling_model(layers: &[(&str, f32)], outputs: &[&str]) -> String {
    let tensor = |from: &str| {
        serde_json::json!({"class_name": "__keras_tensor__",
            "config": {"shape": [null, 3], "dtype": "float32", "keras_history": [from, 0, 0]}})
    };
    let mut entries = vec![serde_json::json!({"class_name": "InputLayer", "name": "x",
        "config": {"batch_shape": [null, 3], "dtype": "float32", "name": "x"},
        "inbound_nodes": []})];
    for (name, offset) in layers {
        entries.push(serde_json::json!({"class_name": "Rescaling", "name": name,
            "config": {"name": name, "scale": 1.0, "offset": offset},
            "inbound_nodes": [{"args": [tensor("x")], "kwargs": {}}]}));
    }
    let outputs: Vec<serde_json::Value> = outputs
        .iter()
        .map(|n| serde_json::json!([n, 0, 0]))
        .collect();
    serde_json::json!({"class_name": "Functional", "config": {"name": "m", "trainable": true,
        "layers": entries, "input_layers": [["x", 0, 0]], "output_layers": outputs}})
    .to_string()
}

/// The member names of a zip archive, in order.
fn zip_members(path: &Path) -> Vec<String> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..archive.len())
        .map(|i| archive.by_index(i).unwrap().name().unwrap().to_string())
        .collect()
}

/// The entries of a directory, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn output_names_never_choose_where_files_go() {
    let dir = Dir::new("output-names");
    // An absolute name: what the old code wrote as `<name>.npy`, outside every directory.
    let abs = std::env::temp_dir().join(format!("wgcnn-abs-{}", std::process::id()));
    let abs_npy = abs.with_extension("npy");
    let _ = std::fs::remove_file(&abs_npy);
    // (layer name, the file stem the rule documented in `run --help` gives it)
    let abs_stem: String = arg(&abs)
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' | '.' => c,
            _ => '_',
        })
        .collect();
    let cases: [(&str, &str); 10] = [
        ("../x", "_.._x"),
        (arg(&abs), &abs_stem),
        ("a/b", "a_b"),
        ("..", "_.."),
        (".hidden", "_.hidden"),
        ("con", "con_"),
        // The same file as a/b: numbered, case-insensitively.
        ("a_b", "a_b_1"),
        ("A:B", "A_B_2"),
        ("größe", "gr__e"),
        ("", "_"),
    ];
    let layers: Vec<(&str, f32)> = cases
        .iter()
        .enumerate()
        .map(|(k, (name, _))| (*name, k as f32))
        .collect();
    let names: Vec<&str> = cases.iter().map(|(n, _)| *n).collect();
    let model = dir.file("model.json");
    std::fs::write(&model, rescaling_model(&layers, &names)).unwrap();
    let input = dir.npy("input.npy", &[2, 3]);
    let x = read_npy(&input).unwrap();
    let expected = |k: usize| {
        wgcnn::Tensor::new(vec![2, 3], x.data().iter().map(|v| v + k as f32).collect()).unwrap()
    };
    let run = |extra: &[&str]| {
        let mut args = vec!["run", arg(&model), "--input", arg(&input), "--backend"];
        args.push("reference");
        args.extend_from_slice(extra);
        wgcnn(&args)
    };

    // --output-dir: every file inside DIR, under its documented name, holding its output.
    let out = dir.file("out");
    assert_succeeds(&run(&["--output-dir", arg(&out)]));
    let mut files: Vec<String> = cases.iter().map(|(_, s)| format!("{s}.npy")).collect();
    files.sort();
    assert_eq!(listing(&out), files);
    for (k, (_, stem)) in cases.iter().enumerate() {
        let y = read_npy(out.join(format!("{stem}.npy"))).unwrap();
        assert_eq!(y, expected(k), "{stem}");
    }
    // Nothing beside DIR or anywhere else.
    assert_eq!(listing(&dir.0), ["input.npy", "model.json", "out"]);
    assert!(!abs_npy.exists(), "{} was written", abs_npy.display());

    // --output FILE.npz: the same names as archive members, in the model's order.
    let npz = dir.file("y.npz");
    assert_succeeds(&run(&["--output", arg(&npz)]));
    let members: Vec<String> = cases.iter().map(|(_, s)| format!("{s}.npy")).collect();
    assert_eq!(zip_members(&npz), members);
    for (k, (name, y)) in wgcnn::npy::read_npz(&npz, |_| false)
        .unwrap()
        .iter()
        .enumerate()
    {
        assert_eq!((name.as_str(), y), (cases[k].1, &expected(k)));
    }
    // --compare reads members by those names, or by the layers' own names (the first four
    // outputs here, as np.savez(path, **dict(zip(model.output_names, ys))) saves them).
    let stdout = assert_succeeds(&run(&["--compare", arg(&npz)]));
    assert_eq!(stdout.matches(": ok").count(), cases.len(), "{stdout}");
    let by_layer = dir.file("by-layer.npz");
    let parts: Vec<(String, PathBuf)> = (0..4)
        .map(|k| {
            (
                cases[k].0.to_string(),
                out.join(format!("{}.npy", cases[k].1)),
            )
        })
        .collect();
    let members: Vec<(&str, &Path)> = parts
        .iter()
        .map(|(n, p)| (n.as_str(), p.as_path()))
        .collect();
    npz_of(&by_layer, &members, zip::CompressionMethod::Stored);
    let stdout = assert_succeeds(&run(&["--compare", arg(&by_layer)]));
    assert_eq!(stdout.matches(": ok").count(), 4, "{stdout}");

    // NAME=FILE takes the layer's own name: `a_b` is the layer so named, not a/b's file.
    let one = dir.file("one.npy");
    let named = format!("a_b={}", arg(&one));
    assert_succeeds(&run(&["--output", &named]));
    assert_eq!(read_npy(&one).unwrap(), expected(6));
    let named = format!("../x={}", arg(&one));
    assert_succeeds(&run(&["--output", &named]));
    assert_eq!(read_npy(&one).unwrap(), expected(0));
}

#[test]
fn thousands_of_repeated_outputs_take_linear_time() {
    // One tiny layer listed as the output 20,000 times: a 300 KB config. Naming the outputs
    // was cubic: 1,000 repeats took 2 s, 20,000 would take hours. Now each backend takes
    // under a second (release build, lavapipe).
    const N: usize = 20_000;
    let dir = Dir::new("repeated-outputs");
    let model = dir.file("model.json");
    std::fs::write(&model, rescaling_model(&[("r", 0.5)], &vec!["r"; N])).unwrap();
    let input = dir.npy("input.npy", &[1, 3]);
    let x = read_npy(&input).unwrap();
    let want = wgcnn::Tensor::new(vec![1, 3], x.data().iter().map(|v| v + 0.5).collect()).unwrap();
    // Each run is killed past the limit: a regression fails the test instead of hanging it.
    let limit = std::time::Duration::from_secs(20);
    for backend in ["reference", "cpu", "gpu"] {
        let npz = dir.file(&format!("y-{backend}.npz"));
        let stderr = dir.file("stderr.txt");
        let started = std::time::Instant::now();
        let mut child = command(&[
            "run",
            arg(&model),
            "--input",
            arg(&input),
            "--output",
            arg(&npz),
            "--backend",
            backend,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > limit {
                child.kill().unwrap();
                child.wait().unwrap();
                panic!("{backend}: still running after {limit:?}");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let stderr = std::fs::read_to_string(&stderr).unwrap();
        assert!(status.success(), "{backend}: {stderr}");
        let arrays = wgcnn::npy::read_npz(&npz, |_| false).unwrap();
        assert_eq!(arrays.len(), N);
        for (k, (name, y)) in arrays.iter().enumerate() {
            let stem = if k == 0 { "r".into() } else { format!("r_{k}") };
            assert_eq!((name, y), (&stem, &want), "{backend}");
        }
    }
}

#[test]
fn compare_writes_outputs_unless_the_shapes_disagree() {
    let dir = Dir::new("compare-outputs");
    let model = models("every_layer.keras");
    let x = models("every_layer.input.npy");
    let keras = read_npy(models("every_layer.output.npy")).unwrap();
    let run = |expected: &Path, output: &[&str]| {
        let mut args = vec!["run", arg(&model), "--input", arg(&x), "--compare"];
        args.extend([arg(expected), "--backend", "cpu"]);
        args.extend_from_slice(output);
        wgcnn(&args)
    };
    // Values that disagree: the outputs are written (to inspect the mismatch), the comparison
    // fails with status 1.
    let wrong = dir.file("wrong.npy");
    let mut data = keras.data().to_vec();
    data[0] += 1.0;
    write_npy(
        &wrong,
        &wgcnn::Tensor::new(keras.shape().to_vec(), data).unwrap(),
    )
    .unwrap();
    let y = dir.file("y.npy");
    let out = run(&wrong, &["--output", arg(&y)]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("MISMATCH") && stdout.contains("wrote"),
        "{stdout}"
    );
    common::assert_close(
        &read_npy(&y).unwrap(),
        &keras,
        2e-5,
        "written despite MISMATCH",
    );

    // An expected array of another shape: an error before any work, nothing written.
    let short = dir.file("short.npy");
    let per: usize = keras.shape()[1..].iter().product();
    let one = [&[1][..], &keras.shape()[1..]].concat();
    write_npy(
        &short,
        &wgcnn::Tensor::new(one, keras.data()[..per].to_vec()).unwrap(),
    )
    .unwrap();
    let y2 = dir.file("y2.npy");
    let mismatch = format!("run --compare: {} has shape [1, ", short.display());
    assert_fails(run(&short, &["--output", arg(&y2)]), &mismatch, &y2);
    let out_dir = dir.file("out");
    assert_fails(
        run(&short, &["--output-dir", arg(&out_dir)]),
        &mismatch,
        &out_dir,
    );
}

/// Argument errors say what is expected: `auto` among the backends, a count of at least 1.
#[test]
fn argument_errors_name_what_is_expected() {
    let stderr = |args: &[&str]| {
        let out = wgcnn(args);
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let model = models("cifar10.json");
    let run = |extra: &[&str]| {
        let mut args = vec!["run", arg(&model), "--input", "x.npy", "--output", "y.npy"];
        args.extend_from_slice(extra);
        stderr(&args)
    };
    let err = run(&["--backend", "GPU"]);
    assert!(
        err.contains("unknown backend 'GPU' (expected auto, gpu, cpu or reference)"),
        "{err}"
    );
    let err = run(&["--batch-size", "0"]);
    assert!(err.contains("0 is too small: give at least 1"), "{err}");
    assert!(!err.contains("18446744073709551615"), "{err}");
    let err = run(&["--batch-size", "many"]);
    assert!(err.contains("'many' is not a whole number"), "{err}");
    let err = stderr(&["bench", arg(&model), "--repeat", "0"]);
    assert!(err.contains("0 is too small"), "{err}");
}

/// Without --output the outputs are printed; --random-input needs no file; a mismatch names
/// the worst element; an unknown input name is named, with the model's inputs.
#[test]
fn run_prints_outputs_takes_random_input_and_explains_mismatches() {
    let dir = Dir::new("run-print");
    let model = models("every_layer.keras");
    let x = models("every_layer.input.npy");
    // every_layer ends in a softmax over 5 classes: the top classes of each example.
    let out = wgcnn(&["run", arg(&model), "--input", arg(&x), "--backend", "cpu"]);
    let stdout = assert_succeeds(&out);
    assert!(stdout.contains("shape [2, 5]"), "{stdout}");
    let keras = read_npy(models("every_layer.output.npy")).unwrap();
    let row = &keras.data()[..5];
    let best = (0..5).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap();
    assert!(
        stdout.contains(&format!("example 0: top 5: {best} (")),
        "top class {best} of Keras's output: {stdout}"
    );

    // Seeded random input: the same numbers every run, on every backend; N examples.
    let random = |backend: &str| {
        assert_succeeds(&wgcnn(&[
            "run",
            arg(&model),
            "--random-input",
            "3",
            "--backend",
            backend,
        ]))
    };
    let cpu = random("cpu");
    assert!(
        cpu.contains("example 2:") && !cpu.contains("example 3:"),
        "{cpu}"
    );
    assert_eq!(cpu.lines().next(), random("reference").lines().next());
    let one = assert_succeeds(&wgcnn(&["run", arg(&model), "--random-input"]));
    assert!(
        one.contains("example 0:") && !one.contains("example 1:"),
        "{one}"
    );
    let both = wgcnn(&["run", arg(&model), "--random-input", "--input", arg(&x)]);
    assert!(!both.status.success());

    // A non-classifier output: statistics. The seed's pooling model has no weights.
    let pool = models("seed001_pool.json");
    let out = wgcnn(&["run", arg(&pool), "--random-input", "--backend", "cpu"]);
    let stdout = assert_succeeds(&out);
    assert!(
        stdout.contains("shape [1, 50, 50, 15]")
            && stdout.contains("min ")
            && stdout.contains("first values ["),
        "{stdout}"
    );

    // The worst element of a mismatch, with its index and both values.
    let wrong = dir.file("wrong.npy");
    let mut data = keras.data().to_vec();
    data[7] += 0.5;
    write_npy(
        &wrong,
        &wgcnn::Tensor::new(keras.shape().to_vec(), data.clone()).unwrap(),
    )
    .unwrap();
    let out = wgcnn(&[
        "run",
        arg(&model),
        "--input",
        arg(&x),
        "--compare",
        arg(&wrong),
        "--backend",
        "cpu",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("1 of 10 beyond")
            && stdout.contains("worst at index [1, 2]: got ")
            && stdout.contains(&format!(", expected {}", data[7])),
        "{stdout}"
    );

    // "wrote" names the file as given (here relative), whether it existed before or not.
    let wrote = || {
        let out = command(&["run", arg(&model), "--random-input", "--output", "y.npy"])
            .current_dir(&dir.0)
            .output()
            .unwrap();
        assert_succeeds(&out)
            .lines()
            .find(|l| l.starts_with("wrote "))
            .map(str::to_string)
    };
    let first = wrote();
    assert!(
        first
            .as_deref()
            .is_some_and(|l| l.starts_with("wrote y.npy ")),
        "{first:?}"
    );
    assert_eq!(wrote(), first);

    // NAME=FILE naming no input.
    let out = wgcnn(&["run", arg(&model), "--input", "img=x.npy"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && stderr.contains("the model has no input named 'img'; its inputs: ")
            && !stderr.contains("invalid config"),
        "{stderr}"
    );
}

fn batch_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/batch")
        .join(name)
}

/// What Keras made of each file in tests/fixtures/batch/images (tools/gen_keras_batch.py):
/// `FILE.rgb`, `FILE.grayscale`, `FILE.rgba` (load_img + img_to_array) and `FILE.probs`.
fn keras_images() -> std::collections::HashMap<String, wgcnn::Tensor> {
    wgcnn::npy::read_npz(batch_fixture("images_keras.npz"), |_| true)
        .unwrap()
        .into_iter()
        .collect()
}

fn image_files() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(batch_fixture("images"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

fn is_jpeg(name: &str) -> bool {
    name.ends_with(".jpg") || name.ends_with(".jpeg")
}

/// `run --input-dir` on PNG and JPEG files: the pixels Keras's load_img gives in each colour
/// mode (exact for PNG; within a few levels for JPEG, decoded by another library than
/// Pillow's libjpeg-turbo), and the classifier's predictions Keras made, on both backends,
/// written per file, stacked, or printed.
#[test]
fn input_dir_images_give_the_pixels_and_predictions_keras_gives() {
    let dir = Dir::new("input-dir-images");
    let images = batch_fixture("images");
    let keras = keras_images();
    let files = image_files();
    for mode in ["rgb", "grayscale", "rgba"] {
        let out = dir.file(mode);
        let model = batch_fixture(&format!("pixels_{mode}.keras"));
        let args = ["run", arg(&model), "--input-dir", arg(&images)];
        let stdout = assert_succeeds(&wgcnn(&[&args[..], &["--output-dir", arg(&out)]].concat()));
        assert!(
            stdout.starts_with(&format!("wrote {} files", files.len())),
            "{stdout}"
        );
        for name in &files {
            let got = read_npy(out.join(format!("{name}.npy"))).unwrap();
            let want = &keras[&format!("{name}.{mode}")];
            assert_eq!(got.data().len(), want.data().len(), "{name} {mode}");
            let diffs: Vec<f32> = got
                .data()
                .iter()
                .zip(want.data())
                .map(|(a, b)| (a - b).abs())
                .collect();
            let max = diffs.iter().copied().fold(0.0, f32::max);
            let mean = diffs.iter().sum::<f32>() / diffs.len() as f32;
            if is_jpeg(name) {
                assert!(
                    max <= 4.0 && mean <= 0.5,
                    "{name} {mode}: max {max}, mean {mean}"
                );
            } else {
                assert_eq!(
                    max, 0.0,
                    "{name} {mode}: PNG pixels must be Pillow's exactly"
                );
            }
        }
    }
    let model = batch_fixture("classifier.keras");
    for backend in ["cpu", "gpu"] {
        let out = dir.file(&format!("probs-{backend}"));
        assert_succeeds(&wgcnn(&[
            "run",
            arg(&model),
            "--input-dir",
            arg(&images),
            "--output-dir",
            arg(&out),
            "--batch-size",
            "4",
            "--backend",
            backend,
        ]));
        for name in &files {
            let got = read_npy(out.join(format!("{name}.npy"))).unwrap();
            // The JPEGs' pixel differences move the predictions by up to about 1e-4.
            let tol = if is_jpeg(name) { 5e-4 } else { 1e-5 };
            common::assert_close(&got, &keras[&format!("{name}.probs")], tol, name);
        }
    }
    // Stacked in file-name order.
    let stacked = dir.file("all.npy");
    let args = [
        "run",
        arg(&model),
        "--input-dir",
        arg(&images),
        "--backend",
        "cpu",
    ];
    assert_succeeds(&wgcnn(&[&args[..], &["--output", arg(&stacked)]].concat()));
    let all = read_npy(&stacked).unwrap();
    assert_eq!(all.shape(), &[files.len(), 4]);
    for (k, name) in files.iter().enumerate() {
        let want = &keras[&format!("{name}.probs")];
        let row = wgcnn::Tensor::new(vec![4], all.data()[4 * k..4 * k + 4].to_vec()).unwrap();
        common::assert_close(&row, want, 5e-4, name);
    }
    // Printed: a line per file with its top classes, Keras's best first.
    let stdout = assert_succeeds(&wgcnn(&args));
    for name in files.iter().filter(|n| !is_jpeg(n)) {
        let probs = keras[&format!("{name}.probs")].data().to_vec();
        let best = (0..4)
            .max_by(|&a, &b| probs[a].total_cmp(&probs[b]))
            .unwrap();
        let line = format!("{}: top 4: {best} (", images.join(name).display());
        assert!(stdout.contains(&line), "{line} in {stdout}");
    }
}

/// `.npy` files in a directory: one example each (the input's shape) or a batch, outputs
/// shaped alike; `--batch-size` examples per pass over file boundaries; against Keras's
/// outputs for the fixture inputs.
#[test]
fn input_dir_npy_files_are_examples_or_batches() {
    let dir = Dir::new("input-dir-npy");
    let inputs = dir.file("inputs");
    std::fs::create_dir_all(&inputs).unwrap();
    let x = read_npy(models("every_layer.input.npy")).unwrap(); // (2, 13, 11, 3)
    let keras = read_npy(models("every_layer.output.npy")).unwrap(); // (2, 5)
    let per = x.data().len() / 2;
    let example = |k: usize, batched: bool| {
        let shape = if batched {
            vec![1, 13, 11, 3]
        } else {
            vec![13, 11, 3]
        };
        wgcnn::Tensor::new(shape, x.data()[k * per..(k + 1) * per].to_vec()).unwrap()
    };
    write_npy(inputs.join("a.npy"), &example(0, false)).unwrap();
    write_npy(inputs.join("b.npy"), &example(1, true)).unwrap();
    write_npy(inputs.join("c.npy"), &x).unwrap();
    std::fs::write(inputs.join("notes.txt"), "not an input").unwrap();
    std::fs::write(inputs.join(".hidden.npy"), "not read").unwrap();
    std::fs::create_dir_all(inputs.join("sub.npy")).unwrap();
    let row = |k: usize| keras.data()[5 * k..5 * (k + 1)].to_vec();
    let model = models("every_layer.keras");
    for (backend, batch) in [("cpu", "1"), ("gpu", "3"), ("reference", "2")] {
        let out = dir.file(&format!("out-{backend}"));
        assert_succeeds(&wgcnn(&[
            "run",
            arg(&model),
            "--input-dir",
            arg(&inputs),
            "--output-dir",
            arg(&out),
            "--batch-size",
            batch,
            "--backend",
            backend,
        ]));
        let mut written: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        written.sort();
        assert_eq!(written, ["a.npy", "b.npy", "c.npy"]);
        let want = |shape: Vec<usize>, rows: &[usize]| {
            let data = rows.iter().flat_map(|&k| row(k)).collect();
            wgcnn::Tensor::new(shape, data).unwrap()
        };
        let read = |name: &str| read_npy(out.join(name)).unwrap();
        common::assert_close(&read("a.npy"), &want(vec![5], &[0]), 2e-5, backend);
        common::assert_close(&read("b.npy"), &want(vec![1, 5], &[1]), 2e-5, backend);
        common::assert_close(&read("c.npy"), &keras, 2e-5, backend);
    }
    // Stacked, several outputs' worth of names: one .npz holding every example in order.
    let npz = dir.file("all.npz");
    assert_succeeds(&wgcnn(&[
        "run",
        arg(&model),
        "--input-dir",
        arg(&inputs),
        "--output",
        arg(&npz),
        "--backend",
        "cpu",
    ]));
    let arrays = wgcnn::npy::read_npz(&npz, |_| false).unwrap();
    assert_eq!(arrays.len(), 1);
    let rows: Vec<f32> = [0, 1, 0, 1].iter().flat_map(|&k| row(k)).collect();
    common::assert_close(
        &arrays[0].1,
        &wgcnn::Tensor::new(vec![4, 5], rows).unwrap(),
        2e-5,
        "stacked",
    );
}

/// An 8-bit (or 16-bit) RGB PNG of `size`, made with the png crate.
fn write_png(path: &Path, size: [u32; 2], sixteen: bool) {
    let file = std::fs::File::create(path).unwrap();
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), size[1], size[0]);
    encoder.set_color(png::ColorType::Rgb);
    let depth = if sixteen {
        png::BitDepth::Sixteen
    } else {
        png::BitDepth::Eight
    };
    encoder.set_depth(depth);
    let bytes = (size[0] * size[1] * 3 * if sixteen { 2 } else { 1 }) as usize;
    let data: Vec<u8> = (0..bytes).map(|i| (i * 7 % 256) as u8).collect();
    encoder
        .write_header()
        .unwrap()
        .write_image_data(&data)
        .unwrap();
}

/// Every bad input of `run --input-dir` is one line naming the file (or the directory or
/// model), before any output is written.
#[test]
fn input_dir_errors_name_the_file() {
    let dir = Dir::new("input-dir-errors");
    let model = batch_fixture("classifier.keras");
    let out = dir.file("out");
    let run = |inputs: &Path, extra: &[&str]| {
        let args = [
            "run",
            arg(&model),
            "--backend",
            "cpu",
            "--input-dir",
            arg(inputs),
        ];
        wgcnn(&[&args[..], extra].concat())
    };
    let case = |name: &str, setup: &dyn Fn(&Path), needle: &str| {
        let inputs = dir.file(name);
        std::fs::create_dir_all(&inputs).unwrap();
        setup(&inputs);
        // A good image after the bad file: the error comes before its output is written.
        std::fs::copy(batch_fixture("images/rgb.png"), inputs.join("z.png")).unwrap();
        let needle = needle.replace("DIR", arg(&inputs));
        assert_fails(
            run(&inputs, &["--output-dir", arg(&out)]),
            &needle,
            &out.join("z.png.npy"),
        );
    };
    case(
        "size",
        &|d| write_png(&d.join("a.png"), [8, 9], false),
        "DIR/a.png: the image is 8x9 (height x width) but the model takes 32x32",
    );
    case(
        "sixteen",
        &|d| write_png(&d.join("a.png"), [32, 32], true),
        "DIR/a.png: a 16-bit PNG",
    );
    case(
        "corrupt-png",
        &|d| std::fs::write(d.join("a.png"), b"\x89PNG\r\n\x1a\n broken").unwrap(),
        "DIR/a.png: not a readable PNG file",
    );
    case(
        "corrupt-jpeg",
        &|d| std::fs::write(d.join("a.JPG"), b"\xff\xd8\xff broken").unwrap(),
        "DIR/a.JPG: not a readable JPEG file",
    );
    case(
        "npy-shape",
        &|d| {
            write_npy(
                d.join("a.npy"),
                &wgcnn::Tensor::from_fn(vec![2, 32, 31, 3], |_| 0.0).unwrap(),
            )
            .unwrap()
        },
        "DIR/a.npy: shape [2, 32, 31, 3], but the model's input 'image' takes [32, 32, 3]",
    );
    case(
        "npy-corrupt",
        &|d| std::fs::write(d.join("a.npy"), b"\x93NUMPY junk").unwrap(),
        "DIR/a.npy: not a valid .npy file",
    );
    case(
        "same-name",
        &|d| {
            std::fs::copy(batch_fixture("images/rgb.png"), d.join("z.PNG")).unwrap();
        },
        "DIR/z.PNG and DIR/z.png would both write their outputs to",
    );

    // (--output-dir is created before the files are read, as `run --output-dir` does.)
    let nothing = dir.file("nothing");
    let empty = dir.file("empty");
    std::fs::create_dir_all(&empty).unwrap();
    assert_fails(
        run(&empty, &[]),
        "holds no .npy, .png, .jpg or .jpeg file",
        &nothing,
    );
    assert_fails(run(&dir.file("missing"), &[]), "missing", &nothing);
    let images = batch_fixture("images");
    assert_fails(
        run(&images, &["--output-dir", arg(&images)]),
        "is the input directory",
        &images.join("rgb.png.npy"),
    );
    let two = models("two_heads.keras");
    assert_fails(
        wgcnn(&[
            "run",
            arg(&two),
            "--backend",
            "cpu",
            "--input-dir",
            arg(&images),
        ]),
        "the model has 2 inputs (image, ids); --input-dir feeds a model with one",
        &nothing,
    );
    // A model whose input is no image: said once, naming the file.
    let every = models("every_layer.keras");
    assert_fails(
        wgcnn(&[
            "run",
            arg(&every),
            "--backend",
            "cpu",
            "--input-dir",
            arg(&images),
        ]),
        "but the model takes 13x11",
        &nothing,
    );
    let both = wgcnn(&[
        "run",
        arg(&model),
        "--input-dir",
        arg(&images),
        "--input",
        "x.npy",
    ]);
    assert!(!both.status.success());
    assert!(String::from_utf8_lossy(&both.stderr).contains("cannot be used with"));
}
