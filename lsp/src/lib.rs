//! cairn-lsp: the language server behind `cairn lsp`. It holds the editor's open buffers, reads
//! stacks through them (a [`cairn_compiler::SourceLoader`] over the buffers, falling back to the
//! disk), and answers over LSP: diagnostics of the document's stack on open, change and save;
//! hover with the schema's docs; completion of block kinds, attributes, enum values and
//! declared names; formatting with `cairn fmt`'s formatter; the document outline;
//! go to definition of resource references, lets, templates and imports; find references and
//! rename of resources and lets; the "did you mean" quick fix; hover on the values of lets and
//! references (never a sensitive one); and, when asked (`workspace/executeCommand`
//! `cairn.status`), `cairn status`'s findings from the live cluster as diagnostics — the one
//! request that does network I/O, on a worker thread. [`Server`] works on any
//! [`lsp_server::Connection`]; [`run_stdio`] is what the CLI calls.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::arithmetic_side_effects))]

mod completion;
mod convert;
mod definition;
mod diagnostics;
mod documents;
mod hover;
mod index;
mod navigate;
mod quickfix;
mod server;
mod status;
mod symbols;
pub mod transport;

pub use convert::{path_to_uri, uri_to_path};
pub use server::{PolicyCheck, Server, DEBOUNCE};
pub use status::{Connector, COMMAND as STATUS_COMMAND};

/// Why the server stopped other than by `shutdown` then `exit`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("LSP protocol error: {0}")]
    Protocol(#[from] lsp_server::ProtocolError),
    #[error("cannot talk to the client: {0}")]
    Io(#[from] std::io::Error),
    #[error("the client closed the connection")]
    Disconnected,
    #[error("the client sent `exit` without `shutdown` first")]
    ExitWithoutShutdown,
}

/// Serves LSP on stdin/stdout until the client says `exit`; `policies`, when given, checks each
/// stack's policies on save; `cluster`, when given, is where `cairn.status` reads.
pub fn run_stdio(policies: Option<server::PolicyCheck>, cluster: Option<Connector>) -> Result<(), Error> {
    // Our own transport, not `Connection::stdio()`: a malformed frame gets an error response
    // instead of ending the server (see `transport`).
    let (conn, io_threads) = transport::stdio();
    let mut server = Server::new(conn);
    if let Some(check) = policies {
        server = server.with_policies(check);
    }
    if let Some(connect) = cluster {
        server = server.with_cluster(connect);
    }
    server.run()?;
    // The reader stops after `exit`; the writer once the server's sender is dropped (when
    // `run` returns). On an error the reader may still wait on stdin, so it is not joined.
    io_threads.join()?;
    Ok(())
}
