//! `cairn`: the command-line tool. Parses arguments, runs a command, prints, and chooses the
//! exit code (DESIGN.md §3). Only this crate prints.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod commands;
mod output;
mod plan_view;
mod report;
mod saved_plan;

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
    /// The kubeconfig file (else the cluster block's, KUBECONFIG, a running sandbox, ~/.kube/config).
    #[arg(long, global = true, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// The kubeconfig context (else the cluster block's, else the current one).
    #[arg(long, global = true, value_name = "NAME")]
    context: Option<String>,
    /// Which `cluster` block's settings to use when the stack has several.
    #[arg(long, global = true, value_name = "NAME")]
    cluster: Option<String>,
    /// The ceph.conf of a direct-mode cluster (else the cluster block's `conf`, CEPH_CONF,
    /// /etc/ceph/ceph.conf).
    #[arg(long, global = true, value_name = "FILE")]
    ceph_conf: Option<PathBuf>,
    /// Print only results and errors (no progress lines).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Also say which cluster was chosen and why, and what reading it cost.
    #[arg(short, long, global = true)]
    verbose: bool,
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
    /// Compare the stack with the live cluster and show what apply would do.
    Plan {
        /// The stack directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Save the plan to FILE, for `cairn apply FILE` (holds no secret values).
        #[arg(short = 'o', long = "out", value_name = "FILE")]
        out: Option<PathBuf>,
        /// Print the plan as JSON (docs/plan-format.md).
        #[arg(long)]
        json: bool,
        /// Exit 2 when there are changes (0 none, 1 error).
        #[arg(long)]
        detailed_exitcode: bool,
        /// Only this resource (`workload.web`) or object (`Deployment/shop/web`) and what it
        /// depends on; repeatable.
        #[arg(long = "target", value_name = "ADDR")]
        targets: Vec<String>,
        /// Take over same-named objects no stack owns.
        #[arg(long)]
        adopt: bool,
    },
    /// Apply the stack (or a saved plan) to the live cluster.
    Apply {
        /// The stack directory, or a plan file from `cairn plan -o`.
        #[arg(default_value = ".")]
        path: PathBuf,
        #[command(flatten)]
        common: ApplyFlags,
        /// Take over same-named objects no stack owns.
        #[arg(long)]
        adopt: bool,
        /// Take fields other field managers own instead of stopping at the conflict.
        #[arg(long)]
        force_conflicts: bool,
        /// Only this resource or object and what it depends on; repeatable.
        #[arg(long = "target", value_name = "ADDR")]
        targets: Vec<String>,
    },
    /// Compare live with declared for CI: each difference is drift or pending.
    Drift {
        /// The stack directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
        #[arg(long, value_enum, default_value_t = DriftFormat::Text)]
        format: DriftFormat,
    },
    /// Delete everything the stack owns, in reverse dependency order.
    Destroy {
        /// The stack directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
        #[command(flatten)]
        common: ApplyFlags,
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

/// Flags `apply` and `destroy` share.
#[derive(clap::Args, Debug)]
struct ApplyFlags {
    /// Do not ask for confirmation.
    #[arg(long)]
    auto_approve: bool,
    /// Steps run at once.
    #[arg(long, default_value_t = 10)]
    parallelism: usize,
    /// Allow deleting or replacing protected objects (pools, their data).
    #[arg(long)]
    allow_data_loss: bool,
    /// Wait this long for another apply's lock (0: fail at once), e.g. 30s, 5m.
    #[arg(long, default_value = "0", value_parser = commands::apply::parse_duration)]
    lock_timeout: std::time::Duration,
    /// How long one wait (rollout, namespace, CRD, claim) may take, e.g. 5m.
    #[arg(long, default_value = "5m", value_parser = commands::apply::parse_duration)]
    timeout: std::time::Duration,
}

/// `drift --format` values.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum DriftFormat {
    Text,
    Json,
    Markdown,
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
    let flags = commands::live::ClusterFlags {
        kubeconfig: cli.kubeconfig,
        context: cli.context,
        cluster: cli.cluster,
        ceph_conf: cli.ceph_conf,
        verbose: cli.verbose,
    };
    let quiet = cli.quiet;
    let apply_args = |path: PathBuf, c: ApplyFlags, adopt, force_conflicts, targets, destroy| commands::apply::ApplyArgs {
        path,
        auto_approve: c.auto_approve,
        parallelism: c.parallelism,
        allow_data_loss: c.allow_data_loss,
        adopt,
        force_conflicts,
        lock_timeout: c.lock_timeout,
        timeout: c.timeout,
        targets,
        quiet,
        destroy,
    };
    let code = match cli.command {
        Command::Plan { dir, out: out_file, json, detailed_exitcode, targets, adopt } => {
            return ExitCode::from(commands::plan::plan(
                &out,
                &flags,
                &commands::plan::PlanArgs { dir, out_file, json, detailed_exitcode, targets, adopt },
            ))
        }
        Command::Apply { path, common, adopt, force_conflicts, targets } => {
            return ExitCode::from(commands::apply::run(&out, &flags, &apply_args(path, common, adopt, force_conflicts, targets, false)))
        }
        Command::Drift { dir, format } => return ExitCode::from(commands::plan::drift(&out, &flags, &dir, format)),
        Command::Destroy { dir, common } => {
            return ExitCode::from(commands::apply::run(&out, &flags, &apply_args(dir, common, false, false, Vec::new(), true)))
        }
        other => other,
    };
    let ok = match code {
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
        Command::Plan { .. } | Command::Apply { .. } | Command::Drift { .. } | Command::Destroy { .. } => false,
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
