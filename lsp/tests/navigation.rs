//! Navigation over LSP with real JSON-RPC messages: go to definition of lets, templates and
//! imports; find references and rename of resources and lets; the "did you mean" quick fix;
//! hover on values (never a secret). On the example stacks and on broken input.

mod common;

use std::path::{Path, PathBuf};

use common::{examples, ok, stack_dir, uri, Client};
use lsp_server::Response;
use serde_json::{json, Value};

/// The code and message of an error response.
fn err_msg(r: Response) -> (i32, String) {
    match r.response_result {
        Ok(v) => panic!("expected an error, got {v}"),
        Err(e) => (e.code, e.message),
    }
}

/// The LSP position (line, UTF-16 column; the texts here are ASCII) of the `n`-th occurrence of
/// `needle` in `text`, moved `delta` bytes into it.
fn pos(text: &str, needle: &str, n: usize, delta: usize) -> (u32, u32) {
    let at = text.match_indices(needle).nth(n).unwrap_or_else(|| panic!("no {n}-th `{needle}`")).0 + delta;
    let before = &text[..at];
    let line = before.matches('\n').count();
    let col = at - before.rfind('\n').map_or(0, |i| i + 1);
    (line as u32, col as u32)
}

/// The range of the `n`-th occurrence of `needle`, as JSON.
fn range_of(text: &str, needle: &str, n: usize) -> Value {
    let (l, c) = pos(text, needle, n, 0);
    json!({ "start": { "line": l, "character": c }, "end": { "line": l, "character": c + needle.len() as u32 } })
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

/// A copy of an example stack in a temporary directory of the same name.
fn copy_example(stack: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(stack);
    std::fs::create_dir(&dir).unwrap();
    for e in std::fs::read_dir(examples(stack)).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "cairn") {
            std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
        }
    }
    (tmp, dir)
}

/// Opens `path` with its text on disk.
fn open_file(c: &Client, path: &Path) -> (String, String) {
    let text = read(path);
    (c.open(path, &text), text)
}

fn hover_text(c: &mut Client, uri: &str, (line, col): (u32, u32)) -> String {
    let h = ok(c.at("textDocument/hover", uri, line, col));
    h["contents"]["value"].as_str().unwrap_or_else(|| panic!("no hover at {line}:{col}: {h}")).to_string()
}

fn references(c: &mut Client, uri: &str, (line, col): (u32, u32), include_declaration: bool) -> Vec<(String, Value)> {
    let r = ok(c.request(
        "textDocument/references",
        json!({ "textDocument": { "uri": uri }, "position": { "line": line, "character": col }, "context": { "includeDeclaration": include_declaration } }),
    ));
    let mut out: Vec<(String, Value)> = r
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .iter()
        .map(|l| (l["uri"].as_str().unwrap().to_string(), l["range"].clone()))
        .collect();
    out.sort_by_key(|(u, r)| (u.clone(), r["start"]["line"].as_u64(), r["start"]["character"].as_u64()));
    out
}

fn rename(c: &mut Client, uri: &str, (line, col): (u32, u32), new_name: &str) -> Response {
    c.request(
        "textDocument/rename",
        json!({ "textDocument": { "uri": uri }, "position": { "line": line, "character": col }, "newName": new_name }),
    )
}

/// Applies a WorkspaceEdit's changes to the files on disk (edits of one file do not overlap).
fn apply(edit: &Value) {
    for (uri, edits) in edit["changes"].as_object().unwrap() {
        let path = PathBuf::from(uri.strip_prefix("file://").unwrap());
        let mut text = read(&path);
        let mut edits: Vec<&Value> = edits.as_array().unwrap().iter().collect();
        edits.sort_by_key(|e| std::cmp::Reverse((e["range"]["start"]["line"].as_u64(), e["range"]["start"]["character"].as_u64())));
        for e in edits {
            let off = |p: &Value| {
                let line = p["line"].as_u64().unwrap() as usize;
                let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
                start + p["character"].as_u64().unwrap() as usize
            };
            let (a, b) = (off(&e["range"]["start"]), off(&e["range"]["end"]));
            text.replace_range(a..b, e["newText"].as_str().unwrap());
        }
        std::fs::write(&path, text).unwrap();
    }
}

/// Compiles a stack from disk as `cairn check` does.
fn check(dir: &Path) -> cairn_compiler::Compilation {
    cairn_compiler::compile(&cairn_compiler::DiskLoader, &cairn_compiler::MapEnv::default(), dir, cairn_compiler::Mode::Check).unwrap()
}

#[test]
fn initialize_announces_references_rename_and_quick_fixes() {
    let c = Client::start();
    let caps = &c.capabilities["capabilities"];
    assert_eq!(caps["referencesProvider"], true);
    assert_eq!(caps["renameProvider"]["prepareProvider"], true);
    assert_eq!(caps["codeActionProvider"]["codeActionKinds"], json!(["quickfix"]));
    c.shutdown();
}

#[test]
fn definition_of_a_let_goes_to_its_declaration_in_another_file() {
    let analytics = examples("analytics");
    let mut c = Client::start();
    let (pools, text) = open_file(&c, &analytics.join("pools.cairn"));
    let main = read(&analytics.join("main.cairn"));
    for n in [1, 3] {
        // `failure_domain = failure_domain`: the second one is the let.
        let loc = ok(c.at("textDocument/definition", &pools, pos(&text, "failure_domain", n, 3).0, pos(&text, "failure_domain", n, 3).1));
        assert_eq!(loc["uri"], uri(&analytics.join("main.cairn")));
        assert_eq!(loc["range"], range_of(&main, "failure_domain", 0));
    }
    // The attribute name is no let.
    let (l, col) = pos(&text, "failure_domain", 0, 3);
    assert_eq!(ok(c.at("textDocument/definition", &pools, l, col)), Value::Null);

    let shop = examples("shop");
    let (apps, text) = open_file(&c, &shop.join("apps.cairn"));
    let (l, col) = pos(&text, "web_version}", 0, 2);
    let loc = ok(c.at("textDocument/definition", &apps, l, col));
    assert_eq!(loc["uri"], apps);
    assert_eq!(loc["range"], range_of(&text, "web_version", 0));
    c.shutdown();
}

#[test]
fn definition_of_a_std_template_or_an_alias_goes_to_the_import() {
    let shop = examples("shop");
    let mut c = Client::start();
    let (apps, text) = open_file(&c, &shop.join("apps.cairn"));
    for (needle, delta) in [("apps.web_app", 7), ("apps.database", 2), ("apps.web_app", 0)] {
        let (l, col) = pos(&text, needle, 0, delta);
        let loc = ok(c.at("textDocument/definition", &apps, l, col));
        assert_eq!(loc["uri"], apps, "{needle}");
        assert_eq!(loc["range"]["start"], json!({ "line": 0, "character": 0 }), "{needle}: the import statement");
    }
    let (storage, text) = open_file(&c, &shop.join("storage.cairn"));
    let (l, col) = pos(&text, "block_pool", 0, 1);
    let loc = ok(c.at("textDocument/definition", &storage, l, col));
    assert_eq!(loc["range"]["start"], json!({ "line": 0, "character": 0 }), "`import \"std/storage\"` without an alias");
    c.shutdown();
}

#[test]
fn definition_of_a_user_template_goes_to_its_declaration() {
    let (_tmp, dir) = stack_dir();
    let lib = dir.parent().unwrap().join("lib");
    std::fs::create_dir(&lib).unwrap();
    let lib_text = "template team(name, quota_cpu = 2) {\n  namespace name {\n    labels = { team = name }\n  }\n}\n";
    std::fs::write(lib.join("team.cairn"), lib_text).unwrap();
    let local = "template svc(name) {\n  config name {\n    namespace = namespace.shop\n    data = {}\n  }\n}\n";
    std::fs::write(dir.join("local.cairn"), local).unwrap();
    let main = "import \"../lib\" as lib\n\nnamespace \"shop\" {}\n\nlib.team \"team-a\" {}\n\nsvc \"settings\" {}\n";
    let mut c = Client::start();
    let u = c.open(&dir.join("main.cairn"), main);
    let (l, col) = pos(main, "lib.team", 0, 5);
    let loc = ok(c.at("textDocument/definition", &u, l, col));
    assert_eq!(loc["uri"], uri(&lib.canonicalize().unwrap().join("team.cairn")));
    assert_eq!(loc["range"], range_of(lib_text, "team", 0));
    let (l, col) = pos(main, "svc", 0, 1);
    let loc = ok(c.at("textDocument/definition", &u, l, col));
    assert_eq!(loc["uri"], uri(&dir.join("local.cairn")));
    assert_eq!(loc["range"], range_of(local, "svc", 0));
    // The alias in `lib.team` goes to the import.
    let (l, col) = pos(main, "lib.team", 0, 1);
    assert_eq!(ok(c.at("textDocument/definition", &u, l, col))["range"]["start"], json!({ "line": 0, "character": 0 }));
    c.shutdown();
}

#[test]
fn references_of_a_resource_span_the_stack_and_honour_include_declaration() {
    let shop = examples("shop");
    let mut c = Client::start();
    let (apps, text) = open_file(&c, &shop.join("apps.cairn"));
    let main = read(&shop.join("main.cairn"));
    let at = pos(&text, "namespace.shop", 0, 12);
    let with = references(&mut c, &apps, at, true);
    // The name part of each `namespace.shop` (the fourth and sixth are in
    // `"${workload.db}.${namespace.shop}.svc"`; the last two are the route's and its secret's).
    let expected: Vec<(String, Value)> = (0..8)
        .map(|n| {
            let mut r = range_of(&text, "namespace.shop", n);
            r["start"]["character"] = json!(r["start"]["character"].as_u64().unwrap() + 10);
            (apps.clone(), r)
        })
        .collect();
    let mut decl_range = range_of(&main, "namespace \"shop\"", 0);
    decl_range["start"]["character"] = json!(11);
    decl_range["end"]["character"] = json!(15);
    let decl = (uri(&shop.join("main.cairn")), decl_range);
    assert_eq!(main.lines().nth(16).unwrap(), "namespace \"shop\" {");
    assert_eq!(decl.1["start"], json!({ "line": 16, "character": 11 }));
    // The `media` bucket in storage.cairn names the namespace too.
    let storage = read(&shop.join("storage.cairn"));
    let mut bucket = range_of(&storage, "namespace.shop", 0);
    bucket["start"]["character"] = json!(bucket["start"]["character"].as_u64().unwrap() + 10);
    let mut expected = expected;
    expected.push((uri(&shop.join("storage.cairn")), bucket));
    let mut all = expected.clone();
    all.push(decl.clone());
    all.sort_by_key(|(u, r)| (u.clone(), r["start"]["line"].as_u64(), r["start"]["character"].as_u64()));
    assert_eq!(with, all);
    let without = references(&mut c, &apps, at, false);
    assert_eq!(without, expected);
    // From the declaring label: the same answer.
    let (main_uri, _) = open_file(&c, &shop.join("main.cairn"));
    assert_eq!(references(&mut c, &main_uri, (16, 12), true), all);
    c.shutdown();
}

#[test]
fn references_of_a_let_across_files() {
    let analytics = examples("analytics");
    let mut c = Client::start();
    let (main, text) = open_file(&c, &analytics.join("main.cairn"));
    let pools = read(&analytics.join("pools.cairn"));
    let pools_uri = uri(&analytics.join("pools.cairn"));
    let at = pos(&text, "failure_domain", 0, 0);
    let uses = vec![(pools_uri.clone(), range_of(&pools, "failure_domain", 1)), (pools_uri.clone(), range_of(&pools, "failure_domain", 3))];
    assert_eq!(references(&mut c, &main, at, false), uses);
    let mut all = uses.clone();
    all.insert(0, (main.clone(), range_of(&text, "failure_domain", 0)));
    all.sort_by_key(|(u, r)| (u.clone(), r["start"]["line"].as_u64(), r["start"]["character"].as_u64()));
    assert_eq!(references(&mut c, &main, at, true), all);
    // Nothing under the cursor: null.
    assert_eq!(
        ok(c.request(
            "textDocument/references",
            json!({ "textDocument": { "uri": main }, "position": { "line": 0, "character": 0 }, "context": { "includeDeclaration": true } })
        )),
        Value::Null
    );
    c.shutdown();
}

#[test]
fn rename_a_namespace_across_the_shop_stack() {
    let (_tmp, dir) = copy_example("shop");
    let mut c = Client::start();
    let (apps, text) = open_file(&c, &dir.join("apps.cairn"));
    let at = pos(&text, "namespace.shop", 1, 11);
    let prep = ok(c.request(
        "textDocument/prepareRename",
        json!({ "textDocument": { "uri": apps }, "position": { "line": at.0, "character": at.1 } }),
    ));
    let mut name_range = range_of(&text, "namespace.shop", 1);
    name_range["start"]["character"] = json!(name_range["start"]["character"].as_u64().unwrap() + 10);
    assert_eq!(prep, json!({ "range": name_range, "placeholder": "shop" }));

    let edit = ok(rename(&mut c, &apps, at, "store"));
    let changes = edit["changes"].as_object().unwrap();
    assert_eq!(changes[&apps].as_array().unwrap().len(), 8, "{edit}");
    assert_eq!(changes[&uri(&dir.join("main.cairn"))].as_array().unwrap().len(), 1, "{edit}");
    assert!(changes[&apps].as_array().unwrap().iter().all(|e| e["newText"] == "store"));
    apply(&edit);
    let main = read(&dir.join("main.cairn"));
    assert!(main.contains("namespace \"store\" {"), "{main}");
    assert!(read(&dir.join("apps.cairn")).contains("${namespace.store}.svc"));
    let compiled = check(&dir);
    assert!(!compiled.has_errors(), "{:#?}", compiled.diagnostics);
    assert!(compiled.resources.iter().any(|r| r.addr.to_string() == "namespace.store"));
    assert!(!compiled.resources.iter().any(|r| r.addr.to_string() == "namespace.shop"));
    c.shutdown();
}

#[test]
fn rename_refuses_invalid_taken_and_std_names() {
    let (_tmp, dir) = copy_example("shop");
    std::fs::write(dir.join("more.cairn"), "namespace \"other\" {}\n").unwrap();
    let mut c = Client::start();
    let (apps, text) = open_file(&c, &dir.join("apps.cairn"));
    let at = pos(&text, "namespace.shop", 0, 11);
    let (code, msg) = err_msg(rename(&mut c, &apps, at, "Shop_1"));
    assert_eq!(code, -32803);
    assert!(msg.contains("invalid namespace name `Shop_1`"), "{msg}");
    let (_, msg) = err_msg(rename(&mut c, &apps, at, "other"));
    assert!(msg.contains("`namespace.other` already exists"), "{msg}");
    // A config name may hold dots, but `config.a.b` would read a data key.
    let cfg = pos(&text, "config.app", 0, 8);
    let (_, msg) = err_msg(rename(&mut c, &apps, cfg, "app.v2"));
    assert!(msg.contains("not an identifier"), "{msg}");
    // `secret.db-credentials` is made by `apps.database` in std/.
    let sec = pos(&text, "secret.db-credentials", 0, 9);
    let (code, msg) = err_msg(rename(&mut c, &apps, sec, "creds"));
    assert_eq!(code, -32803);
    assert!(msg.contains("declared in std/") && msg.contains("database"), "{msg}");
    let (_, msg) = err_msg(c.request(
        "textDocument/prepareRename",
        json!({ "textDocument": { "uri": apps }, "position": { "line": sec.0, "character": sec.1 } }),
    ));
    assert!(msg.contains("declared in std/"), "{msg}");
    // Not a symbol: prepareRename says null.
    assert_eq!(
        ok(c.request("textDocument/prepareRename", json!({ "textDocument": { "uri": apps }, "position": { "line": 1, "character": 0 } }))),
        Value::Null
    );
    c.shutdown();
}

#[test]
fn rename_a_let_across_files_and_refuse_bad_names() {
    let (_tmp, dir) = copy_example("analytics");
    std::fs::write(dir.join("extra.cairn"), "let replicas_default = 3\n").unwrap();
    let mut c = Client::start();
    let (pools, text) = open_file(&c, &dir.join("pools.cairn"));
    let at = pos(&text, "failure_domain", 1, 4);
    for (bad, why) in [
        ("1domain", "not an identifier"),
        ("for", "keyword"),
        ("pool", "block kind"),
        ("replicas_default", "already declared"),
        ("domain-", "not an identifier"),
    ] {
        let (code, msg) = err_msg(rename(&mut c, &pools, at, bad));
        assert_eq!(code, -32803, "{bad}");
        assert!(msg.contains(why), "{bad}: {msg}");
    }
    let edit = ok(rename(&mut c, &pools, at, "spread"));
    let changes = edit["changes"].as_object().unwrap();
    assert_eq!(changes[&pools].as_array().unwrap().len(), 2);
    assert_eq!(changes[&uri(&dir.join("main.cairn"))].as_array().unwrap().len(), 1);
    apply(&edit);
    assert!(read(&dir.join("main.cairn")).contains("let spread = \"osd\""));
    let compiled = check(&dir);
    assert!(!compiled.has_errors(), "{:#?}", compiled.diagnostics);
    c.shutdown();
}

#[test]
fn navigation_works_after_an_unclosed_block() {
    let (_tmp, dir) = stack_dir();
    // `namespace "other"` is never closed: the parser nests everything after it.
    let text = "let img = \"nginx:1.27\"\n\nnamespace \"other\" {\n  labels = { a = \"b\" }\n\nnamespace \"shop\" {}\n\nworkload \"web\" {\n  namespace = namespace.shop\n  image     = img\n}\n";
    let mut c = Client::start();
    let u = c.open(&dir.join("main.cairn"), text);
    let diags = c.diagnostics(&u);
    assert!(!diags.is_empty(), "the file is broken");
    let at = pos(text, "namespace.shop", 0, 12);
    let refs = references(&mut c, &u, at, true);
    let mut decl = range_of(text, "shop", 0);
    decl["start"]["character"] = json!(11);
    decl["end"]["character"] = json!(15);
    let mut use_ = range_of(text, "namespace.shop", 0);
    use_["start"]["character"] = json!(use_["start"]["character"].as_u64().unwrap() + 10);
    assert_eq!(refs, vec![(u.clone(), decl.clone()), (u.clone(), use_.clone())]);
    let loc = ok(c.at("textDocument/definition", &u, at.0, at.1));
    assert_eq!(loc["range"], decl);
    let edit = ok(rename(&mut c, &u, at, "store"));
    assert_eq!(edit["changes"][&u].as_array().unwrap().len(), 2, "{edit}");
    let (l, col) = pos(text, "= img", 0, 3);
    let loc = ok(c.at("textDocument/definition", &u, l, col));
    assert_eq!(loc["range"], range_of(text, "img", 0));
    let edit = ok(rename(&mut c, &u, (l, col), "image_ref"));
    assert_eq!(edit["changes"][&u].as_array().unwrap().len(), 2, "{edit}");
    // Hover on the let and the reference, and quick fixes for the syntax errors (none: they
    // suggest nothing) all answer.
    assert_eq!(hover_text(&mut c, &u, (l, col)), "```cairn\nlet img = \"nginx:1.27\"\n```");
    assert!(hover_text(&mut c, &u, at).contains("namespace.shop"));
    let actions = code_actions(&mut c, &u, diags.clone());
    assert!(actions.as_array().unwrap().iter().all(|a| a["kind"] == "quickfix"), "{actions}");
    // A rename on nothing is null, and a file outside any stack gets null too.
    assert_eq!(ok(rename(&mut c, &u, (3, 0), "x")), Value::Null);
    c.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": "untitled:Untitled-1", "languageId": "cairn", "version": 1, "text": text } }),
    );
    assert_eq!(ok(rename(&mut c, "untitled:Untitled-1", at, "store")), Value::Null);
    c.shutdown();
}

/// The diagnostic with `code` published for `uri`.
fn diagnostic(c: &mut Client, uri: &str, code: &str) -> Value {
    let diags = c.diagnostics(uri);
    diags.iter().find(|d| d["code"] == code).cloned().unwrap_or_else(|| panic!("no {code} in {diags:#?}"))
}

fn code_actions(c: &mut Client, uri: &str, diags: Vec<Value>) -> Value {
    let range = diags
        .first()
        .map_or(json!({ "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": 0 } }), |d| d["range"].clone());
    ok(c.request("textDocument/codeAction", json!({ "textDocument": { "uri": uri }, "range": range, "context": { "diagnostics": diags } })))
}

#[test]
fn quick_fix_replaces_an_unknown_attribute_and_reference_with_the_suggestion() {
    let (_tmp, dir) = copy_example("shop");
    let mut c = Client::start();
    let text = read(&dir.join("apps.cairn")).replace("  cpu_limit     = 500m", "  cpu_limt      = 500m");
    let u = c.open(&dir.join("apps.cairn"), &text);
    let d = diagnostic(&mut c, &u, "E0206").clone();
    assert_eq!(d["data"]["suggestion"], "cpu_limit", "{d}");
    let actions = code_actions(&mut c, &u, vec![d.clone()]);
    let a = &actions[0];
    assert_eq!(a["kind"], "quickfix");
    assert_eq!(a["title"], "Replace with `cpu_limit`");
    assert_eq!(a["edit"]["changes"][&u], json!([{ "range": d["range"], "newText": "cpu_limit" }]));

    // An unknown attribute of a resource.
    let text = read(&dir.join("apps.cairn")).replace("  namespace = namespace.shop\n  data", "  namespce = namespace.shop\n  data");
    c.change(&u, 2, &text);
    let d = diagnostic(&mut c, &u, "E0303");
    let actions = code_actions(&mut c, &u, vec![d.clone()]);
    assert_eq!(actions[0]["edit"]["changes"][&u], json!([{ "range": d["range"], "newText": "namespace" }]), "{actions}");

    // An unknown reference, and a client that does not send `data` back: the message says it.
    let text = read(&dir.join("apps.cairn")).replace("  config        = config.app", "  config        = config.apq");
    c.change(&u, 3, &text);
    let mut d = diagnostic(&mut c, &u, "E0202").clone();
    d.as_object_mut().unwrap().remove("data");
    let actions = code_actions(&mut c, &u, vec![d.clone()]);
    let edit = &actions[0]["edit"]["changes"][&u][0];
    let (start, end) = (&edit["range"]["start"], &edit["range"]["end"]);
    let line = text.lines().nth(start["line"].as_u64().unwrap() as usize).unwrap();
    let written = &line[start["character"].as_u64().unwrap() as usize..end["character"].as_u64().unwrap() as usize];
    assert!(written.ends_with("apq"), "{written}");
    assert!(edit["newText"].as_str().unwrap().ends_with("app"), "{edit}");
    assert_eq!(written.split('.').count(), edit["newText"].as_str().unwrap().split('.').count());

    // An unknown template of a module: only the template's part is replaced.
    let text = read(&dir.join("apps.cairn")).replace("apps.web_app \"web\"", "apps.web_ap \"web\"");
    c.change(&u, 4, &text);
    let d = diagnostic(&mut c, &u, "E0205");
    let actions = code_actions(&mut c, &u, vec![d.clone()]);
    assert_eq!(actions[0]["edit"]["changes"][&u][0]["newText"], "web_app", "{actions}");
    // No diagnostics, no actions; a diagnostic without a suggestion, none either.
    assert_eq!(code_actions(&mut c, &u, vec![]), json!([]));
    let mut plain = d.clone();
    plain["message"] = json!("something else");
    plain.as_object_mut().unwrap().remove("data");
    assert_eq!(code_actions(&mut c, &u, vec![plain]), json!([]));
    c.shutdown();
}

#[test]
fn hover_shows_the_value_of_a_let_and_what_a_reference_resolves_to() {
    let analytics = examples("analytics");
    let mut c = Client::start();
    let (pools, text) = open_file(&c, &analytics.join("pools.cairn"));
    let h = hover_text(&mut c, &pools, pos(&text, "failure_domain", 1, 2));
    assert_eq!(h, "```cairn\nlet failure_domain = \"osd\"\n```");
    let (main, main_text) = open_file(&c, &analytics.join("main.cairn"));
    assert_eq!(hover_text(&mut c, &main, pos(&main_text, "failure_domain", 0, 0)), h, "on the declaration too");

    let shop = examples("shop");
    let (apps, text) = open_file(&c, &shop.join("apps.cairn"));
    let h = hover_text(&mut c, &apps, pos(&text, "web_version}", 0, 1));
    assert!(h.contains("let web_version = \"2.3.1\""), "{h}");
    let h = hover_text(&mut c, &apps, pos(&text, "namespace.shop", 0, 11));
    assert!(h.contains("namespace.shop") && h.contains("A `namespace` resource") && h.contains("main.cairn` line 17"), "{h}");
    let h = hover_text(&mut c, &apps, pos(&text, "storage_class.shop-block", 0, 16));
    assert!(h.contains("storage_class.shop-block") && h.contains("template `block_pool`"), "{h}");
    let h = hover_text(&mut c, &apps, pos(&text, "config.app.LOG_LEVEL", 0, 8));
    assert!(h.contains("data key `LOG_LEVEL` = \"info\""), "{h}");
    let h = hover_text(&mut c, &apps, pos(&text, "secret.db-credentials.password", 0, 10));
    assert!(h.contains("secret.db-credentials") && h.contains("data key `password` = (sensitive)"), "{h}");
    // An attribute name still gets the schema's doc.
    let h = hover_text(&mut c, &apps, pos(&text, "namespace = namespace.shop", 0, 2));
    assert!(h.contains("namespace:"), "{h}");
    c.shutdown();
}

#[test]
fn hover_never_shows_a_secret() {
    let (_tmp, dir) = stack_dir();
    let text = r#"namespace "shop" {}

let db_pass  = "hunter2-literal"
let from_env = env("CAIRN_NAV_TEST_DB_PASSWORD")
let token    = env("CAIRN_NAV_TEST_API_TOKEN", "tok-default-secret")
let mixed    = "prefix-${from_env}"
let wrapped  = sensitive("wrapped-literal")
let bag      = { user = "app", pass = from_env }

secret "db" {
  namespace = namespace.shop
  data      = { password = db_pass, token = "s3cr3t-literal", env = from_env, api = token }
}

workload "web" {
  namespace = namespace.shop
  image     = "nginx:1.27"
  env       = { DB_PASSWORD = secret.db.password, MIXED = mixed, WRAPPED = wrapped }
}
"#;
    let mut c = Client::start_with_env(&[("CAIRN_NAV_TEST_DB_PASSWORD", "env-secret-value")]);
    let u = c.open(&dir.join("main.cairn"), text);
    let secrets = ["hunter2", "env-secret-value", "tok-default", "s3cr3t", "wrapped-literal"];
    for (line, l) in text.lines().enumerate() {
        for col in 0..=l.len() {
            let h = ok(c.at("textDocument/hover", &u, line as u32, col as u32));
            let shown = h.to_string();
            for s in secrets {
                assert!(!shown.contains(s), "hover at {line}:{col} shows `{s}`: {shown}");
            }
        }
    }
    for name in ["db_pass", "from_env", "token", "mixed", "wrapped"] {
        let h = hover_text(&mut c, &u, pos(text, name, 0, 1));
        assert_eq!(h, format!("```cairn\nlet {name} = (sensitive)\n```"), "{name}");
    }
    let h = hover_text(&mut c, &u, pos(text, "bag", 0, 1));
    assert!(h.contains("pass = (sensitive)") && h.contains("user = \"app\""), "{h}");
    let h = hover_text(&mut c, &u, pos(text, "secret.db.password", 0, 8));
    assert!(h.contains("(sensitive)"), "{h}");
    c.shutdown();
}

#[test]
fn quick_fix_for_an_enum_value_an_unknown_name_and_a_block_kind() {
    let (_tmp, dir) = stack_dir();
    let text = "let img = \"nginx:1.27\"\n\nnamespace \"shop\" {}\n\nworkload \"web\" {\n  namespace = namespace.shop\n  image     = imgg\n  kind      = \"deploymnt\"\n}\n\nworkloda \"api\" {}\n";
    let mut c = Client::start();
    let u = c.open(&dir.join("main.cairn"), text);
    let diags = c.diagnostics(&u);
    let fixes: Vec<(String, String)> = diags
        .iter()
        .flat_map(|d| {
            let actions = code_actions(&mut c, &u, vec![d.clone()]);
            actions
                .as_array()
                .unwrap()
                .iter()
                .map(|a| {
                    let e = &a["edit"]["changes"][&u][0];
                    let (s, en) = (&e["range"]["start"], &e["range"]["end"]);
                    let line = text.lines().nth(s["line"].as_u64().unwrap() as usize).unwrap();
                    let written = line[s["character"].as_u64().unwrap() as usize..en["character"].as_u64().unwrap() as usize].to_string();
                    (written, e["newText"].as_str().unwrap().to_string())
                })
                .collect::<Vec<_>>()
        })
        .collect();
    for want in [("imgg", "img"), ("\"deploymnt\"", "\"deployment\""), ("workloda", "workload")] {
        assert!(fixes.iter().any(|(w, n)| w == want.0 && n == want.1), "{want:?} not in {fixes:?} ({diags:#?})");
    }
    c.shutdown();
}
