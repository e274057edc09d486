//! Drives the language server through an in-memory connection with real JSON-RPC messages, as
//! an editor would: initialize, open and change buffers, ask, shut down.

mod common;

use common::{examples, ok, stack_dir, uri, Client};
use lsp_server::Response;
use serde_json::{json, Value};

/// The error code of an error response.
fn err(r: Response) -> i32 {
    match r.response_result {
        Ok(v) => panic!("expected an error, got {v}"),
        Err(e) => e.code,
    }
}

fn codes(diags: &[Value]) -> Vec<&str> {
    diags.iter().map(|d| d["code"].as_str().unwrap()).collect()
}

fn range(d: &Value) -> [u64; 4] {
    let r = &d["range"];
    [&r["start"]["line"], &r["start"]["character"], &r["end"]["line"], &r["end"]["character"]].map(|v| v.as_u64().unwrap())
}

const WORKLOAD: &str = "namespace \"shop\" {}\n\nworkload \"web\" {\n  namespace = namespace.shop\n  image     = \"nginx:1.27\"\n  replicas  = 2\n  resources {\n    memory = 64Mi\n  }\n}\n";

#[test]
fn initialize_announces_what_the_server_does() {
    let c = Client::start();
    let caps = &c.capabilities["capabilities"];
    assert_eq!(caps["textDocumentSync"]["change"], 1, "full text sync");
    assert_eq!(caps["textDocumentSync"]["openClose"], true);
    assert_eq!(caps["positionEncoding"], "utf-16");
    for provider in ["hoverProvider", "documentFormattingProvider", "documentSymbolProvider", "definitionProvider"] {
        assert_eq!(caps[provider], true, "{provider}");
    }
    assert_eq!(caps["completionProvider"]["triggerCharacters"], json!([".", "\""]));
    assert_eq!(c.capabilities["serverInfo"]["name"], "cairn");
    c.shutdown();
}

#[test]
fn a_syntax_error_is_published_with_its_range_and_code_and_cleared_once_fixed() {
    let (_tmp, dir) = stack_dir();
    let mut c = Client::start();
    // The emoji is two UTF-16 units: the error's column counts units, not bytes or characters.
    let u = c.open(&dir.join("main.cairn"), "namespace \"shop\" {\n  annotations = { a = \"😀\", x = }\n}\n");
    let diags = c.diagnostics(&u);
    assert_eq!(codes(&diags), ["E0101"], "{diags:#?}");
    assert_eq!(range(&diags[0]), [1, 32, 1, 33], "the closing brace after `x =`");
    assert_eq!(diags[0]["severity"], 1);
    assert_eq!(diags[0]["source"], "cairn");

    c.change(&u, 2, "namespace \"shop\" {\n  labels = { team = \"shop\" }\n}\n");
    assert_eq!(c.diagnostics(&u), Vec::<Value>::new());
    c.shutdown();
}

#[test]
fn semantic_errors_of_the_stack_are_published_on_change() {
    let (_tmp, dir) = stack_dir();
    let mut c = Client::start();
    let u = c.open(&dir.join("main.cairn"), WORKLOAD);
    assert_eq!(c.diagnostics(&u), Vec::<Value>::new());
    c.change(&u, 2, &WORKLOAD.replace("replicas  = 2", "replicas  = \"two\""));
    let diags = c.diagnostics(&u);
    assert_eq!(codes(&diags), ["E0301"], "{diags:#?}");
    assert_eq!(range(&diags[0]), [5, 14, 5, 19]);
    assert!(diags[0]["message"].as_str().unwrap().contains("`replicas` must be int"));
    c.shutdown();
}

#[test]
fn diagnostics_move_between_files_of_a_stack_and_stale_ones_are_cleared() {
    let (_tmp, dir) = stack_dir();
    std::fs::write(dir.join("ns.cairn"), "namespace \"shop\" {}\n").unwrap();
    let mut c = Client::start();
    let ns = uri(&dir.join("ns.cairn"));
    // A reference to a namespace that only the unsaved buffer lacks.
    let main =
        c.open(&dir.join("main.cairn"), &WORKLOAD.replace("namespace \"shop\" {}\n", "").replace("namespace.shop", "namespace.shpo"));
    let diags = c.diagnostics(&main);
    assert_eq!(codes(&diags), ["E0202"], "{diags:#?}");
    assert_eq!(c.diagnostics(&ns), Vec::<Value>::new(), "the file on disk is part of the stack");

    // Now the problem is in the other file: opened with a broken buffer.
    c.change(&main, 2, &WORKLOAD.replace("namespace \"shop\" {}\n", ""));
    let _ = c.open(&dir.join("ns.cairn"), "namespace \"shop\" {\n");
    let _ = c.diagnostics(&main); // after the change: clean
    let _ = c.diagnostics(&ns); // after the change: clean
    let main_diags = c.diagnostics(&main);
    let ns_diags = c.diagnostics(&ns);
    assert_eq!(codes(&ns_diags), ["E0104"], "{ns_diags:#?}");
    assert_eq!(main_diags, Vec::<Value>::new());

    // Fixing the other file clears its diagnostics.
    c.change(&ns, 2, "namespace \"shop\" {}\n");
    assert_eq!(c.diagnostics(&main), Vec::<Value>::new());
    assert_eq!(c.diagnostics(&ns), Vec::<Value>::new());
    assert!(c.pending.is_empty(), "{:?}", c.pending);
    c.shutdown();
}

#[test]
fn closing_a_buffer_that_is_not_on_disk_clears_its_diagnostics() {
    let (_tmp, dir) = stack_dir();
    let mut c = Client::start();
    let u = c.open(&dir.join("main.cairn"), "namespace \"shop\" {\n");
    assert_eq!(codes(&c.diagnostics(&u)), ["E0104"]);
    c.notify("textDocument/didClose", json!({ "textDocument": { "uri": u } }));
    assert_eq!(c.diagnostics(&u), Vec::<Value>::new());
    c.shutdown();
}

#[test]
fn hover_on_an_attribute_shows_its_schema_doc_and_type() {
    let (_tmp, dir) = stack_dir();
    let mut c = Client::start();
    let u = c.open(&dir.join("main.cairn"), WORKLOAD);
    let h = ok(c.at("textDocument/hover", &u, 5, 4));
    let value = h["contents"]["value"].as_str().unwrap();
    assert!(value.contains("replicas: int"), "{value}");
    assert!(value.contains("Number of pods"), "{value}");
    assert_eq!(h["contents"]["kind"], "markdown");
    assert_eq!(h["range"], json!({ "start": { "line": 5, "character": 2 }, "end": { "line": 5, "character": 10 } }));

    // A nested block's attribute: `memory` in `resources`.
    let h = ok(c.at("textDocument/hover", &u, 7, 6));
    assert!(h["contents"]["value"].as_str().unwrap().contains("Memory request"), "{h}");
    // A block kind.
    let h = ok(c.at("textDocument/hover", &u, 2, 3));
    assert!(h["contents"]["value"].as_str().unwrap().contains("A Deployment, StatefulSet, DaemonSet, Job or CronJob"), "{h}");
    // A value, and a position far past the end of the line (clamped to it): nothing to say.
    assert_eq!(ok(c.at("textDocument/hover", &u, 5, 16)), Value::Null);
    assert_eq!(ok(c.at("textDocument/hover", &u, 5, 9999)), Value::Null);
    assert_eq!(ok(c.at("textDocument/hover", &u, 9999, 0)), Value::Null);
    c.shutdown();
}

#[test]
fn hover_works_in_the_rest_of_a_broken_file() {
    let (_tmp, dir) = stack_dir();
    let mut c = Client::start();
    let text = format!("{WORKLOAD}\nnamespace \"other\" {{\n  labels = {{ a = }}\n");
    let u = c.open(&dir.join("main.cairn"), &text);
    let h = ok(c.at("textDocument/hover", &u, 4, 4));
    assert!(h["contents"]["value"].as_str().unwrap().contains("The container image"), "{h}");
    c.shutdown();
}

#[test]
fn formatting_returns_the_formatted_document_and_nothing_for_broken_code() {
    let (_tmp, dir) = stack_dir();
    let mut c = Client::start();
    let messy = "namespace   \"shop\"   {\nlabels={team=\"shop\"}\n\n\n}\n";
    let u = c.open(&dir.join("main.cairn"), messy);
    let params = json!({ "textDocument": { "uri": u }, "options": { "tabSize": 2, "insertSpaces": true } });
    let edits = ok(c.request("textDocument/formatting", params.clone()));
    assert_eq!(
        edits,
        json!([{
            "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 5, "character": 0 } },
            "newText": "namespace \"shop\" {\n  labels = { team = \"shop\" }\n}\n",
        }])
    );
    assert_eq!(edits[0]["newText"].as_str().unwrap(), cairn_lang::format(messy).unwrap(), "the same formatter as `cairn fmt`");

    c.change(&u, 2, "namespace \"shop\" {\n  labels = { team = \"shop\" }\n}\n");
    assert_eq!(ok(c.request("textDocument/formatting", params.clone())), json!([]), "already formatted");
    c.change(&u, 3, "namespace \"shop\" {\n  labels = \n");
    assert_eq!(ok(c.request("textDocument/formatting", params)), Value::Null, "broken code is not rewritten");
    c.shutdown();
}

#[test]
fn document_symbols_outline_the_blocks_of_the_shop_example() {
    let shop = examples("shop");
    let mut c = Client::start();
    let u = c.open(&shop.join("main.cairn"), &std::fs::read_to_string(shop.join("main.cairn")).unwrap());
    let symbols = ok(c.request("textDocument/documentSymbol", json!({ "textDocument": { "uri": u } })));
    let names: Vec<&str> = symbols.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["cluster \"prod\"", "stack \"shop\"", "namespace \"shop\""]);
    let ns = &symbols[2];
    let children: Vec<&str> = ns["children"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(children, ["quota", "limits"]);
    assert_eq!(ns["selectionRange"], json!({ "start": { "line": 16, "character": 10 }, "end": { "line": 16, "character": 16 } }));
    assert_eq!(ns["range"]["start"], json!({ "line": 16, "character": 0 }));
    assert_eq!(ns["range"]["end"], json!({ "line": 42, "character": 1 }));

    let u = c.open(&shop.join("apps.cairn"), &std::fs::read_to_string(shop.join("apps.cairn")).unwrap());
    let symbols = ok(c.request("textDocument/documentSymbol", json!({ "textDocument": { "uri": u } })));
    let names: Vec<&str> = symbols.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "import \"std/apps\" as apps",
            "web_version",
            "config \"app\"",
            "apps.database \"db\"",
            "apps.web_app \"web\"",
            "workload \"report\"",
            "route \"shop\"",
            "secret \"shop-tls\""
        ]
    );
    c.shutdown();
}

#[test]
fn definition_jumps_from_a_reference_to_the_declaring_block() {
    let shop = examples("shop");
    let mut c = Client::start();
    let apps = c.open(&shop.join("apps.cairn"), &std::fs::read_to_string(shop.join("apps.cairn")).unwrap());
    // `namespace = namespace.shop` in `config "app"`.
    let loc = ok(c.at("textDocument/definition", &apps, 5, 18));
    assert_eq!(loc["uri"], uri(&shop.join("main.cairn")));
    assert_eq!(loc["range"], json!({ "start": { "line": 16, "character": 10 }, "end": { "line": 16, "character": 16 } }));
    // `storage_class.shop-block` is made by a std template: the jump lands on the instance.
    let loc = ok(c.at("textDocument/definition", &apps, 21, 22));
    assert_eq!(loc["uri"], uri(&shop.join("storage.cairn")));
    assert_eq!(loc["range"]["start"], json!({ "line": 3, "character": 0 }));
    // Not on a reference.
    assert_eq!(ok(c.at("textDocument/definition", &apps, 2, 1)), Value::Null);
    c.shutdown();
}

#[test]
fn only_the_files_of_the_stack_get_diagnostics() {
    let shop = examples("shop");
    let mut c = Client::start();
    let apps = c.open(&shop.join("apps.cairn"), &std::fs::read_to_string(shop.join("apps.cairn")).unwrap());
    assert_eq!(c.diagnostics(&apps), Vec::<Value>::new());
    let _ = c.request("textDocument/documentSymbol", json!({ "textDocument": { "uri": apps } }));
    let mut published: Vec<String> = c
        .pending
        .iter()
        .filter(|n| n.method == "textDocument/publishDiagnostics")
        .map(|n| n.params["uri"].as_str().unwrap().to_string())
        .collect();
    published.sort();
    assert_eq!(published, [uri(&shop.join("main.cairn")), uri(&shop.join("storage.cairn"))], "no std/ files");
    c.shutdown();
}

#[test]
fn bad_requests_get_error_responses_and_the_server_keeps_serving() {
    let (_tmp, dir) = stack_dir();
    let mut c = Client::start();
    let u = c.open(&dir.join("main.cairn"), WORKLOAD);
    let unopened = uri(&dir.join("other.cairn"));
    assert_eq!(err(c.at("textDocument/hover", &unopened, 0, 0)), -32803, "request failed: not open");
    assert_eq!(
        err(c.request(
            "textDocument/formatting",
            json!({ "textDocument": { "uri": unopened }, "options": { "tabSize": 2, "insertSpaces": true } })
        )),
        -32803
    );
    assert_eq!(err(c.request("textDocument/hover", json!({ "textDocument": 7 }))), -32602, "invalid params");
    assert_eq!(err(c.request("textDocument/hover", Value::Null)), -32602);
    assert_eq!(err(c.request("textDocument/signatureHelp", json!({}))), -32601, "method not found");
    // Malformed notifications are logged, not fatal.
    c.notify("textDocument/didChange", json!({ "textDocument": "nope" }));
    let h = ok(c.at("textDocument/hover", &u, 5, 4));
    assert!(h["contents"]["value"].as_str().unwrap().contains("Number of pods"));
    assert!(c.pending.iter().any(|n| n.method == "window/logMessage"), "{:?}", c.pending);
    c.shutdown();
}

#[test]
fn requests_after_shutdown_are_refused_and_exit_without_shutdown_is_an_error() {
    let mut c = Client::start();
    assert_eq!(ok(c.request("shutdown", Value::Null)), Value::Null);
    assert_eq!(err(c.request("textDocument/documentSymbol", json!({ "textDocument": { "uri": "file:///x.cairn" } }))), -32600);
    c.notify("exit", Value::Null);
    assert!(c.server.take().unwrap().join().unwrap().is_ok());

    let mut c = Client::start();
    c.notify("exit", Value::Null);
    let result = c.server.take().unwrap().join().unwrap();
    assert!(matches!(result, Err(cairn_lsp::Error::ExitWithoutShutdown)), "{result:?}");
}

/// The labels of a completion answer.
fn labels(r: Response) -> Vec<String> {
    let v = ok(r);
    let items = v.as_array().unwrap_or_else(|| panic!("expected a list of items, got {v}"));
    items.iter().map(|i| i["label"].as_str().unwrap().to_string()).collect()
}

/// The completion item called `label`.
fn item(r: Response, label: &str) -> Value {
    let v = ok(r);
    v.as_array().unwrap().iter().find(|i| i["label"] == label).cloned().unwrap_or_else(|| panic!("no `{label}` in {v}"))
}

#[test]
fn completion_at_top_level_offers_block_kinds_and_keywords() {
    let (_tmp, dir) = stack_dir();
    let mut c = Client::start();
    let u = c.open(&dir.join("main.cairn"), &format!("{WORKLOAD}\nwor"));
    let got = labels(c.at("textDocument/completion", &u, 10, 3));
    for k in ["namespace", "workload", "pool", "storage_class", "config", "secret", "let", "import", "template"] {
        assert!(got.iter().any(|l| l == k), "{k} missing from {got:?}");
    }
    assert!(!got.iter().any(|l| l == "replicas"), "no attributes at top level: {got:?}");
    let w = item(c.at("textDocument/completion", &u, 10, 3), "workload");
    assert!(!w["documentation"].as_str().unwrap().is_empty(), "{w}");
    // An unopened file gets the same error as other requests.
    let other = uri(&dir.join("other.cairn"));
    assert_eq!(err(c.at("textDocument/completion", &other, 0, 0)), err(c.at("textDocument/hover", &other, 0, 0)));
    c.shutdown();
}

#[test]
fn completion_in_a_block_offers_only_the_attributes_not_set_yet() {
    let (_tmp, dir) = stack_dir();
    let mut c = Client::start();
    // Line 6 is `  resources {`; the workload's body gets a new line 5.
    let text = WORKLOAD.replace("  replicas  = 2\n", "  replicas  = 2\n  \n");
    let u = c.open(&dir.join("main.cairn"), &text);
    let got = labels(c.at("textDocument/completion", &u, 6, 2));
    for set in ["namespace", "image", "replicas", "resources"] {
        assert!(!got.iter().any(|l| l == set), "`{set}` is set already: {got:?}");
    }
    for missing in ["kind", "ports", "env"] {
        assert!(got.iter().any(|l| l == missing), "`{missing}` missing from {got:?}");
    }
    let kind = item(c.at("textDocument/completion", &u, 6, 2), "kind");
    assert!(kind["detail"].as_str().unwrap().contains("deployment"), "{kind}");
    assert!(kind["documentation"].as_str().unwrap().contains("statefulset with a volume"), "{kind}");
    // Nested: inside `resources { memory = 64Mi }`, memory is set, cpu is not.
    let nested = text.replace("    memory = 64Mi\n", "    memory = 64Mi\n    \n");
    c.change(&u, 2, &nested);
    let got = labels(c.at("textDocument/completion", &u, 9, 4));
    assert!(got.iter().any(|l| l == "cpu"), "{got:?}");
    assert!(!got.iter().any(|l| l == "memory") && !got.iter().any(|l| l == "image"), "{got:?}");
    // Past the end of the line: clamped, still inside the block.
    assert_eq!(labels(c.at("textDocument/completion", &u, 9, 400)), got);
    c.shutdown();
}

#[test]
fn completion_of_an_enum_value() {
    let (_tmp, dir) = stack_dir();
    let mut c = Client::start();
    let text = WORKLOAD.replace("  replicas  = 2\n", "  replicas  = 2\n  kind = \"\n");
    let u = c.open(&dir.join("main.cairn"), &text);
    assert_eq!(labels(c.at("textDocument/completion", &u, 6, 10)), ["deployment", "statefulset", "daemonset", "job", "cronjob"]);
    let unquoted = WORKLOAD.replace("  replicas  = 2\n", "  replicas  = 2\n  kind = \n");
    c.change(&u, 2, &unquoted);
    let d = item(c.at("textDocument/completion", &u, 6, 9), "deployment");
    assert_eq!(d["insertText"], "\"deployment\"");
    // Not an enum: nothing.
    assert_eq!(labels(c.at("textDocument/completion", &u, 4, 14)), Vec::<String>::new());
    c.shutdown();
}

/// A workload with the pod shapes of LANGUAGE.md §10; line numbers are 0-based.
const SHAPES: &str = "namespace \"shop\" {\n  \n}\n\nworkload \"web\" {\n  namespace = namespace.shop\n  image     = \"nginx:1.27\"\n  schedule  = \"0 3 * * *\"\n  \n  container \"metrics\" {\n    \n    security {\n      \n    }\n  }\n  security {\n    seccomp = \"\n  }\n}\n";

#[test]
fn completion_and_hover_know_the_pod_shapes() {
    let (_tmp, dir) = stack_dir();
    let mut c = Client::start();
    let u = c.open(&dir.join("main.cairn"), SHAPES);
    // In the workload: the new blocks and attributes.
    let got = labels(c.at("textDocument/completion", &u, 8, 2));
    for k in ["container", "init", "liveness", "startup", "retries", "autoscale", "disruption"] {
        assert!(got.iter().any(|l| l == k), "`{k}` missing from {got:?}");
    }
    assert!(!got.iter().any(|l| l == "schedule"), "`schedule` is set already: {got:?}");
    // In a sidecar: a container's attributes and blocks, not the workload's.
    let got = labels(c.at("textDocument/completion", &u, 10, 4));
    for k in ["image", "ports", "env", "resources", "probe", "liveness", "mount"] {
        assert!(got.iter().any(|l| l == k), "`{k}` missing from {got:?}");
    }
    assert!(!got.iter().any(|l| l == "replicas" || l == "namespace" || l == "container"), "{got:?}");
    // A sidecar's own `security` takes the container-level attributes only.
    let got = labels(c.at("textDocument/completion", &u, 12, 6));
    assert_eq!(got, ["read_only", "escalation", "drop", "add", "privileged"]);
    // Enum values of `seccomp`, and the namespace's `pod_security`.
    assert_eq!(labels(c.at("textDocument/completion", &u, 16, 15)), ["RuntimeDefault", "Localhost", "Unconfined"]);
    let got = labels(c.at("textDocument/completion", &u, 1, 2));
    assert!(got.iter().any(|l| l == "pod_security"), "{got:?}");
    // Hover on `schedule` and on the `container` block.
    let h = ok(c.at("textDocument/hover", &u, 7, 4));
    assert!(h["contents"]["value"].as_str().unwrap().contains("cron"), "{h}");
    let h = ok(c.at("textDocument/hover", &u, 9, 4));
    assert!(h["contents"]["value"].as_str().unwrap().contains("sidecar"), "{h}");
    c.shutdown();
}

/// A workload with an autoscaler and a disruption budget, and a route; line numbers are 0-based.
const SCALING: &str = "workload \"web\" {\n  image = \"nginx:1.27\"\n  \n  autoscale {\n    max = 6\n    \n  }\n  disruption {\n    \n  }\n}\n\nroute \"shop\" {\n  host = \"shop.example.com\"\n  \n  path \"/\" {\n    \n  }\n}\n\nrou";

#[test]
fn completion_and_hover_know_scaling_disruption_and_routes() {
    let (_tmp, dir) = stack_dir();
    let mut c = Client::start();
    let u = c.open(&dir.join("main.cairn"), SCALING);
    // Set already: not offered again (a workload without them is offered them, above).
    let got = labels(c.at("textDocument/completion", &u, 2, 2));
    assert!(!got.iter().any(|l| l == "autoscale" || l == "disruption"), "{got:?}");
    // In `autoscale`: the bounds and targets not set yet.
    let got = labels(c.at("textDocument/completion", &u, 5, 4));
    assert_eq!(got, ["min", "cpu", "memory"]);
    assert_eq!(labels(c.at("textDocument/completion", &u, 8, 4)), ["max_unavailable", "min_available"]);
    // A route's attributes and its `path` block, then a path's.
    let got = labels(c.at("textDocument/completion", &u, 14, 2));
    for k in ["namespace", "class", "tls", "path"] {
        assert!(got.iter().any(|l| l == k), "`{k}` missing from {got:?}");
    }
    assert!(!got.iter().any(|l| l == "host"), "`host` is set already: {got:?}");
    assert_eq!(labels(c.at("textDocument/completion", &u, 16, 4)), ["to", "port"]);
    // `route` is a block kind at top level.
    assert!(labels(c.at("textDocument/completion", &u, 20, 3)).iter().any(|l| l == "route"));
    // Hover: the autoscaler's doc, `max`'s type, the route's doc.
    let h = ok(c.at("textDocument/hover", &u, 3, 4));
    assert!(h["contents"]["value"].as_str().unwrap().contains("HorizontalPodAutoscaler"), "{h}");
    let h = ok(c.at("textDocument/hover", &u, 4, 5));
    assert!(h["contents"]["value"].as_str().unwrap().contains("maxReplicas"), "{h}");
    let h = ok(c.at("textDocument/hover", &u, 12, 2));
    assert!(h["contents"]["value"].as_str().unwrap().contains("Ingress"), "{h}");
    c.shutdown();
}

/// Existing resources (LANGUAGE.md §10); line numbers are 0-based.
const EXISTING: &str = "storage_class \"standard\" {\n  existing = true\n}\n\nsecret \"registry\" {\n  \n}\n\nworkload \"web\" {\n  \n}\n";

#[test]
fn completion_and_hover_know_existing() {
    let (_tmp, dir) = stack_dir();
    let mut c = Client::start();
    let u = c.open(&dir.join("main.cairn"), EXISTING);
    // Offered on the kinds that may exist, not on a workload.
    assert!(labels(c.at("textDocument/completion", &u, 5, 2)).iter().any(|l| l == "existing"));
    assert!(!labels(c.at("textDocument/completion", &u, 9, 2)).iter().any(|l| l == "existing"));
    let h = ok(c.at("textDocument/hover", &u, 1, 4));
    assert!(h["contents"]["value"].as_str().unwrap().contains("never creates, changes, adopts or deletes it"), "{h}");
    c.shutdown();
}

#[test]
fn completion_after_a_kind_and_a_dot_lists_the_declared_names() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("shop");
    std::fs::create_dir(&dir).unwrap();
    for f in ["main.cairn", "apps.cairn", "storage.cairn"] {
        std::fs::copy(examples("shop").join(f), dir.join(f)).unwrap();
    }
    std::fs::write(dir.join("more.cairn"), "namespace \"extra\" {}\nnamespace \"broken\" {\n").unwrap();
    let mut c = Client::start();
    let apps = std::fs::read_to_string(dir.join("apps.cairn")).unwrap();
    let text = format!("{apps}\nworkload \"new\" {{\n  namespace = namespace.\n}}\n");
    let line = u32::try_from(text.lines().count()).unwrap() - 2;
    let u = c.open(&dir.join("apps.cairn"), &text);
    let got = labels(c.at("textDocument/completion", &u, line, 24));
    assert_eq!(got, ["broken", "extra", "shop"]);
    // Right after the dot of `  namespace = namespace.shop` (line 5): the same names.
    assert_eq!(labels(c.at("textDocument/completion", &u, 5, 24)), ["broken", "extra", "shop"]);
    c.shutdown();
}

#[test]
fn completion_works_after_an_unclosed_block() {
    let (_tmp, dir) = stack_dir();
    let mut c = Client::start();
    // The namespace's `{` is never closed: the parser takes the workload as nested in it.
    let text = "namespace \"other\" {\n  labels = { a = \"b\" }\n\nworkload \"web\" {\n  image = \"nginx\"\n  \n}\n";
    let u = c.open(&dir.join("main.cairn"), text);
    let got = labels(c.at("textDocument/completion", &u, 5, 2));
    assert!(got.iter().any(|l| l == "replicas"), "{got:?}");
    assert!(!got.iter().any(|l| l == "image"), "{got:?}");
    c.shutdown();
}

#[test]
fn completion_of_imports_templates_and_resources_templates_make() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("shop");
    std::fs::create_dir(&dir).unwrap();
    for f in ["main.cairn", "apps.cairn", "storage.cairn"] {
        std::fs::copy(examples("shop").join(f), dir.join(f)).unwrap();
    }
    let mut c = Client::start();
    let apps = std::fs::read_to_string(dir.join("apps.cairn")).unwrap();
    // Inside `import "`: the standard modules.
    let text = format!("import \"\n{apps}");
    let u = c.open(&dir.join("apps.cairn"), &text);
    assert_eq!(labels(c.at("textDocument/completion", &u, 0, 8)), ["std/apps", "std/storage"]);
    // After `apps.`: the module's templates, with their parameters.
    let text = format!("{apps}\napps.\n");
    let line = u32::try_from(text.lines().count()).unwrap() - 1;
    c.change(&u, 2, &text);
    let got = labels(c.at("textDocument/completion", &u, line, 5));
    assert_eq!(got, ["database", "web_app"], "{got:?}");
    let web = item(c.at("textDocument/completion", &u, line, 5), "web_app");
    assert!(web["detail"].as_str().unwrap().contains("template from std/apps(name, image, namespace, replicas?"), "{web}");
    // At the top level: the imported templates beside the block kinds.
    let top = labels(c.at("textDocument/completion", &u, line + 1, 0));
    assert!(top.iter().any(|l| l == "apps.web_app") && top.iter().any(|l| l == "workload"), "{top:?}");
    // After `workload.`: the workloads the templates make (`web`, `db`) beside the one written
    // as a block (`report`).
    let text = format!("{apps}\nconfig \"x\" {{\n  namespace = namespace.shop\n  data = {{ a = workload. }}\n}}\n");
    c.change(&u, 3, &text);
    let line = u32::try_from(text.lines().count()).unwrap() - 2;
    assert_eq!(labels(c.at("textDocument/completion", &u, line, 24)), ["db", "report", "web"]);
    c.shutdown();
}

#[test]
fn cairn_status_is_a_command_that_says_when_there_is_no_cluster_or_no_such_command() {
    let (_tmp, dir) = stack_dir();
    let mut c = Client::start();
    assert_eq!(c.capabilities["capabilities"]["executeCommandProvider"]["commands"], json!(["cairn.status"]));
    let u = c.open(&dir.join("main.cairn"), WORKLOAD);
    assert_eq!(c.diagnostics(&u), Vec::<Value>::new());
    // No cluster was given to this server: an error response that says so, not a hang.
    let r = c.request("workspace/executeCommand", json!({ "command": "cairn.status", "arguments": [u] }));
    let message = match r.response_result {
        Ok(v) => panic!("expected an error, got {v}"),
        Err(e) => {
            assert_eq!(e.code, -32803, "RequestFailed");
            e.message
        }
    };
    assert!(message.contains("no cluster to talk to"), "{message}");
    assert_eq!(err(c.request("workspace/executeCommand", json!({ "command": "cairn.nothing" }))), -32602);
    // The stack's own diagnostics are republished unchanged: no findings.
    assert_eq!(c.diagnostics(&u), Vec::<Value>::new());
    c.shutdown();
}
