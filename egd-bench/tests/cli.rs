//! Integration tests of the `egd` binary: exit codes, one-line errors, the
//! JSON last line, the files written, the `compare`/`sweep` tables, and the
//! sharded path: `--shard I/N` results files merged by `egd report` give
//! the unsharded table, also after a shard was killed (torn results file)
//! or interrupted with Ctrl-C and resumed. Every run here is a tiny model
//! for at most 70 epochs (a few seconds each).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const EGD: &str = env!("CARGO_BIN_EXE_egd");

fn egd(args: &[&str]) -> Output {
    Command::new(EGD)
        .args(args)
        .output()
        .expect("run the egd binary")
}

/// A fresh, empty output directory for one test.
fn out_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("egd-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

// ---- a minimal JSON reader, enough to check the schema -------------------

#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Self>),
    Obj(Vec<(String, Self)>),
}

impl Json {
    fn get(&self, key: &str) -> Option<&Self> {
        match self {
            Self::Obj(kv) => kv.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

struct Reader<'a> {
    s: &'a [u8],
    i: usize,
}

impl Reader<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Result<(), String> {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!("expected '{}' at {}", c as char, self.i))
        }
    }

    fn lit(&mut self, word: &str, v: Json) -> Result<Json, String> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(format!("bad literal at {}", self.i))
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.eat(b'"')?;
        let mut out = String::new();
        loop {
            let c = *self.s.get(self.i).ok_or("unterminated string")?;
            self.i += 1;
            match c {
                b'"' => return Ok(out),
                b'\\' => {
                    let e = *self.s.get(self.i).ok_or("bad escape")?;
                    self.i += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hex = std::str::from_utf8(&self.s[self.i..self.i + 4])
                                .map_err(|e| e.to_string())?;
                            let v = u32::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
                            out.push(char::from_u32(v).ok_or("bad \\u")?);
                            self.i += 4;
                        }
                        _ => return Err(format!("bad escape at {}", self.i)),
                    }
                }
                c if c < 0x20 => return Err("control character in string".into()),
                _ => {
                    // Copy one UTF-8 sequence.
                    let start = self.i - 1;
                    let len = match c {
                        0xF0.. => 4,
                        0xE0.. => 3,
                        0xC0.. => 2,
                        _ => 1,
                    };
                    self.i = start + len;
                    out.push_str(
                        std::str::from_utf8(&self.s[start..self.i]).map_err(|e| e.to_string())?,
                    );
                }
            }
        }
    }

    fn value(&mut self) -> Result<Json, String> {
        self.ws();
        match self.s.get(self.i).copied().ok_or("unexpected end")? {
            b'n' => self.lit("null", Json::Null),
            b't' => self.lit("true", Json::Bool(true)),
            b'f' => self.lit("false", Json::Bool(false)),
            b'"' => self.string().map(Json::Str),
            b'[' => {
                self.i += 1;
                let mut v = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(Json::Arr(v));
                }
                loop {
                    v.push(self.value()?);
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Json::Arr(v));
                        }
                        _ => return Err(format!("bad array at {}", self.i)),
                    }
                }
            }
            b'{' => {
                self.i += 1;
                let mut kv = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(Json::Obj(kv));
                }
                loop {
                    let k = self.string()?;
                    self.eat(b':')?;
                    kv.push((k, self.value()?));
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Json::Obj(kv));
                        }
                        _ => return Err(format!("bad object at {}", self.i)),
                    }
                }
            }
            _ => {
                let start = self.i;
                while self.i < self.s.len()
                    && matches!(
                        self.s[self.i],
                        b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
                    )
                {
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.s[start..self.i]).map_err(|e| e.to_string())?;
                t.parse()
                    .map(Json::Num)
                    .map_err(|_| format!("bad number '{t}' at {start}"))
            }
        }
    }
}

fn parse_json(s: &str) -> Result<Json, String> {
    let mut r = Reader {
        s: s.as_bytes(),
        i: 0,
    };
    let v = r.value()?;
    r.ws();
    if r.i == s.len() {
        Ok(v)
    } else {
        Err(format!("trailing text at {}", r.i))
    }
}

fn last_line_json(o: &Output) -> Json {
    let out = stdout(o);
    let line = out.lines().last().expect("some stdout");
    parse_json(line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

/// The keys every run object must have (the documented minimum).
const KEYS: &[&str] = &[
    "schema",
    "code_version",
    "task",
    "optimizer",
    "seed",
    "lr",
    "wd",
    "batch",
    "width",
    "steps_per_epoch",
    "epochs_run",
    "grok_epoch",
    "grok_step",
    "fit_epoch",
    "epoch_99",
    "final_train_acc",
    "final_test_acc",
    "ms_per_step",
    "grok_train_s",
    "grok_wall_s",
    "wall_s",
];

fn check_run_object(v: &Json) {
    for k in KEYS {
        assert!(v.get(k).is_some(), "missing key {k} in {v:?}");
    }
    match v.get("task") {
        Some(Json::Str(t)) if t == "parity" => {
            assert!(matches!(v.get("n"), Some(Json::Num(_))));
            assert!(matches!(v.get("k"), Some(Json::Num(_))));
        }
        Some(Json::Str(_)) => assert!(matches!(v.get("p"), Some(Json::Num(_)))),
        other => panic!("task: {other:?}"),
    }
    // grok_step = grok_epoch × steps_per_epoch, or both null.
    match (
        v.get("grok_epoch"),
        v.get("grok_step"),
        v.get("steps_per_epoch"),
    ) {
        (Some(Json::Null), Some(Json::Null), _) => {}
        (Some(Json::Num(e)), Some(Json::Num(s)), Some(Json::Num(spe))) => {
            assert_eq!(*s, e * spe);
        }
        other => panic!("grok fields: {other:?}"),
    }
}

// ---- bad arguments --------------------------------------------------------

#[test]
fn bad_arguments_exit_2_with_one_line() {
    let cases: &[(&[&str], &str)] = &[
        (&["grok", "--task", "mod-pow"], "--task"),
        (&["grok", "--task", "mod-add", "--p", "1"], "--p"),
        (&["grok", "--task", "mod-mul", "--p", "1"], "--p"),
        (&["grok", "--task", "parity", "--k", "200"], "--k"),
        (&["grok", "--lr", "0"], "--lr"),
        (&["grok", "--lr=-1"], "--lr"),
        (&["grok", "--lr", "abc"], "--lr"),
        (&["grok", "--preset", "paper-pow-97"], "--preset"),
        (&["grok", "--width", "100"], "compiled shapes"),
        (&["grok", "--p", "13"], "compiled shapes"),
        (&["grok", "--batch", "0"], "--batch"),
        (&["grok", "--batch", "100000"], "--batch"),
        (&["grok", "--epochs", "0"], "--epochs"),
        (&["grok", "--n", "10"], "--n"),
        (&["grok", "--train-frac", "1.5"], "--train-frac"),
        (&["grok", "--cutoff", "foo:1"], "--cutoff"),
        (&["grok", "--optimizer", "lion"], "--optimizer"),
        (
            &["grok", "--preset", "paper-add-97", "--task", "mod-add"],
            "--task",
        ),
        (&["compare", "--optimizers", "sgd,lion"], "--optimizers"),
        (&["compare", "--jobs", "0"], "--jobs"),
        (&["compare", "--seeds", "0"], "--seeds"),
        (&["compare", "--seeds", "18446744073709551615"], "--seeds"),
        (&["compare", "--jobs", "100000"], "--jobs"),
        (&["compare", "--shard", "2/2"], "--shard"),
        (&["sweep", "--shard", "x"], "--shard"),
        (&["report"], "DIR|FILE"),
        (&["report", "/nonexistent/egd-results"], "no such file"),
        (&["sweep", "--lrs", "0,0.5"], "--lrs"),
        (&["sweep", "--lrs", "lion:0.5"], "--lrs"),
        (&["frobnicate"], "frobnicate"),
    ];
    for (args, needle) in cases {
        let o = egd(args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(err.starts_with("error"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(!err.contains("RUST_BACKTRACE"), "{args:?}: {err}");
    }
}

#[test]
fn help_and_list() {
    for args in [&["--help"][..], &["grok", "--help"], &["--version"]] {
        let o = egd(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}");
    }
    let o = egd(&["list"]);
    assert_eq!(o.status.code(), Some(0));
    let s = stdout(&o);
    assert!(
        s.contains("paper-add-127") && s.contains("smoke-add-47"),
        "{s}"
    );
    assert!(
        s.contains("compiled shapes: ") && s.contains("p=127 width=512"),
        "{s}"
    );
}

// ---- runs -----------------------------------------------------------------

#[test]
fn grok_writes_json_csv_and_svg() {
    let dir = out_dir("grok");
    let d = dir.to_str().unwrap();
    let o = egd(&[
        "grok",
        "--preset",
        "smoke-add-47",
        "--epochs",
        "3",
        "--json",
        "--quiet",
        "--out",
        d,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = last_line_json(&o);
    check_run_object(&v);
    assert_eq!(v.get("epochs_run"), Some(&Json::Num(3.0)));
    assert_eq!(v.get("optimizer"), Some(&Json::Str("egd".into())));
    assert_eq!(v.get("preset"), Some(&Json::Str("smoke-add-47".into())));
    assert_eq!(v.get("steps_per_epoch"), Some(&Json::Num(13.0)));
    let Some(Json::Str(csv)) = v.get("csv") else {
        panic!("csv path")
    };
    let Some(Json::Str(svg)) = v.get("svg") else {
        panic!("svg path")
    };
    let text = std::fs::read_to_string(csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("epoch,step,train_acc,test_acc,train_loss,test_loss,w1_norm,ms,wall_s")
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 3);
    assert!(rows[2].starts_with("3,39,"), "{}", rows[2]);
    assert!(rows.iter().all(|r| r.split(',').count() == 9));
    let plot = std::fs::read_to_string(svg).unwrap();
    assert!(plot.starts_with("<svg") && plot.contains("<polyline"));
    assert!(stdout(&o).contains(&format!("wrote {csv}")));
    assert!(Path::new(svg).starts_with(&dir));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn grok_egd_rsvd_records_rank_and_power_iterations() {
    let dir = out_dir("grok-rsvd");
    let d = dir.to_str().unwrap();
    let o = egd(&[
        "grok",
        "--preset",
        "smoke-add-47",
        "--optimizer",
        "egd-rsvd",
        "--rank",
        "16",
        "--power-iters",
        "3",
        "--epochs",
        "2",
        "--json",
        "--quiet",
        "--out",
        d,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = last_line_json(&o);
    check_run_object(&v);
    assert_eq!(v.get("optimizer"), Some(&Json::Str("egd-rsvd".into())));
    assert_eq!(v.get("rank"), Some(&Json::Num(16.0)));
    assert_eq!(v.get("power_iters"), Some(&Json::Num(3.0)));
    let Some(Json::Str(csv)) = v.get("csv") else {
        panic!("csv path")
    };
    assert!(
        csv.contains("_egd-rsvd_") && csv.ends_with("_r16_q3_seed0.csv"),
        "{csv}"
    );
    let bad = egd(&["grok", "--optimizer", "egd-rsvd", "--rank", "0"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("--rank"), "{}", stderr(&bad));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn grok_parity_and_require_grok() {
    let dir = out_dir("parity");
    let d = dir.to_str().unwrap();
    let o = egd(&[
        "grok",
        "--preset",
        "paper-parity-3",
        "--optimizer",
        "sgd",
        "--epochs",
        "1",
        "--n-test",
        "500",
        "--json",
        "--quiet",
        "--require-grok",
        "--out",
        d,
    ]);
    // One epoch of SGD does not grok: exit status 3, JSON still printed.
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let v = last_line_json(&o);
    check_run_object(&v);
    assert_eq!(v.get("n"), Some(&Json::Num(100.0)));
    assert_eq!(v.get("k"), Some(&Json::Num(3.0)));
    assert_eq!(v.get("n_test"), Some(&Json::Num(500.0)));
    assert_eq!(v.get("steps_per_epoch"), Some(&Json::Num(62.0)));
    assert_eq!(v.get("grok_epoch"), Some(&Json::Null));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn compare_prints_the_table_and_a_json_array() {
    let dir = out_dir("compare");
    let d = dir.to_str().unwrap();
    let o = egd(&[
        "compare",
        "--preset",
        "smoke-add-47",
        "--optimizers",
        "sgd,egd,colnorm",
        "--seeds",
        "2",
        "--epochs",
        "2",
        "--jobs",
        "2",
        "--json",
        "--quiet",
        "--out",
        d,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s = stdout(&o);
    let header = s
        .lines()
        .find(|l| l.starts_with("| optimizer"))
        .expect("table header");
    let cols: Vec<&str> = header.split('|').map(str::trim).collect();
    for c in [
        "optimizer",
        "median epochs to grok",
        "min",
        "max",
        "never grokked",
        "median ms/step",
        "median time to grok (s)",
        "speed-up vs SGD (epochs)",
        "speed-up vs SGD (time)",
    ] {
        assert!(cols.contains(&c), "missing column {c}: {header}");
    }
    let rows: Vec<&str> = s
        .lines()
        .filter(|l| l.starts_with("| sgd") || l.starts_with("| egd") || l.starts_with("| colnorm"))
        .collect();
    assert_eq!(rows.len(), 3, "{s}");
    // Nothing groks in two epochs: 2/2 never, medians censored, n/a speed-ups.
    assert!(
        rows.iter()
            .all(|r| r.contains("| 2/2 |") && r.contains("> 2")),
        "{s}"
    );
    assert!(s.contains("n/a") && s.contains("SGD never grokked"), "{s}");
    let Json::Arr(runs) = last_line_json(&o) else {
        panic!("array")
    };
    assert_eq!(runs.len(), 6);
    runs.iter().for_each(check_run_object);
    assert!(
        dir.join("compare_smoke-add-47_sgd-egd-colnorm_2seeds.svg")
            .exists()
    );
    assert!(
        dir.join("compare_smoke-add-47_sgd-egd-colnorm_2seeds.md")
            .exists()
    );
    // Table, overlay, 6 × (CSV, SVG), and the results file.
    let files = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(files, 2 + 2 * 6 + 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sweep_reports_the_best_setting() {
    let dir = out_dir("sweep");
    let d = dir.to_str().unwrap();
    let o = egd(&[
        "sweep",
        "--optimizers",
        "sgd,adamw",
        "--lrs",
        "0.3,0.7",
        "--lrs",
        "adamw:0.001",
        "--wds",
        "0,0.0001",
        "--seeds",
        "1",
        "--epochs",
        "2",
        "--json",
        "--quiet",
        "--out",
        d,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s = stdout(&o);
    assert!(s.contains("Best setting per optimizer"), "{s}");
    assert!(s.contains("never-grokked runs count as +∞"), "{s}");
    let Json::Arr(runs) = last_line_json(&o) else {
        panic!("array")
    };
    // sgd: 2 lrs × 2 wds; adamw: 1 lr × 2 wds.
    assert_eq!(runs.len(), 6);
    runs.iter().for_each(check_run_object);
    let adamw_lrs: Vec<&Json> = runs
        .iter()
        .filter(|r| r.get("optimizer") == Some(&Json::Str("adamw".into())))
        .filter_map(|r| r.get("lr"))
        .collect();
    assert_eq!(adamw_lrs, vec![&Json::Num(0.001), &Json::Num(0.001)]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn json_reader_self_check() {
    let v = parse_json(r#"{"a":[1,-2.5e3,null,true],"b":"x\"\u00e9y","c":{}}"#).unwrap();
    assert_eq!(
        v.get("a"),
        Some(&Json::Arr(vec![
            Json::Num(1.0),
            Json::Num(-2500.0),
            Json::Null,
            Json::Bool(true)
        ]))
    );
    assert_eq!(v.get("b"), Some(&Json::Str("x\"éy".into())));
    assert!(parse_json("{} x").is_err());
}

// ---- shards, resume, report ----------------------------------------------

/// The compare list of the shard tests: 4 runs; EGD groks (epochs 60 and 63),
/// SGD does not.
const COMPARE: &[&str] = &[
    "compare",
    "--preset",
    "smoke-add-47",
    "--optimizers",
    "sgd,egd",
    "--seeds",
    "2",
    "--epochs",
    "70",
    "--jobs",
    "1",
];

fn run_in(base: &[&str], dir: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<&str> = base.to_vec();
    args.extend_from_slice(&["--out", dir.to_str().unwrap()]);
    args.extend_from_slice(extra);
    let o = egd(&args);
    assert!(
        matches!(o.status.code(), Some(0)),
        "{args:?}: {}\n{}",
        stdout(&o),
        stderr(&o)
    );
    o
}

/// The Markdown table(s) of an output, with the timing columns (whose
/// header names ms or seconds or time) blanked.
fn table_without_timings(text: &str) -> String {
    let mut out = String::new();
    let mut timing: Vec<usize> = Vec::new();
    for line in text.lines() {
        if !line.starts_with('|') {
            if !line.is_empty() {
                out.push_str(line);
                out.push('\n');
            }
            continue;
        }
        let cells: Vec<&str> = line.split('|').collect();
        if line.starts_with("| optimizer") {
            timing = cells
                .iter()
                .enumerate()
                .filter(|(_, c)| c.contains("ms/step") || c.contains("time"))
                .map(|(i, _)| i)
                .collect();
        }
        let row: Vec<&str> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| if timing.contains(&i) { "*" } else { c })
            .collect();
        out.push_str(&row.join("|"));
        out.push('\n');
    }
    out
}

/// The `.md` table written into `dir` for the compare/sweep `stem`.
fn md(dir: &Path, stem: &str) -> String {
    std::fs::read_to_string(dir.join(format!("{stem}.md")))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

/// The results files in `dir`.
fn results_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    v.sort();
    v
}

const COMPARE_STEM: &str = "compare_smoke-add-47_sgd-egd_2seeds";

/// The unsharded table of [`COMPARE`] without timings (run once, shared by
/// the tests of this binary).
fn unsharded_compare_table() -> &'static str {
    static TABLE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let whole = out_dir("whole");
        let o = run_in(COMPARE, &whole, &["--quiet"]);
        // EGD groks here and SGD does not, so the table is not all censored.
        assert!(stdout(&o).contains("| 0/2 |"), "{}", stdout(&o));
        let t = table_without_timings(&md(&whole, COMPARE_STEM));
        let _ = std::fs::remove_dir_all(&whole);
        t
    })
}

#[test]
fn shards_merged_by_report_give_the_unsharded_table() {
    let expected = unsharded_compare_table();
    assert!(expected.contains("| egd |"), "{expected}");

    let shards = out_dir("shards");
    let s0 = run_in(COMPARE, &shards, &["--shard", "0/2", "--quiet"]);
    assert!(stdout(&s0).contains("egd report"), "{}", stdout(&s0));
    assert!(!shards.join(format!("{COMPARE_STEM}.md")).exists());
    run_in(COMPARE, &shards, &["--shard", "1/2", "--quiet"]);
    assert_eq!(results_files(&shards).len(), 2);
    let merged = out_dir("merged");
    let o = egd(&[
        "report",
        shards.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(table_without_timings(&md(&merged, COMPARE_STEM)), expected);
    let Json::Arr(runs) = last_line_json(&o) else {
        panic!("array")
    };
    assert_eq!(runs.len(), 4);
    runs.iter().for_each(check_run_object);
    // Table, overlay and every run's CSV and SVG.
    assert!(merged.join(format!("{COMPARE_STEM}.svg")).exists());
    assert_eq!(std::fs::read_dir(&merged).unwrap().count(), 2 + 2 * 4);

    // A second, different list in the same directory: report refuses to mix.
    run_in(
        &[
            "compare",
            "--preset",
            "smoke-add-47",
            "--optimizers",
            "egd",
            "--seeds",
            "1",
            "--epochs",
            "1",
        ],
        &shards,
        &["--quiet"],
    );
    let o = egd(&["report", shards.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("different run lists cannot be merged"),
        "{}",
        stderr(&o)
    );
    for d in [shards, merged] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn a_killed_shard_resumes_and_merges_to_the_same_table() {
    let expected = unsharded_compare_table();

    let dir = out_dir("killed");
    run_in(COMPARE, &dir, &["--shard", "0/2", "--quiet"]);
    run_in(COMPARE, &dir, &["--shard", "1/2", "--quiet"]);
    // Simulate a kill during the last write of shard 1: drop its last line
    // and leave half of it, without the newline.
    let file = results_files(&dir)
        .into_iter()
        .find(|p| p.to_str().unwrap().ends_with("shard1of2.jsonl"))
        .unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    std::fs::write(
        &file,
        format!("{}\n{}", lines[0], &lines[1][..lines[1].len() / 2]),
    )
    .unwrap();
    // Merging now says what is missing.
    let o = egd(&["report", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("1 of 4 runs have no finished result"),
        "{}",
        stderr(&o)
    );
    // Resubmitting the shard runs only the lost run.
    let o = run_in(COMPARE, &dir, &["--shard", "1/2", "--quiet"]);
    assert!(
        stdout(&o).contains("resuming: 1 runs already finished"),
        "{}",
        stdout(&o)
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        text.lines().count(),
        2,
        "the torn tail is cut before appending"
    );
    let o = egd(&["report", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(table_without_timings(&md(&dir, COMPARE_STEM)), expected);
    let _ = std::fs::remove_dir_all(dir);
}

/// Sends `signal` (`"INT"`: Ctrl-C, `"TERM"`: Slurm's pre-emption) to a
/// child process.
fn interrupt(child: &std::process::Child, signal: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(ok.success());
}

#[test]
fn ctrl_c_records_the_run_as_interrupted_and_the_shard_resumes() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let expected = unsharded_compare_table();

    let dir = out_dir("int");
    run_in(COMPARE, &dir, &["--shard", "0/2", "--quiet"]);
    // Shard 1 runs sgd seed 1, then egd seed 1; interrupt it once the
    // first run has finished (its log line is on stderr).
    let mut args: Vec<&str> = COMPARE.to_vec();
    args.extend_from_slice(&["--shard", "1/2", "--out", dir.to_str().unwrap()]);
    let mut child = Command::new(EGD)
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while err.read_line(&mut line).unwrap() > 0 && !line.contains("[1/2]") {
        line.clear();
    }
    assert!(line.contains("[shard 1/2] [1/2]"), "{line}");
    interrupt(&child, "INT");
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stdout(&o));
    assert!(stdout(&o).contains("interrupted: 1 of this shard's 2 runs finished"));
    let file = results_files(&dir)
        .into_iter()
        .find(|p| p.to_str().unwrap().ends_with("shard1of2.jsonl"))
        .unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    let last = parse_json(text.lines().last().unwrap()).unwrap();
    assert_eq!(last.get("stop"), Some(&Json::Str("interrupted".into())));
    assert_eq!(last.get("optimizer"), Some(&Json::Str("egd".into())));
    // The partial curve was written too.
    let Some(Json::Str(csv)) = last.get("csv") else {
        panic!("csv")
    };
    let Some(Json::Num(epochs)) = last.get("epochs_run") else {
        panic!("epochs_run")
    };
    let rows = std::fs::read_to_string(csv).unwrap().lines().count() - 1;
    assert_eq!(rows as f64, *epochs);
    // Resuming reruns the interrupted run only; the merge matches.
    let o = run_in(COMPARE, &dir, &["--shard", "1/2", "--quiet"]);
    assert!(stdout(&o).contains("resuming: 1 runs already finished"));
    let o = egd(&["report", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(table_without_timings(&md(&dir, COMPARE_STEM)), expected);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn ctrl_c_or_sigterm_ends_grok_with_its_partial_curve() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    for signal in ["INT", "TERM"] {
        let dir = out_dir(&format!("grok-{signal}"));
        let mut child = Command::new(EGD)
            .args([
                "grok",
                "--preset",
                "smoke-add-47",
                "--optimizer",
                "sgd",
                "--epochs",
                "100000",
                "--early-stop",
                "0",
                "--json",
                "--out",
                dir.to_str().unwrap(),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut header = String::new();
        out.read_line(&mut header).unwrap();
        assert!(header.starts_with("egd grok:"), "{header}");
        std::thread::sleep(std::time::Duration::from_millis(500));
        interrupt(&child, signal);
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(130), "{signal}: {rest}");
        assert!(rest.contains("(interrupted)"), "{rest}");
        let v = parse_json(rest.lines().last().unwrap()).unwrap();
        check_run_object(&v);
        assert_eq!(v.get("stop"), Some(&Json::Str("interrupted".into())));
        // The curve so far is written: one CSV row per completed epoch.
        let (Some(Json::Str(csv)), Some(Json::Num(epochs))) = (v.get("csv"), v.get("epochs_run"))
        else {
            panic!("csv, epochs_run: {v:?}")
        };
        let rows = std::fs::read_to_string(csv).unwrap().lines().count() - 1;
        assert_eq!(rows as f64, *epochs);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn sharded_sweep_merges_to_the_unsharded_tables() {
    let sweep: &[&str] = &[
        "sweep",
        "--optimizers",
        "sgd,egd",
        "--lrs",
        "0.7,1.5",
        "--seeds",
        "1",
        "--epochs",
        "30",
        "--jobs",
        "2",
        "--quiet",
    ];
    let stem = "sweep_smoke-add-47_sgd-egd_1seeds";
    let whole = out_dir("sweep-whole");
    run_in(sweep, &whole, &[]);
    let dir = out_dir("sweep-shards");
    for s in ["0/3", "1/3", "2/3"] {
        run_in(sweep, &dir, &["--shard", s]);
    }
    let o = egd(&["report", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let t = md(&dir, stem);
    assert!(t.contains("Best setting per optimizer"), "{t}");
    assert_eq!(
        table_without_timings(&t),
        table_without_timings(&md(&whole, stem))
    );
    for d in [whole, dir] {
        let _ = std::fs::remove_dir_all(d);
    }
}
