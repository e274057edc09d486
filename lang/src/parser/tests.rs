use super::*;

fn ok(src: &str) -> File {
    let p = parse(src, FileId(0));
    assert!(p.diagnostics.is_empty(), "unexpected diagnostics for {src:?}: {:#?}", p.diagnostics);
    p.file
}

fn errors(src: &str) -> Vec<String> {
    parse(src, FileId(0)).diagnostics.iter().map(|d| format!("{} {}", d.code, d.message)).collect()
}

#[test]
fn parses_blocks_attributes_and_labels() {
    let f = ok("namespace \"shop\" {\n  labels = { team = \"a\" }\n}\nworkload web { image = \"x:1\", replicas = 2, }\n");
    assert_eq!(f.stmts.len(), 2);
    let Stmt::Block(b) = &f.stmts[1] else { panic!("not a block") };
    assert!(matches!(b.label, Some(Label::Ident(_))));
    assert_eq!(b.body.len(), 2);
}

#[test]
fn keyword_followed_by_assign_is_an_attribute() {
    let f = ok("manifest \"m\" {\n  template = { if = 1 }\n  for = 2\n}\n");
    let Stmt::Block(b) = &f.stmts[0] else { panic!() };
    assert!(b.body.iter().all(|s| matches!(s, Stmt::Attr(_))));
}

#[test]
fn operator_precedence_follows_hcl() {
    let (e, d) = parse_expr("a || b && c == d + e * f", FileId(0));
    assert!(d.is_empty());
    let ExprKind::Binary(BinOp::Or, _, rhs) = e.kind else { panic!("or at the top") };
    let ExprKind::Binary(BinOp::And, _, rhs) = rhs.kind else { panic!() };
    let ExprKind::Binary(BinOp::Eq, _, rhs) = rhs.kind else { panic!() };
    let ExprKind::Binary(BinOp::Add, _, rhs) = rhs.kind else { panic!() };
    assert!(matches!(rhs.kind, ExprKind::Binary(BinOp::Mul, _, _)));
}

#[test]
fn conditional_is_right_associative() {
    let (e, d) = parse_expr("a ? b : c ? d : e", FileId(0));
    assert!(d.is_empty());
    let ExprKind::Cond(_, _, other) = e.kind else { panic!() };
    assert!(matches!(other.kind, ExprKind::Cond(..)));
}

#[test]
fn comparisons_do_not_chain() {
    assert_eq!(errors("let x = 1 < 2 < 3\n"), vec!["E0101 comparisons do not chain"]);
}

#[test]
fn newlines_inside_brackets_and_after_operators() {
    ok("let x = [\n  1,\n  2,\n]\nlet y = 1 +\n  2\nlet z = f(\n  a,\n  b,\n)\nlet c = a ?\n  b :\n  c\n");
}

#[test]
fn comprehensions() {
    ok("let a = [for x in xs : x * 2 if x != 1]\nlet b = {for k, v in m : k => v}\n");
}

#[test]
fn interpolation_and_heredoc() {
    let f = ok("let a = \"team-${t} and ${ \"}\" }\"\nlet h = <<-EOT\n    one ${x}\n      two\n    EOT\n");
    let Stmt::Let(l) = &f.stmts[1] else { panic!() };
    let ExprKind::Heredoc { parts, indent, .. } = &l.value.kind else { panic!() };
    assert!(indent);
    let StrPart::Lit(first) = &parts[0] else { panic!() };
    assert_eq!(first, "one ");
    let StrPart::Lit(rest) = &parts[2] else { panic!() };
    assert_eq!(rest, "\n  two\n");
}

#[test]
fn templates_imports_for_and_if() {
    ok("import \"std/apps\" as apps\ntemplate web(name, port = 80) {\n  workload name { image = \"x:1\" }\n}\nfor t in [\"a\", \"b\"] {\n  namespace \"team-${t}\" {}\n}\nif true {\n  apps.web_app \"x\" { image = \"y:1\" }\n}\nelse {\n}\n");
}

#[test]
fn one_typo_gives_one_error() {
    let e = errors("workload \"a\" {\n  image = = \"x\"\n  replicas = 2\n}\nnamespace \"b\" {}\n");
    assert_eq!(e.len(), 1, "{e:?}");
}

#[test]
fn unclosed_block_is_reported_once() {
    let e = errors("namespace \"a\" {\n  workload \"b\" {\n    image = \"x\"\n");
    assert_eq!(e, vec!["E0104 unclosed `{`: the block is never closed"]);
}

#[test]
fn let_inside_a_block_is_misplaced() {
    let e = errors("namespace \"a\" {\n  let x = 1\n}\n");
    assert_eq!(e, vec!["E0107 `let` is allowed only at a file's top level"]);
}

#[test]
fn missing_equals_has_a_helpful_error() {
    let p = parse("workload \"a\" {\n  image \"nginx\"\n}\n", FileId(0));
    assert_eq!(p.diagnostics.len(), 1);
    assert!(p.diagnostics[0].help.as_deref().is_some_and(|h| h.contains("image = …")));
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let src = format!("let x = {}1{}\n", "(".repeat(20_000), ")".repeat(20_000));
    let e = errors(&src);
    assert!(e.iter().any(|m| m.starts_with("E0106")), "{e:?}");
    let src = format!("let x = {}1\n", "-".repeat(20_000));
    assert!(errors(&src).iter().any(|m| m.starts_with("E0106")));
    let src = format!("{}\n", "a {".repeat(5_000));
    assert!(!errors(&src).is_empty());
}

/// A xorshift generator: the property tests below are reproducible from their seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Every `Span { .. }` in `value`'s `Debug` form as `(start, end)`: every span of the tree
/// without a walker that a new node type could escape.
fn spans_in(value: &impl std::fmt::Debug) -> Vec<(usize, usize)> {
    let text = format!("{value:?}");
    let number = |s: &str, key: &str| -> Option<usize> {
        let rest = &s[s.find(key)? + key.len()..];
        rest[..rest.find(|c: char| !c.is_ascii_digit())?].parse().ok()
    };
    text.split("Span { ").skip(1).filter_map(|s| Some((number(s, "start: ")?, number(s, "end: ")?))).collect()
}

/// What `parse` promises for any text: every span of the tree, of each diagnostic and of its
/// labels lies inside the text and on character boundaries; every diagnostic has a code and a
/// message; an `Error` node comes with an error diagnostic; and the work is bounded by the input:
/// no more diagnostics than bytes (plus one for the end).
#[track_caller]
fn check_parse_promises(text: &str) {
    let p = parse(text, FileId(0));
    let inside = |(start, end): (usize, usize), what: &str| {
        assert!(start <= end && end <= text.len(), "{what} span {start}..{end} outside the text ({} bytes): {text:?}", text.len());
        assert!(text.is_char_boundary(start) && text.is_char_boundary(end), "{what} span {start}..{end} splits a character: {text:?}");
    };
    for span in spans_in(&p.file) {
        inside(span, "tree");
    }
    for d in &p.diagnostics {
        inside((d.span.start as usize, d.span.end as usize), d.code);
        for l in &d.labels {
            inside((l.span.start as usize, l.span.end as usize), "label");
            assert!(!l.message.is_empty(), "a label of {} has no message: {text:?}", d.code);
        }
        assert!(d.code.len() == 5 && d.code.starts_with(['E', 'W']), "bad code {:?}: {text:?}", d.code);
        assert!(!d.message.trim().is_empty(), "{} has no message: {text:?}", d.code);
    }
    if format!("{:?}", p.file).contains("kind: Error") {
        assert!(p.diagnostics.iter().any(Diagnostic::is_error), "an Error node without an error diagnostic: {text:?}");
    }
    assert!(p.diagnostics.len() <= text.len() + 1, "{} diagnostics for {} bytes: {text:?}", p.diagnostics.len(), text.len());
}

#[test]
fn arbitrary_bytes_parse_within_the_promises() {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    for _ in 0..400 {
        let len = rng.below(160);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        check_parse_promises(&String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn random_token_soup_parses_within_the_promises() {
    const TOKENS: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        "(",
        ")",
        "\"",
        "\"a${b}\"",
        "${",
        "=",
        "==",
        "=>",
        "<",
        ">",
        "-",
        "!",
        "?",
        ":",
        ",",
        ".",
        "#",
        "//",
        "/*",
        "*/",
        "\n",
        " ",
        "\t",
        "a",
        "b_1",
        "1",
        "1.5",
        "2Gi",
        "500m",
        "\\",
        "é",
        "☃",
        "namespace",
        "workload",
        "let",
        "import",
        "template",
        "for",
        "in",
        "if",
        "else",
        "true",
        "null",
        "<<EOT\n",
        "<<-EOT\n",
        "EOT",
        "\r\n",
        "5min",
        "99999999999999999999",
        "\"\\q\"",
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..600 {
        let n = rng.below(60);
        let text: String = (0..n).map(|_| TOKENS[rng.below(TOKENS.len())]).collect();
        check_parse_promises(&text);
    }
}
