//! Hostile input: stacks written to hurt the compiler (deep nesting, huge ranges, values that
//! double with every line, random bytes, enormous lines, text cut off at the end of a file).
//! `cairn check` and `cairn render` must refuse each one with exit status 1 and a diagnostic on
//! stderr: no panic, no stack overflow, no signal, and within a bounded time.
//!
//! The last section holds reproducers of crashes found by hand or by the fuzz target in
//! `fuzz/` (see `fuzz/Cargo.toml`).

use std::io::Read;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Far above what any of these needs in a debug build; a run this long is a hang.
const DEADLINE: Duration = Duration::from_secs(120);

struct Outcome {
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: String,
    elapsed: Duration,
}

/// Runs `cairn <command> --color never <dir>`, killing it at the deadline.
fn run(command: &str, dir: &Path) -> Outcome {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args([command, "--color", "never"])
        .arg(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the cairn binary starts");
    // Drain both pipes on threads so a chatty child never blocks on a full pipe.
    let mut out_pipe = child.stdout.take().expect("stdout is piped");
    let mut err_pipe = child.stderr.take().expect("stderr is piped");
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out_pipe.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err_pipe.read_to_end(&mut buf);
        buf
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for cairn") {
            break status;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`cairn {command}` still running after {DEADLINE:?}: killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = start.elapsed();
    let stdout = out_reader.join().expect("stdout reader");
    let stderr = String::from_utf8_lossy(&err_reader.join().expect("stderr reader")).into_owned();
    Outcome { status, stdout, stderr, elapsed }
}

/// A short description of how a process ended (signals included).
fn describe(status: &ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return format!("killed by signal {sig}");
        }
    }
    format!("{status}")
}

/// The last `n` characters of `s`, for failure messages about huge outputs.
fn tail(s: &str, n: usize) -> &str {
    let mut start = s.len().saturating_sub(n);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

/// Writes `files` into a fresh stack directory `…/stack` (a valid stack name, so the stack's
/// name is never the reason it fails) and runs `check` and `render` on it. Both must exit with
/// status 1 and say why on stderr; each code of `codes` must appear there.
fn refused(files: &[(&str, &[u8])], codes: &[&str]) {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let dir = tmp.path().join("stack");
    std::fs::create_dir(&dir).expect("the stack directory");
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).expect("a stack file");
    }
    for command in ["check", "render"] {
        let o = run(command, &dir);
        let what = format!("`cairn {command}` on {:?}", files.iter().map(|(n, b)| format!("{n} ({} bytes)", b.len())).collect::<Vec<_>>());
        assert_eq!(
            o.status.code(),
            Some(1),
            "{what}: expected exit status 1, got {} after {:?}; stderr ends:\n{}",
            describe(&o.status),
            o.elapsed,
            tail(&o.stderr, 3000)
        );
        assert!(!o.stderr.contains("panicked"), "{what}: panicked:\n{}", tail(&o.stderr, 3000));
        assert!(o.stderr.contains("error"), "{what}: no error on stderr:\n{}", tail(&o.stderr, 3000));
        for code in codes {
            assert!(o.stderr.contains(code), "{what}: no {code} on stderr:\n{}", tail(&o.stderr, 3000));
        }
        if command == "render" {
            assert!(o.stdout.is_empty(), "{what}: render printed {} bytes despite errors", o.stdout.len());
        }
    }
}

/// One file `main.cairn`.
fn refused_text(text: &str, codes: &[&str]) {
    refused(&[("main.cairn", text.as_bytes())], codes);
}

/// A small deterministic generator (xorshift64*), so the random inputs are the same every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

// ---- nesting ---------------------------------------------------------------------------------

#[test]
fn twenty_thousand_nested_parentheses() {
    refused_text(&format!("let x = {}1{}\n", "(".repeat(20_000), ")".repeat(20_000)), &["E0106"]);
}

#[test]
fn deeply_nested_blocks() {
    let src = format!("namespace \"a\" {{\n{}{}}}\n", "quota {\n".repeat(20_000), "}\n".repeat(20_000));
    refused_text(&src, &["E0106"]);
}

#[test]
fn deeply_nested_maps_and_lists() {
    refused_text(&format!("let m = {}1{}\n", "{ a = ".repeat(20_000), " }".repeat(20_000)), &["E0106"]);
    refused_text(&format!("let l = {}1{}\n", "[".repeat(20_000), "]".repeat(20_000)), &["E0106"]);
    refused_text(&format!("let u = {}true\n", "!".repeat(200_000)), &["E0106"]);
}

#[test]
fn deeply_nested_interpolations() {
    refused_text(&format!("let s = \"{}x{}\"\n", "${\"".repeat(20_000), "\"}".repeat(20_000)), &["E0106"]);
}

// ---- huge computations -----------------------------------------------------------------------

#[test]
fn a_range_of_a_billion() {
    refused_text("let xs = range(1000000000)\nnamespace \"a\" {\n  labels = { n = \"${length(xs)}\" }\n}\n", &["E0702"]);
}

#[test]
fn a_comprehension_over_a_huge_range() {
    refused_text("let xs = [for i in range(1000000000) : i * 2]\nnamespace \"a\" {\n  labels = { n = \"${length(xs)}\" }\n}\n", &["E0702"]);
    // Each range is allowed; a million of them is not.
    refused_text(
        "let xs = [for i in range(1000000) : [for j in range(1000000) : j]]\nnamespace \"a\" {\n  labels = { n = \"${length(xs)}\" }\n}\n",
        &["E0702"],
    );
    refused_text(
        "let xs = [for i in range(1000000) : range(1000000)]\nnamespace \"a\" {\n  labels = { n = \"${length(xs)}\" }\n}\n",
        &["E0702"],
    );
}

#[test]
fn a_million_resources_from_nested_loops() {
    refused_text("for i in range(1000) {\n  for j in range(1000) {\n    namespace \"n-${i}-${j}\" {}\n  }\n}\n", &["E0702"]);
}

// ---- random bytes ----------------------------------------------------------------------------

#[test]
fn random_bytes() {
    let mut rng = Rng(0x5eed_cafe_f00d_0001);
    for round in 0..4 {
        let a = rng.bytes(4096);
        // Mostly text, with NULs and bytes that are not UTF-8 sprinkled in.
        const ALPHABET: &[u8] = b"abc{}[]()=\"$\\<-# \n\t,.:?0123456789";
        let mut b: Vec<u8> = (0..4096).map(|_| ALPHABET[rng.below(ALPHABET.len())]).collect();
        for _ in 0..16 {
            let at = rng.below(b.len());
            b[at] = [0x00, 0xff, 0xc3, 0x80, 0xfe][rng.below(5)];
        }
        let c = rng.bytes(64 + round * 1000);
        refused(&[("a.cairn", &a), ("b.cairn", &b), ("c.cairn", &c)], &[]);
    }
}

#[test]
fn invalid_utf8_and_nul_bytes_in_otherwise_valid_files() {
    refused(&[("main.cairn", b"namespace \"a\" {}\n"), ("bad.cairn", b"namespace \"b\" {\n  labels = { k = \"\xff\xfe\" }\n}\n")], &[]);
    refused(&[("main.cairn", b"namespace \"a\\0\" {}\n\0\0\0")], &[]);
    refused(&[("main.cairn", b"\0")], &[]);
}

#[test]
fn random_token_soup() {
    const TOKENS: &[&str] = &[
        "let",
        "x",
        "=",
        "{",
        "}",
        "[",
        "]",
        "(",
        ")",
        ",",
        "\n",
        "for",
        "in",
        "if",
        "else",
        ":",
        "?",
        "=>",
        "+",
        "-",
        "*",
        "/",
        "%",
        "!",
        "&&",
        "||",
        "==",
        "\"s${",
        "}\"",
        "\"str\"",
        "<<EOT\n",
        "EOT\n",
        "1",
        "2Gi",
        "0.5",
        "500m",
        "true",
        "null",
        "namespace",
        "workload",
        "pool",
        "template",
        "import",
        "\"std/apps\"",
        "range(",
        "merge(",
        "x.y",
        "workload.a",
        "# c\n",
        "/*",
        "*/",
        ".",
        "import",
    ];
    let mut rng = Rng(0xdead_beef_0000_0042);
    for _ in 0..6 {
        let text: String = (0..3000).map(|_| TOKENS[rng.below(TOKENS.len())]).collect::<Vec<_>>().join(" ");
        refused_text(&text, &[]);
    }
}

// ---- long lines and files cut short ----------------------------------------------------------

#[test]
fn a_one_megabyte_line() {
    // An error a million columns to the right.
    refused_text(&format!("let xs = [{}oops oops]\n", "1, ".repeat(350_000)), &["E0101"]);
    // A name a megabyte long.
    refused_text(&format!("namespace \"{}\" {{}}\n", "a".repeat(1 << 20)), &[]);
    // A megabyte of comment, then an error on the next line.
    refused_text(&format!("# {}\nlet x = = 1\n", "x".repeat(1 << 20)), &["E0101"]);
}

#[test]
fn unterminated_string_at_end_of_file() {
    refused_text("namespace \"a\" {\n  labels = { k = \"no end", &[]);
    refused_text("let s = \"abc ${ 1 + ", &[]);
    refused_text("let s = \"", &[]);
}

#[test]
fn unterminated_heredoc_at_end_of_file() {
    refused_text("let s = <<EOT\nline\n", &["E0108"]);
    refused_text("let s = <<-EOT\n  line\n  EO", &["E0108"]);
    refused_text("let s = <<EOT", &[]);
}

#[test]
fn unterminated_comment_and_block_at_end_of_file() {
    refused_text("namespace \"a\" {}\n/* never closed", &["E0108"]);
    refused_text("namespace \"a\" {\n  labels = {", &[]);
}

// ---- reproducers -----------------------------------------------------------------------------

/// A chain of 200,000 operators parsed into a tree 200,000 deep, whose `Drop` overflowed the
/// stack after the diagnostics were printed (fixed: chains longer than MAX_CHAIN are E0106).
#[test]
fn long_operator_and_suffix_chains() {
    refused_text(&format!("let m = 1{}\nnamespace \"a\" {{\n  labels = {{ n = \"${{m}}\" }}\n}}\n", " + 1".repeat(200_000)), &["E0106"]);
    refused_text(&format!("let m = a{}\n", ".b".repeat(200_000)), &["E0106"]);
    refused_text(&format!("let m = a{}\n", "[0]".repeat(200_000)), &["E0106"]);
}

/// `else if` chains recursed without a limit (fixed: they count as nesting).
#[test]
fn a_long_else_if_chain() {
    refused_text(&format!("if true {{\n}}{}\n", " else if true {\n}".repeat(100_000)), &["E0106"]);
}

/// miette panics ("Formatting argument out of range") when it underlines a column past
/// 65,535; the CLI now prints the position instead of the snippet for such lines.
#[test]
fn an_error_past_column_65535() {
    refused_text(&format!("let m = true{} ? 1 : 2\n", " ? 1 : true".repeat(20_000)), &["E0106"]);
    refused_text(&format!("let m = {}1 +\n", "1 + ".repeat(20_000)), &[]);
}

/// Each line doubles a value that shares its halves: forty lines made values of 2^40 parts,
/// which comparison, `to_json` and lowering expanded until memory ran out.
#[test]
fn values_that_double_with_every_line() {
    let lets = |body: &dyn Fn(usize) -> String| (0..40).map(|i| format!("let s{} = {}\n", i + 1, body(i))).collect::<String>();
    let strings = lets(&|i| format!("\"${{s{i}}}${{s{i}}}\""));
    refused_text(&format!("let s0 = \"xxxxxxxxxxxxxxxx\"\n{strings}namespace \"a\" {{\n  labels = {{ n = s40 }}\n}}\n"), &["E0702"]);
    let lists = lets(&|i| format!("[s{i}, s{i}]"));
    refused_text(&format!("let s0 = [1, 2]\n{lists}namespace \"a\" {{\n  labels = {{ n = to_json(s40) }}\n}}\n"), &["E0702"]);
    refused_text(&format!("let s0 = [1, 2]\n{lists}namespace \"a\" {{\n  labels = {{ n = \"${{s40 == s40}}\" }}\n}}\n"), &["E0702"]);
    refused_text(
        &format!("let s0 = [1, 2]\n{lists}manifest \"a\" {{\n  object = {{ apiVersion = \"v1\", kind = \"ConfigMap\", metadata = {{ name = \"a\" }}, data = {{ x = s40 }} }}\n}}\n"),
        &["E0702"],
    );
}

/// Lets evaluated one after another nest a value 100,000 deep (far deeper than any one
/// expression may), which overflowed the stack when it was dropped.
#[test]
fn a_value_nested_by_a_hundred_thousand_lets() {
    let n = 100_000;
    let mut src = String::from("let a0 = 1\n");
    for i in 0..n {
        src.push_str(&format!("let a{} = [a{i}]\n", i + 1));
    }
    for i in (0..n).step_by(100) {
        src.push_str(&format!("namespace \"n{i}\" {{\n  labels = {{ n = \"${{length(a{i})}}\" }}\n}}\n"));
    }
    refused_text(&src, &["E0702"]);
}

/// Tens of thousands of errors: each "did you mean" compared the unknown name with every let
/// (an hour for a hundred thousand), and each drawn report copied the whole file (fixed: suggestions have a
/// budget, and at most 200 reports are drawn).
#[test]
fn tens_of_thousands_of_errors() {
    let src: String = (0..50_000).map(|i| format!("let a{i} = x{i}\n")).collect();
    refused_text(&src, &["E0201"]);
    let src: String = (0..20_000).map(|i| format!("namespace \"n{i}\" {{\n  labels = {{ a = namespace.x{i}.name }}\n}}\n")).collect();
    refused_text(&src, &["E0202"]);
}

/// Characters that are not tokens made an error each, and each error's report scanned the
/// line: a quarter megabyte of them took half an hour (fixed: a run of them is one error).
#[test]
fn a_run_of_unexpected_characters() {
    refused_text(&format!("let x = {}\n", "\u{1}".repeat(1 << 18)), &["E0109"]);
}
