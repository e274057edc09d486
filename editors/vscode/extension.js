// The cairn extension: starts `cairn lsp` (stdio) as the language server for `.cairn` files.
// Highlighting comes from syntaxes/cairn.tmLanguage.json; everything else from the server.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration("cairn");
  const command = config.get("server.path", "cairn");
  const serverOptions = {
    run: { command, args: ["lsp"], transport: TransportKind.stdio },
    debug: { command, args: ["lsp"], transport: TransportKind.stdio },
  };
  const clientOptions = {
    documentSelector: [{ scheme: "file", language: "cairn" }],
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher("**/*.cairn") },
    // The server's `cairn.status` command is registered by the client itself (the palette
    // entry is in package.json); this setting makes every save run it.
    initializationOptions: { statusOnSave: config.get("statusOnSave", false) },
  };
  client = new LanguageClient("cairn", "cairn language server", serverOptions, clientOptions);
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
