//! The message loop: the initialize handshake, then one message at a time. Notifications update
//! the open buffers and republish diagnostics; requests are answered from the buffers (hover,
//! completion, symbols, formatting) or from a compilation of the document's stack (definition).
//! A request that cannot be served gets an error response; nothing a client sends ends the loop
//! except `exit`.
//!
//! Changes are debounced: after a `didChange` the stack is recompiled and its diagnostics
//! published only once no further change has come for [`DEBOUNCE`], so a burst of keystrokes
//! costs one compilation. Requests that arrive meanwhile are answered at once, from the latest
//! text. Each stack keeps a [`ParseCache`], so a recompilation re-parses only the files that
//! changed.
//!
//! `workspace/executeCommand` `cairn.status` (and, with the `statusOnSave` setting, a save)
//! runs `cairn status` on a worker thread ([`crate::status`]); the loop waits on the client and
//! on finished runs at once, so requests are answered while the cluster is read. The findings
//! are published with the compiler's diagnostics until the next run, or until their file changes.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cairn_compiler::{compile_with, Compilation, Environment, Mode, ParseCache, ProcessEnv, SourceLoader, StackError};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionParams, CodeActionProviderCapability, PrepareRenameResponse, ReferenceParams,
    RenameOptions, RenameParams, TextDocumentPositionParams,
};
use lsp_types::{
    CompletionOptions, CompletionParams, CompletionResponse, DidChangeTextDocumentParams, DidCloseTextDocumentParams,
    DidOpenTextDocumentParams, DidSaveTextDocumentParams, DocumentFormattingParams, DocumentSymbolParams, DocumentSymbolResponse,
    ExecuteCommandOptions, ExecuteCommandParams, GotoDefinitionParams, GotoDefinitionResponse, HoverParams, HoverProviderCapability,
    MessageType, OneOf, PositionEncodingKind, PublishDiagnosticsParams, SaveOptions, ServerCapabilities, TextDocumentSyncCapability,
    TextDocumentSyncKind, TextDocumentSyncOptions, TextDocumentSyncSaveOptions, TextEdit, Uri,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::convert::{offset, path_to_uri, whole};
use crate::documents::{Document, Documents, OverlayLoader};
use crate::status::{self, Connector, Done};
use crate::{completion, definition, diagnostics, hover, navigate, quickfix, symbols, Error};

/// Completion's view of a document's stack.
struct StackContext<'a> {
    server: &'a Server,
    doc: &'a Document,
}

impl completion::Context for StackContext<'_> {
    fn declared(&self, kind: cairn_compiler::schema::Kind) -> BTreeSet<String> {
        self.server.declared(self.doc, kind)
    }

    fn module_texts(&self, import_path: &str) -> Vec<String> {
        self.server.module_texts(self.doc, import_path)
    }
}

/// An error answer to a request.
struct Failure {
    code: ErrorCode,
    message: String,
}

impl Failure {
    fn new(code: ErrorCode, message: impl Into<String>) -> Failure {
        Failure { code, message: message.into() }
    }
}

/// How long the server waits after a `didChange` for another one before it recompiles the stack
/// and publishes its diagnostics.
pub const DEBOUNCE: Duration = Duration::from_millis(50);

/// Runs a compiled stack's policies (phase `check`) and returns their findings as diagnostics.
/// `cairn lsp` passes the runtime's policy host; the server runs it on save only, since a plugin
/// may take longer than a keystroke should.
pub type PolicyCheck = Box<dyn Fn(&Compilation) -> Vec<cairn_lang::Diagnostic>>;

/// The language server over one connection.
pub struct Server {
    conn: Connection,
    docs: Documents,
    /// For each stack directory, the files it last published diagnostics for (so files that no
    /// longer have any are cleared).
    published: BTreeMap<PathBuf, BTreeSet<String>>,
    /// Set by `shutdown`: later requests are refused, `exit` ends the loop cleanly.
    shutdown: bool,
    /// Documents changed since their stack's diagnostics were last published, by URI.
    dirty: BTreeMap<String, Uri>,
    /// When the dirty documents are published: [`DEBOUNCE`] after the last change.
    due: Option<Instant>,
    /// The parses of each stack's last compilation, by stack directory.
    parses: RefCell<BTreeMap<PathBuf, ParseCache>>,
    /// Each stack's last compilation and the buffers' generation it was made at.
    compiled: RefCell<BTreeMap<PathBuf, (u64, Rc<Compilation>)>>,
    /// Runs the stack's policies; `None`: policies are not checked.
    policies: Option<PolicyCheck>,
    /// Stack directories saved since their diagnostics were last published: the next publish
    /// runs their policies too.
    saved: BTreeSet<PathBuf>,
    /// Where `env()` reads: the process environment, or a map in tests.
    env: Arc<dyn Environment + Send + Sync>,
    /// Where `cairn.status` finds the cluster; `None`: nowhere (the command says so).
    connector: Option<Connector>,
    /// Finished `cairn.status` runs, from their worker threads.
    done: (crossbeam_channel::Sender<Done>, crossbeam_channel::Receiver<Done>),
    /// The last `cairn.status` findings, by stack directory, then file.
    findings: BTreeMap<PathBuf, BTreeMap<PathBuf, Vec<lsp_types::Diagnostic>>>,
    /// The `statusOnSave` setting: run `cairn.status` on every save.
    status_on_save: bool,
    /// The stack of the last document opened, changed or saved: `cairn.status`'s default.
    last_active: Option<PathBuf>,
    /// The workspace root: `cairn.status`'s default when no document was active.
    root: Option<PathBuf>,
}

impl Server {
    /// A server on `conn` (stdio in `cairn lsp`, `Connection::memory()` in tests).
    pub fn new(conn: Connection) -> Server {
        Server {
            conn,
            docs: Documents::default(),
            published: BTreeMap::new(),
            shutdown: false,
            dirty: BTreeMap::new(),
            due: None,
            parses: RefCell::new(BTreeMap::new()),
            compiled: RefCell::new(BTreeMap::new()),
            policies: None,
            saved: BTreeSet::new(),
            env: Arc::new(ProcessEnv),
            connector: None,
            done: crossbeam_channel::unbounded(),
            findings: BTreeMap::new(),
            status_on_save: false,
            last_active: None,
            root: None,
        }
    }

    /// The server, reading `env()` from `env` instead of the process environment (tests pass a
    /// map, so they touch no process-wide state).
    pub fn with_environment(mut self, env: Box<dyn Environment + Send + Sync>) -> Server {
        self.env = Arc::from(env);
        self
    }

    /// The server, running `cairn.status` against the live systems `connect` finds (without,
    /// the command answers that there is no cluster).
    pub fn with_cluster(mut self, connect: Connector) -> Server {
        self.connector = Some(connect);
        self
    }

    /// The server, checking each stack's policies with `check` when one of its files is saved.
    /// Policy findings are published with the save's diagnostics and dropped at the next change
    /// (their positions would be stale), until the next save.
    pub fn with_policies(mut self, check: PolicyCheck) -> Server {
        self.policies = Some(check);
        self
    }

    /// What the server offers.
    pub fn capabilities() -> ServerCapabilities {
        ServerCapabilities {
            position_encoding: Some(PositionEncodingKind::UTF16),
            text_document_sync: Some(TextDocumentSyncCapability::Options(TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::FULL),
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions { include_text: Some(false) })),
                ..TextDocumentSyncOptions::default()
            })),
            hover_provider: Some(HoverProviderCapability::Simple(true)),
            document_formatting_provider: Some(OneOf::Left(true)),
            document_symbol_provider: Some(OneOf::Left(true)),
            definition_provider: Some(OneOf::Left(true)),
            references_provider: Some(OneOf::Left(true)),
            rename_provider: Some(OneOf::Right(RenameOptions {
                prepare_provider: Some(true),
                work_done_progress_options: Default::default(),
            })),
            code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
                code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
                ..CodeActionOptions::default()
            })),
            completion_provider: Some(CompletionOptions {
                trigger_characters: Some(vec![".".to_string(), "\"".to_string()]),
                ..CompletionOptions::default()
            }),
            execute_command_provider: Some(ExecuteCommandOptions {
                commands: vec![status::COMMAND.to_string()],
                work_done_progress_options: Default::default(),
            }),
            ..ServerCapabilities::default()
        }
    }

    /// Runs the handshake and serves until `exit`. Exiting without a `shutdown` first is an
    /// error (LSP says the process then exits with code 1).
    pub fn run(mut self) -> Result<(), Error> {
        let (id, params) = self.conn.initialize_start()?;
        self.settings(&params);
        let result = serde_json::json!({
            "capabilities": Server::capabilities(),
            "serverInfo": { "name": "cairn", "version": env!("CARGO_PKG_VERSION") },
        });
        self.conn.initialize_finish(id, result)?;
        let receiver = self.conn.receiver.clone();
        let finished = self.done.1.clone();
        loop {
            // The debounced flush's deadline, or none.
            let flush_due = self.due.map_or_else(crossbeam_channel::never, crossbeam_channel::at);
            let next = crossbeam_channel::select! {
                recv(receiver) -> msg => msg.map_err(|_| Error::Disconnected),
                recv(finished) -> done => {
                    if let Ok(done) = done {
                        self.on_status(done)?;
                    }
                    continue;
                }
                recv(flush_due) -> _ => {
                    self.flush()?;
                    continue;
                }
            };
            match next? {
                Message::Request(req) => self.on_request(req)?,
                Message::Notification(n) if n.method == "exit" => {
                    return if self.shutdown { Ok(()) } else { Err(Error::ExitWithoutShutdown) };
                }
                Message::Notification(n) => self.on_notification(n)?,
                Message::Response(_) => {}
            }
        }
    }

    fn send(&self, msg: Message) -> Result<(), Error> {
        self.conn.sender.send(msg).map_err(|_| Error::Disconnected)
    }

    fn notify(&self, method: &str, params: impl Serialize) -> Result<(), Error> {
        self.send(Notification::new(method.to_string(), params).into())
    }

    fn log(&self, typ: MessageType, message: String) -> Result<(), Error> {
        self.notify("window/logMessage", lsp_types::LogMessageParams { typ, message })
    }

    // ---- requests -------------------------------------------------------------------------------

    fn on_request(&mut self, req: Request) -> Result<(), Error> {
        if req.method == "workspace/executeCommand" && !self.shutdown {
            // Answered when the run finishes (`on_status`), unless it cannot start.
            return match self.execute_command(req.id.clone(), req.params) {
                Ok(()) => Ok(()),
                Err(f) => self.send(Response::new_err(req.id, f.code as i32, f.message).into()),
            };
        }
        let result = if self.shutdown {
            Err(Failure::new(ErrorCode::InvalidRequest, "the server is shutting down"))
        } else {
            match req.method.as_str() {
                "shutdown" => {
                    self.shutdown = true;
                    Ok(Value::Null)
                }
                "textDocument/hover" => call(req.params, |p: HoverParams| self.hover(p)),
                "textDocument/formatting" => call(req.params, |p: DocumentFormattingParams| self.formatting(p)),
                "textDocument/documentSymbol" => call(req.params, |p: DocumentSymbolParams| self.symbols(p)),
                "textDocument/definition" => call(req.params, |p: GotoDefinitionParams| self.definition(p)),
                "textDocument/completion" => call(req.params, |p: CompletionParams| self.completion(p)),
                "textDocument/references" => call(req.params, |p: ReferenceParams| self.references(p)),
                "textDocument/prepareRename" => call(req.params, |p: TextDocumentPositionParams| self.prepare_rename(p)),
                "textDocument/rename" => call(req.params, |p: RenameParams| self.rename(p)),
                "textDocument/codeAction" => call(req.params, |p: CodeActionParams| self.code_action(p)),
                m => Err(Failure::new(ErrorCode::MethodNotFound, format!("cairn does not implement `{m}`"))),
            }
        };
        let resp = match result {
            Ok(v) => Response::new_ok(req.id, v),
            Err(f) => Response::new_err(req.id, f.code as i32, f.message),
        };
        self.send(resp.into())
    }

    fn doc(&self, uri: &Uri) -> Result<&Document, Failure> {
        self.docs.get(uri).ok_or_else(|| Failure::new(ErrorCode::RequestFailed, format!("`{}` is not open", uri.as_str())))
    }

    fn hover(&self, p: HoverParams) -> Result<Option<lsp_types::Hover>, Failure> {
        let doc = self.doc(&p.text_document_position_params.text_document.uri)?;
        let at = offset(&doc.text, p.text_document_position_params.position);
        Ok(hover::hover(&doc.text, at).or_else(|| self.value_hover(doc, at)))
    }

    /// The value of the `let` or reference at `at`, from a compilation of the document's stack.
    fn value_hover(&self, doc: &Document, at: u32) -> Option<lsp_types::Hover> {
        let (path, c) = self.stack_of(doc)?;
        let lets = || cairn_compiler::eval::let_values(&c.program, &OverlayLoader { docs: &self.docs }, self.env.as_ref(), Mode::Check);
        navigate::value_hover(&c, lets, &path, at)
    }

    /// The document's path and a compilation of its stack (`None` outside a stack).
    fn stack_of(&self, doc: &Document) -> Option<(PathBuf, Rc<Compilation>)> {
        let (path, dir) = (doc.path.clone()?, doc.stack_dir()?);
        Some((path, self.compile(&dir).ok()?))
    }

    fn references(&self, p: ReferenceParams) -> Result<Option<Vec<lsp_types::Location>>, Failure> {
        let doc = self.doc(&p.text_document_position.text_document.uri)?;
        let Some((path, c)) = self.stack_of(doc) else { return Ok(None) };
        let at = offset(&doc.text, p.text_document_position.position);
        Ok(navigate::references(&c, &path, at, p.context.include_declaration))
    }

    fn prepare_rename(&self, p: TextDocumentPositionParams) -> Result<Option<PrepareRenameResponse>, Failure> {
        let doc = self.doc(&p.text_document.uri)?;
        let Some((path, c)) = self.stack_of(doc) else { return Ok(None) };
        let found =
            navigate::prepare_rename(&c, &path, offset(&doc.text, p.position)).map_err(|m| Failure::new(ErrorCode::RequestFailed, m))?;
        Ok(found.map(|(range, placeholder)| PrepareRenameResponse::RangeWithPlaceholder { range, placeholder }))
    }

    fn rename(&self, p: RenameParams) -> Result<Option<lsp_types::WorkspaceEdit>, Failure> {
        let doc = self.doc(&p.text_document_position.text_document.uri)?;
        let Some((path, c)) = self.stack_of(doc) else { return Ok(None) };
        let at = offset(&doc.text, p.text_document_position.position);
        navigate::rename(&c, &path, at, &p.new_name).map_err(|m| Failure::new(ErrorCode::RequestFailed, m))
    }

    fn code_action(&self, p: CodeActionParams) -> Result<Option<lsp_types::CodeActionResponse>, Failure> {
        let doc = self.doc(&p.text_document.uri)?;
        if p.context.only.as_ref().is_some_and(|only| !only.iter().any(|k| k.as_str().starts_with("quickfix"))) {
            return Ok(Some(Vec::new()));
        }
        Ok(Some(quickfix::code_actions(&doc.uri, &doc.text, &p.context.diagnostics)))
    }

    fn formatting(&self, p: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>, Failure> {
        let doc = self.doc(&p.text_document.uri)?;
        Ok(match cairn_lang::format(&doc.text) {
            Ok(formatted) if formatted == doc.text => Some(Vec::new()),
            Ok(formatted) => Some(vec![TextEdit::new(whole(&doc.text), formatted)]),
            // Broken code is never rewritten; its diagnostics already say why.
            Err(_) => None,
        })
    }

    fn symbols(&self, p: DocumentSymbolParams) -> Result<Option<DocumentSymbolResponse>, Failure> {
        let doc = self.doc(&p.text_document.uri)?;
        Ok(Some(DocumentSymbolResponse::Nested(symbols::document_symbols(&doc.text))))
    }

    fn definition(&self, p: GotoDefinitionParams) -> Result<Option<GotoDefinitionResponse>, Failure> {
        let doc = self.doc(&p.text_document_position_params.text_document.uri)?;
        let (Some(path), Some(dir)) = (doc.path.as_deref(), doc.stack_dir()) else { return Ok(None) };
        let Ok(c) = self.compile(&dir) else { return Ok(None) };
        let at = offset(&doc.text, p.text_document_position_params.position);
        Ok(definition::definition(&c, path, at).map(GotoDefinitionResponse::Scalar))
    }

    fn completion(&self, p: CompletionParams) -> Result<Option<CompletionResponse>, Failure> {
        let doc = self.doc(&p.text_document_position.text_document.uri)?;
        let at = offset(&doc.text, p.text_document_position.position);
        let items = completion::complete(&doc.text, at, &StackContext { server: self, doc });
        Ok(Some(CompletionResponse::Array(items)))
    }

    /// The names declared of `kind` in the stack of `doc`: the top-level blocks of every `.cairn`
    /// file of its directory, read through the `OverlayLoader` (open buffers first), each parsed
    /// on its own so a broken file does not hide the others' names; plus the resources template
    /// instances make (`apps.web_app "web"` makes `workload.web`), from a compilation.
    fn declared(&self, doc: &Document, kind: cairn_compiler::schema::Kind) -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        completion::declared_in(&doc.text, kind, &mut names);
        let loader = OverlayLoader { docs: &self.docs };
        let Some(dir) = doc.stack_dir() else { return names };
        for path in loader.cairn_files(&dir).unwrap_or_default() {
            if doc.path.as_deref() != Some(path.as_path()) {
                if let Ok(text) = loader.read(&path) {
                    completion::declared_in(&text, kind, &mut names);
                }
            }
        }
        if let Ok(c) = self.compile(&dir) {
            names.extend(c.resources.iter().filter(|r| r.addr.kind == kind).map(|r| r.addr.name.clone()));
        }
        names
    }

    /// The texts of the module an import of `doc` names: a `std/` module, a `.cairn` file, or
    /// the `.cairn` files of a directory (relative to the document's directory).
    fn module_texts(&self, doc: &Document, import_path: &str) -> Vec<String> {
        if let Some(name) = import_path.strip_prefix("std/") {
            return cairn_stdlib::module(name).map(|(_, src)| vec![src.to_string()]).unwrap_or_default();
        }
        let Some(dir) = doc.stack_dir() else { return Vec::new() };
        let target = dir.join(import_path);
        let loader = OverlayLoader { docs: &self.docs };
        let files = if import_path.ends_with(".cairn") { vec![target] } else { loader.cairn_files(&target).unwrap_or_default() };
        files.iter().filter_map(|f| loader.read(f).ok()).collect()
    }

    // ---- notifications --------------------------------------------------------------------------

    fn on_notification(&mut self, n: Notification) -> Result<(), Error> {
        // Opening or closing a buffer ends a debounce: the changes before it are published
        // first, as they would have been had it come later. (A save publishes them with its own.)
        if matches!(n.method.as_str(), "textDocument/didOpen" | "textDocument/didClose") && !self.dirty.is_empty() {
            self.flush()?;
        }
        let result = match n.method.as_str() {
            "textDocument/didOpen" => parse(n.params).map(|p: DidOpenTextDocumentParams| {
                let d = p.text_document;
                let uri = d.uri.clone();
                self.docs.open(d.uri, d.text, d.version);
                Some(uri)
            }),
            "textDocument/didChange" => parse(n.params).map(|p: DidChangeTextDocumentParams| {
                // Full sync: the last change holds the whole text.
                let uri = p.text_document.uri;
                let text = p.content_changes.into_iter().next_back().map(|c| c.text)?;
                self.docs.change(&uri, text, p.text_document.version).map(|_| uri)
            }),
            "textDocument/didSave" => parse(n.params).map(|p: DidSaveTextDocumentParams| {
                let uri = p.text_document.uri;
                if let Some(text) = p.text {
                    let version = self.docs.get(&uri).map_or(0, |d| d.version);
                    self.docs.change(&uri, text, version);
                }
                let dir = match self.docs.get(&uri) {
                    Some(doc) => doc.stack_dir(),
                    None => crate::convert::uri_to_path(&uri).as_deref().and_then(Path::parent).map(Path::to_path_buf),
                };
                self.saved.extend(dir);
                Some(uri)
            }),
            "textDocument/didClose" => parse(n.params).map(|p: DidCloseTextDocumentParams| {
                let closed = self.docs.close(&p.text_document.uri)?;
                Some(closed.uri)
            }),
            _ => Ok(None),
        };
        match result {
            Ok(Some(uri)) => {
                let path = crate::convert::uri_to_path(&uri);
                if n.method != "textDocument/didClose" {
                    self.last_active = path.as_deref().and_then(Path::parent).map(Path::to_path_buf).or(self.last_active.take());
                }
                self.dirty.insert(uri.as_str().to_string(), uri);
                if n.method == "textDocument/didChange" {
                    // Findings describe the live cluster against the text they were made from,
                    // not the edited one: the changed file's are dropped.
                    if let Some(path) = &path {
                        for files in self.findings.values_mut() {
                            files.remove(path);
                        }
                    }
                    // A newer change supersedes: wait for the burst to end.
                    self.due = Some(Instant::now().checked_add(DEBOUNCE).unwrap_or_else(Instant::now));
                    Ok(())
                } else {
                    self.flush()?;
                    match path.as_deref().and_then(Path::parent) {
                        Some(dir) if n.method == "textDocument/didSave" && self.status_on_save => {
                            self.start_status(None, dir.to_path_buf()).map_err(Error::Io)
                        }
                        _ => Ok(()),
                    }
                }
            }
            Ok(None) => Ok(()),
            Err(e) => self.log(MessageType::ERROR, format!("ignored `{}`: {e}", n.method)),
        }
    }

    /// The compilation of the stack in `dir` from the latest buffers: the last one while no
    /// buffer changed since, else a new one that reuses the parses of the files that did not
    /// change. (A file that is not open and changes on disk is seen at the next buffer change.)
    fn compile(&self, dir: &Path) -> Result<Rc<Compilation>, StackError> {
        let generation = self.docs.generation();
        if let Some((g, c)) = self.compiled.borrow().get(dir) {
            if *g == generation {
                return Ok(Rc::clone(c));
            }
        }
        let mut parses = self.parses.borrow_mut();
        let cache = parses.entry(dir.to_path_buf()).or_default();
        let c = Rc::new(compile_with(&OverlayLoader { docs: &self.docs }, self.env.as_ref(), dir, Mode::Check, cache)?);
        self.compiled.borrow_mut().insert(dir.to_path_buf(), (generation, Rc::clone(&c)));
        Ok(c)
    }

    /// Republishes the diagnostics of the stacks of every dirty document, compiling each stack
    /// once.
    fn flush(&mut self) -> Result<(), Error> {
        self.due = None;
        let mut done: BTreeSet<PathBuf> = BTreeSet::new();
        for (_, uri) in std::mem::take(&mut self.dirty) {
            let stack = match self.docs.get(&uri) {
                Some(doc) => doc.stack_dir(),
                None => crate::convert::uri_to_path(&uri).as_deref().and_then(Path::parent).map(Path::to_path_buf),
            };
            if let Some(dir) = stack {
                if !done.insert(dir) {
                    continue;
                }
            }
            self.refresh(&uri)?;
        }
        Ok(())
    }

    /// Republishes the diagnostics of the stack `uri` belongs to (or of the buffer alone when it
    /// has none), clearing files that no longer have any.
    fn refresh(&mut self, uri: &Uri) -> Result<(), Error> {
        let dir = match self.docs.get(uri) {
            Some(doc) => match doc.stack_dir() {
                Some(dir) => dir,
                None => return self.publish(uri.clone(), diagnostics::of_text(&doc.text), Some(doc.version)),
            },
            // Closed: its stack is recompiled from disk when other buffers of it are open.
            None => match crate::convert::uri_to_path(uri).as_deref().and_then(Path::parent) {
                Some(dir) if self.docs.any_in(dir) => dir.to_path_buf(),
                Some(dir) => {
                    self.parses.borrow_mut().remove(dir);
                    self.compiled.borrow_mut().remove(dir);
                    for gone in self.published.remove(dir).unwrap_or_default() {
                        self.publish_str(&gone, Vec::new())?;
                    }
                    return self.publish(uri.clone(), Vec::new(), None);
                }
                None => return self.publish(uri.clone(), Vec::new(), None),
            },
        };
        self.publish_stack(dir, Some(uri))
    }

    /// Republishes the diagnostics of the stack in `dir` (the compiler's, the policies' after a
    /// save, and `cairn.status` findings); when it cannot be read as a stack, those of the
    /// buffer `uri` on its own.
    fn publish_stack(&mut self, dir: PathBuf, uri: Option<&Uri>) -> Result<(), Error> {
        let saved = self.saved.remove(&dir);
        let by_file = match self.compile(&dir) {
            Ok(c) => match &self.policies {
                Some(check) if saved && !c.has_errors() => {
                    let mut all = c.diagnostics.clone();
                    all.extend(check(&c));
                    diagnostics::of_diagnostics(&c, &all)
                }
                _ => diagnostics::of_compilation(&c),
            },
            // The directory cannot be read as a stack: each open buffer of it on its own.
            Err(_) => {
                let mut m = BTreeMap::new();
                if let Some(doc) = uri.and_then(|u| self.docs.get(u)) {
                    if let Some(p) = &doc.path {
                        m.insert(p.clone(), diagnostics::of_text(&doc.text));
                    }
                }
                m
            }
        };
        let mut now = BTreeSet::new();
        for (path, mut diags) in by_file {
            if let Some(found) = self.findings.get(&dir).and_then(|f| f.get(&path)) {
                diags.extend(found.iter().cloned());
            }
            let Some(file_uri) = self.docs.by_path(&path).map(|d| d.uri.clone()).or_else(|| path_to_uri(&path)) else { continue };
            now.insert(file_uri.as_str().to_string());
            let version = self.docs.get(&file_uri).map(|d| d.version);
            self.publish(file_uri, diags, version)?;
        }
        let before = self.published.insert(dir, now.clone()).unwrap_or_default();
        for gone in before.difference(&now) {
            self.publish_str(gone, Vec::new())?;
        }
        Ok(())
    }

    // ---- cairn.status -------------------------------------------------------------------------

    /// The settings of `initialize`: the workspace root, and `statusOnSave` in
    /// `initializationOptions` (as `{"statusOnSave": true}` or `{"cairn": {"statusOnSave": true}}`).
    fn settings(&mut self, params: &Value) {
        let set = |pointer: &str| params.pointer(pointer).and_then(Value::as_bool) == Some(true);
        self.status_on_save = set("/initializationOptions/statusOnSave") || set("/initializationOptions/cairn/statusOnSave");
        let text = |pointer: &str| params.pointer(pointer).and_then(Value::as_str);
        self.root = text("/workspaceFolders/0/uri")
            .or_else(|| text("/rootUri"))
            .and_then(|r| r.parse::<Uri>().ok())
            .and_then(|u| crate::convert::uri_to_path(&u))
            .or_else(|| text("/rootPath").map(PathBuf::from));
    }

    /// `workspace/executeCommand`: starts a `cairn.status` run, answered when it finishes.
    fn execute_command(&mut self, id: lsp_server::RequestId, params: Value) -> Result<(), Failure> {
        let p: ExecuteCommandParams =
            serde_json::from_value(params).map_err(|e| Failure::new(ErrorCode::InvalidParams, format!("invalid params: {e}")))?;
        if p.command != status::COMMAND {
            return Err(Failure::new(ErrorCode::InvalidParams, format!("cairn has no command `{}`", p.command)));
        }
        let dir = status::argument_dir(&p.arguments)
            .map_err(|m| Failure::new(ErrorCode::InvalidParams, m))?
            .or_else(|| self.last_active.clone())
            .or_else(|| self.root.clone())
            .ok_or_else(|| {
                Failure::new(ErrorCode::InvalidParams, "cairn.status: which stack? open one of its files, or pass its directory")
            })?;
        self.start_status(Some(id), dir)
            .map_err(|e| Failure::new(ErrorCode::InternalError, format!("cairn.status: cannot start a thread: {e}")))
    }

    /// Runs `cairn status` on the stack in `dir` on a worker thread; [`Server::on_status`] gets
    /// the result.
    fn start_status(&mut self, id: Option<lsp_server::RequestId>, dir: PathBuf) -> std::io::Result<()> {
        let connect = self.connector.as_ref().map(|c| c()).unwrap_or_default();
        let job = status::Job { id, dir, docs: self.docs.clone(), env: Arc::clone(&self.env), connect };
        status::spawn(job, self.done.0.clone())
    }

    /// A finished `cairn.status` run: its findings replace the stack's last ones (a file
    /// changed since the run keeps none), the stack is republished, the request answered.
    fn on_status(&mut self, done: Done) -> Result<(), Error> {
        let (found, answer) = match done.result {
            Ok(found) => {
                let answer = Ok(status::summary(&found));
                let mut by_file = found.by_file;
                by_file.retain(|path, _| self.docs.by_path(path).map(|d| d.version) == done.versions.get(path).copied());
                (by_file, answer)
            }
            Err(message) => (BTreeMap::new(), Err(message)),
        };
        self.findings.insert(done.dir.clone(), found);
        // Published even when none of the stack's files is open (the argument named a
        // directory): the findings go to the files they point to.
        let uri = self.docs.one_in(&done.dir).map(|d| d.uri.clone());
        self.publish_stack(done.dir.clone(), uri.as_ref())?;
        match (done.id, answer) {
            (Some(id), Ok(v)) => self.send(Response::new_ok(id, v).into()),
            (Some(id), Err(message)) => self.send(Response::new_err(id, ErrorCode::RequestFailed as i32, message).into()),
            (None, Ok(_)) => Ok(()),
            (None, Err(message)) => self.log(MessageType::WARNING, message),
        }
    }

    fn publish(&self, uri: Uri, diagnostics: Vec<lsp_types::Diagnostic>, version: Option<i32>) -> Result<(), Error> {
        // Never diagnostics of an older text than the buffer's.
        if let (Some(v), Some(doc)) = (version, self.docs.get(&uri)) {
            if v < doc.version {
                return Ok(());
            }
        }
        self.notify("textDocument/publishDiagnostics", PublishDiagnosticsParams { uri, diagnostics, version })
    }

    fn publish_str(&self, uri: &str, diagnostics: Vec<lsp_types::Diagnostic>) -> Result<(), Error> {
        match uri.parse::<Uri>() {
            Ok(u) => self.publish(u, diagnostics, None),
            Err(_) => Ok(()),
        }
    }
}

/// Decodes a request's params and runs `f`, turning bad params into `InvalidParams`.
fn call<P: DeserializeOwned, R: Serialize>(params: Value, f: impl FnOnce(P) -> Result<R, Failure>) -> Result<Value, Failure> {
    let p = serde_json::from_value(params).map_err(|e| Failure::new(ErrorCode::InvalidParams, format!("invalid params: {e}")))?;
    serde_json::to_value(f(p)?).map_err(|e| Failure::new(ErrorCode::InternalError, e.to_string()))
}

fn parse<P: DeserializeOwned>(params: Value) -> Result<P, serde_json::Error> {
    serde_json::from_value(params)
}

#[cfg(test)]
mod tests;
