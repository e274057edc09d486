//! `cairn`: the command-line tool. Parses arguments, runs a command, prints, and chooses the
//! exit code (DESIGN.md §3). Only this crate prints.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod commands;
mod output;
mod report;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// A declarative config compiler and planner for Kubernetes on Ceph.
#[derive(Parser, Debug)]
#[command(name = "cairn", version, about, propagate_version = true)]
struct Cli {
    /// When to color output; `NO_COLOR` turns color off in `auto`.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    #[command(subcommand)]
    command: Command,
}

/// `--color` values.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Parse, evaluate and check a stack without touching a cluster.
    Check {
        /// The stack directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// `text` (graphical reports) or `json` (LANGUAGE.md §9).
        #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
        format: CheckFormat,
    },
    /// Rewrite files in the canonical layout.
    Fmt {
        /// Only report files that are not formatted; exit 1 if any.
        #[arg(long)]
        check: bool,
        /// Files or directories (searched recursively for `.cairn` files).
        #[arg(default_value = ".")]
        paths: Vec<PathBuf>,
    },
    /// Print the desired objects as YAML, in dependency order.
    Render {
        /// The stack directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Write one file per object into this directory instead of stdout.
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
        /// Print secret values instead of `(sensitive)`.
        #[arg(long)]
        reveal_secrets: bool,
    },
    /// Print the dependency graph.
    Graph {
        /// The stack directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
    },
    /// Run the language server on stdin/stdout (for editors; see docs/editors.md).
    Lsp,
    /// A local simulated Kubernetes API server (with Rook's CRDs) to try stacks on.
    Sandbox {
        #[command(subcommand)]
        action: SandboxAction,
    },
}

#[derive(Subcommand, Debug)]
enum SandboxAction {
    /// Start the sandbox in the background; prints the `export KUBECONFIG=…` line.
    Up {
        /// Port on 127.0.0.1.
        #[arg(long, default_value_t = commands::sandbox::DEFAULT_PORT)]
        port: u16,
        /// Where its state, kubeconfig, pid file and log live.
        #[arg(long, default_value_os_t = commands::sandbox::default_dir())]
        dir: PathBuf,
    },
    /// Stop the sandbox; its state is kept for the next `up`.
    Down {
        /// Also delete the saved state, so the next `up` starts a fresh cluster.
        #[arg(long)]
        reset: bool,
        #[arg(long, default_value_os_t = commands::sandbox::default_dir())]
        dir: PathBuf,
    },
    /// Say whether the sandbox runs, where, and its kubeconfig; exit 1 when it does not run.
    Status {
        #[arg(long, default_value_os_t = commands::sandbox::default_dir())]
        dir: PathBuf,
    },
    /// Run the server in the foreground (what `up` starts).
    #[command(hide = true)]
    Serve {
        #[arg(long, default_value_t = commands::sandbox::DEFAULT_PORT)]
        port: u16,
        #[arg(long, default_value_os_t = commands::sandbox::default_dir())]
        dir: PathBuf,
    },
}

/// `check --format` values.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
}

/// `graph --format` values.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Dot,
    Mermaid,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = output::Output::new(cli.color);
    let ok = match cli.command {
        Command::Check { dir, format } => commands::check::run(&out, &dir, format),
        Command::Fmt { check, paths } => commands::fmt::run(&out, &paths, check),
        Command::Render { dir, output, reveal_secrets } => commands::render::run(&out, &dir, output.as_deref(), reveal_secrets),
        Command::Graph { dir, format } => commands::graph::run(&out, &dir, format),
        Command::Lsp => commands::lsp::run(&out),
        Command::Sandbox { action } => match action {
            SandboxAction::Up { port, dir } => commands::sandbox::up(&out, &dir, port),
            SandboxAction::Down { reset, dir } => commands::sandbox::down(&out, &dir, reset),
            SandboxAction::Status { dir } => commands::sandbox::status(&out, &dir),
            SandboxAction::Serve { port, dir } => commands::sandbox::serve(&out, &dir, port),
        },
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
