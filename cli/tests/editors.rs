//! The VS Code extension under `editors/vscode` stays in step with the language: its grammar
//! highlights every block kind and built-in function the compiler knows, its JSON files parse,
//! and its entry point is what `package.json` names. (Building the `.vsix` needs npm: see
//! `editors/vscode/README.md`.)

use std::path::Path;

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../editors/vscode").join(rel)).expect(rel)
}

#[test]
fn the_grammar_knows_every_block_kind_and_function() {
    let grammar: serde_json::Value = serde_json::from_str(&read("syntaxes/cairn.tmLanguage.json")).expect("grammar is JSON");
    assert_eq!(grammar["scopeName"], "source.cairn");
    let block = grammar["repository"]["block"]["match"].as_str().unwrap();
    let refs = grammar["repository"]["references"]["match"].as_str().unwrap();
    for kind in cairn_compiler::schema::Kind::ALL {
        let word = format!("|{}|", kind.as_str());
        assert!(block.replace(['(', ')'], "|").contains(&word), "block kinds miss {}", kind.as_str());
        assert!(refs.replace(['(', ')'], "|").contains(&word), "references miss {}", kind.as_str());
    }
    let functions = grammar["repository"]["functions"]["match"].as_str().unwrap().replace(['(', ')'], "|");
    for f in cairn_compiler::eval::FUNCTIONS {
        assert!(functions.contains(&format!("|{f}|")), "functions miss {f}");
    }
}

#[test]
fn the_manifest_names_files_that_exist_and_parse() {
    let package: serde_json::Value = serde_json::from_str(&read("package.json")).expect("package.json is JSON");
    assert_eq!(package["main"], "./extension.js");
    assert!(read("extension.js").contains("args: [\"lsp\"]"), "the extension runs `cairn lsp`");
    let lang = &package["contributes"]["languages"][0];
    assert_eq!(lang["extensions"][0], ".cairn");
    let _: serde_json::Value = serde_json::from_str(&read("language-configuration.json")).expect("language configuration is JSON");
    assert_eq!(package["contributes"]["grammars"][0]["path"], "./syntaxes/cairn.tmLanguage.json");
}
