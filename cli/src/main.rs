//! `cairn`: the command-line tool. Parses arguments, runs a command, prints, and chooses the
//! exit code (docs/architecture.md). Only this crate prints.

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
#[command(name = "cairn", version, about, propagate_version = true, after_help = EXAMPLES)]
struct Cli {
    /// When to color output; `NO_COLOR` turns color off in `auto`.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Print only results and errors (no progress lines).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Also say which cluster was chosen and why, and what reading it cost.
    #[arg(short, long, global = true)]
    verbose: bool,
    /// The cluster options given before the command (`cairn --context X plan`), as earlier
    /// versions took them: still accepted, not listed; those after the command win.
    #[arg(long = "kubeconfig", value_name = "FILE", hide = true)]
    before_kubeconfig: Option<PathBuf>,
    #[arg(long = "context", value_name = "NAME", hide = true)]
    before_context: Option<String>,
    #[arg(long = "cluster", value_name = "NAME", hide = true)]
    before_cluster: Option<String>,
    #[arg(long = "ceph-conf", value_name = "FILE", hide = true)]
    before_ceph_conf: Option<PathBuf>,
    #[arg(long = "request-timeout", value_name = "DUR", hide = true, value_parser = commands::apply::parse_duration)]
    before_request_timeout: Option<std::time::Duration>,
    #[command(subcommand)]
    command: Command,
}

const EXAMPLES: &str = "\
Examples:
  eval \"$(cairn sandbox up)\"   start a local cluster to try stacks on
  cairn check examples/shop    compile and check a stack, no cluster needed
  cairn plan examples/shop     show what apply would change
  cairn apply examples/shop    apply it (asks first)
  cairn completion bash > ~/.local/share/bash-completion/completions/cairn";

/// Where the live systems are: the options of the commands that read a cluster.
#[derive(clap::Args, Debug, Clone, Default)]
struct ClusterArgs {
    /// The kubeconfig file (else the cluster block's, KUBECONFIG, a running sandbox, ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// The kubeconfig context (else the cluster block's, else the current one).
    #[arg(long, value_name = "NAME")]
    context: Option<String>,
    /// Which `cluster` block's settings to use when the stack has several.
    #[arg(long, value_name = "NAME")]
    cluster: Option<String>,
    /// The ceph.conf of a direct-mode cluster (else the cluster block's `conf`, CEPH_CONF,
    /// /etc/ceph/ceph.conf).
    #[arg(long, value_name = "FILE")]
    ceph_conf: Option<PathBuf>,
    /// How long one Kubernetes API request may wait for an answer before cairn gives up on
    /// the server (as kubectl's; 0: no limit), e.g. 30s, 2m [default: 30s]. Connecting has 10s
    /// of its own.
    #[arg(long, value_name = "DUR", value_parser = commands::apply::parse_duration)]
    request_timeout: Option<std::time::Duration>,
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
    #[command(after_help = "Examples:\n  cairn check examples/shop\n  cairn check --format json . | jq '.diagnostics[].code'")]
    Check {
        /// The stack directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// `text`: graphical reports on stderr; `json`: the diagnostics on stdout (docs/language.md §9).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Rewrite files in the canonical layout.
    #[command(
        after_help = "Examples:\n  cairn fmt                 every .cairn file under the current directory\n  cairn fmt main.cairn      one file\n  cairn fmt --check .       list unformatted files, exit 1 if any (CI)\n  cairn fmt - < main.cairn  stdin to stdout (editors)"
    )]
    Fmt {
        /// Only report files that are not formatted; exit 1 if any.
        #[arg(long)]
        check: bool,
        /// Files or directories (searched recursively for `.cairn` files); `-` formats stdin to
        /// stdout.
        #[arg(default_value = ".")]
        paths: Vec<PathBuf>,
    },
    /// Print the desired objects as YAML, in dependency order.
    #[command(
        after_help = "Examples:\n  cairn render examples/shop | kubectl apply --dry-run=client -f -\n  cairn render examples/shop -o manifests/   one file per object; stale files of an earlier render removed"
    )]
    Render {
        /// The stack directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Write one file per object into this directory instead of stdout: a new or empty one, or
        /// one an earlier `render -o` wrote (its stale files are removed).
        #[arg(short = 'o', long = "output", value_name = "DIR")]
        output: Option<PathBuf>,
        /// Print secret values instead of `(sensitive)`.
        #[arg(long)]
        reveal_secrets: bool,
    },
    /// Print the dependency graph.
    #[command(after_help = "Examples:\n  cairn graph examples/shop | dot -Tsvg > shop.svg\n  cairn graph --format mermaid examples/shop")]
    Graph {
        /// The stack directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// `dot` (Graphviz), `mermaid` (for markdown) or `json` (objects and edges with reasons).
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
    },
    /// Compare the stack with the live cluster and show what apply would do.
    #[command(
        after_help = "Examples:\n  cairn plan examples/shop\n  cairn plan -o shop.plan examples/shop && cairn apply shop.plan\n  cairn plan --format json examples/shop | jq .summary\n  cairn plan --target workload.web --detailed-exitcode"
    )]
    Plan {
        /// The stack directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Save the plan to FILE, for `cairn apply FILE` and `cairn show FILE` (holds no secret values).
        #[arg(short = 'o', long = "out", value_name = "FILE")]
        out: Option<PathBuf>,
        /// `text` (Terraform-style) or `json` (docs/plan-format.md).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// The same as `--format json`.
        #[arg(long, conflicts_with = "format")]
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
        #[command(flatten)]
        cluster: ClusterArgs,
    },
    /// Print a plan saved with `cairn plan -o FILE`, as `terraform show` does.
    #[command(after_help = "Examples:\n  cairn show shop.plan\n  cairn show --format json shop.plan | jq .resource_changes")]
    Show {
        /// The plan file.
        file: PathBuf,
        /// `text` (as `plan` printed it) or `json` (docs/plan-format.md).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// The same as `--format json` (as `terraform show -json`).
        #[arg(long, conflicts_with = "format")]
        json: bool,
    },
    /// Apply the stack (or a saved plan) to the live cluster.
    #[command(
        after_help = "Examples:\n  cairn apply examples/shop\n  cairn apply --auto-approve shop.plan\n  cairn apply --target workload.web --timeout 10m\n  cairn apply --rollback-on-failure examples/shop"
    )]
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
        /// When a workload's rollout fails, put back its previous revision (as `kubectl rollout undo`).
        #[arg(long)]
        rollback_on_failure: bool,
        /// Only this resource or object and what it depends on; repeatable.
        #[arg(long = "target", value_name = "ADDR")]
        targets: Vec<String>,
        #[command(flatten)]
        cluster: ClusterArgs,
    },
    /// Compare live with declared for CI: each difference is drift or pending.
    #[command(
        after_help = "Examples:\n  cairn drift examples/shop            exit 0 in sync, 2 differences, 1 error\n  cairn drift --format markdown . >> \"$GITHUB_STEP_SUMMARY\""
    )]
    Drift {
        /// The stack directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// `text` (as `plan`), `json` (docs/plan-format.md) or `markdown` (a CI summary).
        #[arg(long, value_enum, default_value_t = DriftFormat::Text)]
        format: DriftFormat,
        #[command(flatten)]
        cluster: ClusterArgs,
    },
    /// The live health of the stack's workloads, each problem at the source line that caused it.
    #[command(
        after_help = "Examples:\n  cairn status examples/shop            exit 0 healthy, 2 unhealthy, 1 error\n  cairn status --format json ."
    )]
    Status {
        /// The stack directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// `text` (diagnostics at the source) or `json` (LANGUAGE.md §9 plus `object` and `evidence`).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        cluster: ClusterArgs,
    },
    /// Write cairn source for objects that exist today, read from the cluster or YAML files.
    #[command(
        after_help = "Examples:\n  cairn import --namespace shop -o shop/            the live objects of namespace shop\n  helm template my ./chart | cairn import -f - -n apps -o apps/\n  cairn import -f release.yaml -o app/ --format json\n\nThen: `cairn plan --adopt DIR` for a live import (no change but the ownership labels), `cairn render DIR` for files."
    )]
    Import {
        /// YAML files to import (`-`: stdin), any stream of Kubernetes objects such as `helm
        /// template` or `kustomize build` output. Without -f the cluster is read.
        #[arg(short = 'f', long = "filename", value_name = "FILE")]
        files: Vec<PathBuf>,
        /// A namespace to read from the cluster (repeatable; default: every namespace but
        /// kube-*, and rook-ceph). With -f: the namespace of objects that name none.
        #[arg(short = 'n', long = "namespace", value_name = "NS")]
        namespaces: Vec<String>,
        /// Only objects with these labels (`app=web,tier=front`).
        #[arg(short = 'l', long, value_name = "SELECTOR")]
        selector: Option<String>,
        /// Only these kinds (repeatable: `--kind deployment --kind service`).
        #[arg(long = "kind", value_name = "KIND")]
        kinds: Vec<String>,
        /// The stack directory to write: new or empty.
        #[arg(short = 'o', long = "output", value_name = "DIR")]
        output: PathBuf,
        /// The stack's name (default: the `app.kubernetes.io/instance` label the pods carry,
        /// else the directory's name).
        #[arg(long)]
        stack: Option<String>,
        /// `text`: the report for people; `json`: the same as data.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        cluster: ClusterArgs,
    },
    /// Delete everything the stack owns, in reverse dependency order.
    #[command(after_help = "Examples:\n  cairn destroy examples/shop\n  cairn destroy --auto-approve --allow-data-loss examples/shop")]
    Destroy {
        /// The stack directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
        #[command(flatten)]
        common: ApplyFlags,
        #[command(flatten)]
        cluster: ClusterArgs,
    },
    /// Run the language server on stdin/stdout (for editors; see docs/editors.md).
    Lsp,
    /// A local simulated Kubernetes API server (with Rook's CRDs) to try stacks on.
    #[command(
        after_help = "Examples:\n  eval \"$(cairn sandbox up)\"    start it and point KUBECONFIG at it\n  cairn sandbox down --reset    stop it and forget its objects"
    )]
    Sandbox {
        #[command(subcommand)]
        action: SandboxAction,
    },
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  cairn completion bash > ~/.local/share/bash-completion/completions/cairn\n  cairn completion zsh > \"${fpath[1]}/_cairn\"\n  cairn completion fish > ~/.config/fish/completions/cairn.fish"
    )]
    Completion {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[derive(Subcommand, Debug)]
enum SandboxAction {
    /// Start the sandbox in the background; prints the `export KUBECONFIG=…` line.
    Up {
        /// Port on 127.0.0.1.
        #[arg(long, default_value_t = commands::sandbox::DEFAULT_PORT)]
        port: u16,
        /// Where its state, kubeconfig, pid file and log live (default: CAIRN_SANDBOX, else
        /// .cairn/sandbox here).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Stop the sandbox; its state is kept for the next `up`.
    Down {
        /// Also delete the saved state, so the next `up` starts a fresh cluster.
        #[arg(long)]
        reset: bool,
        /// The sandbox directory (default: CAIRN_SANDBOX, else .cairn/sandbox here, else the
        /// one the last `up` recorded).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Say whether the sandbox runs, where, and its kubeconfig; exit 1 when it does not run.
    Status {
        /// The sandbox directory (default: CAIRN_SANDBOX, else .cairn/sandbox here, else the
        /// one the last `up` recorded).
        #[arg(long)]
        dir: Option<PathBuf>,
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

/// `--format` values of `check`, `plan` and `show`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
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

/// mimalloc instead of the system allocator: a compilation is mostly many small, short-lived
/// allocations (syntax nodes, values, JSON maps), where it is markedly faster than glibc's
/// malloc and returns memory in fewer page faults (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = output::Output::new(cli.color);
    let verbose = cli.verbose;
    let before = ClusterArgs {
        kubeconfig: cli.before_kubeconfig,
        context: cli.before_context,
        cluster: cli.before_cluster,
        ceph_conf: cli.before_ceph_conf,
        request_timeout: cli.before_request_timeout,
    };
    let flags = |c: ClusterArgs| commands::live::ClusterFlags {
        kubeconfig: c.kubeconfig.or(before.kubeconfig.clone()),
        context: c.context.or(before.context.clone()),
        cluster: c.cluster.or(before.cluster.clone()),
        ceph_conf: c.ceph_conf.or(before.ceph_conf.clone()),
        verbose,
        request_timeout: Some(c.request_timeout.or(before.request_timeout).unwrap_or(cairn_runtime::kube::DEFAULT_REQUEST_TIMEOUT))
            .filter(|t| !t.is_zero()),
    };
    let quiet = cli.quiet;
    let apply_args = |path: PathBuf, c: ApplyFlags, adopt, force_conflicts, targets, destroy| commands::apply::ApplyArgs {
        rollback_on_failure: false,
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
        Command::Plan { dir, out: out_file, format, json, detailed_exitcode, targets, adopt, cluster } => {
            let json = json || format == Format::Json;
            return ExitCode::from(commands::plan::plan(
                &out,
                &flags(cluster),
                &commands::plan::PlanArgs { dir, out_file, json, detailed_exitcode, targets, adopt },
            ));
        }
        Command::Apply { path, common, adopt, force_conflicts, rollback_on_failure, targets, cluster } => {
            return ExitCode::from(commands::apply::run(
                &out,
                &flags(cluster),
                &commands::apply::ApplyArgs { rollback_on_failure, ..apply_args(path, common, adopt, force_conflicts, targets, false) },
            ))
        }
        Command::Drift { dir, format, cluster } => return ExitCode::from(commands::plan::drift(&out, &flags(cluster), &dir, format)),
        Command::Status { dir, format, cluster } => return ExitCode::from(commands::status::run(&out, &flags(cluster), &dir, format)),
        Command::Destroy { dir, common, cluster } => {
            return ExitCode::from(commands::apply::run(&out, &flags(cluster), &apply_args(dir, common, false, false, Vec::new(), true)))
        }
        other => other,
    };
    let ok = match code {
        Command::Check { dir, format } => commands::check::run(&out, &dir, format),
        Command::Fmt { check, paths } => commands::fmt::run(&out, &paths, check),
        Command::Render { dir, output, reveal_secrets } => commands::render::run(&out, &dir, output.as_deref(), reveal_secrets),
        Command::Graph { dir, format } => commands::graph::run(&out, &dir, format),
        Command::Show { file, format, json } => commands::plan::show(&out, &file, if json { Format::Json } else { format }),
        Command::Import { files, namespaces, selector, kinds, output, stack, format, cluster } => commands::import::run(
            &out,
            &flags(cluster),
            &commands::import::ImportArgs { files, namespaces, selector, kinds, output, stack, format },
        ),
        Command::Lsp => commands::lsp::run(&out, &flags(ClusterArgs::default())),
        Command::Completion { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "cairn", &mut std::io::stdout());
            true
        }
        Command::Sandbox { action } => match action {
            SandboxAction::Up { port, dir } => commands::sandbox::up(&out, &dir.unwrap_or_else(commands::sandbox::up_dir), port),
            SandboxAction::Down { reset, dir } => commands::sandbox::down(&out, &dir.unwrap_or_else(commands::sandbox::find_dir), reset),
            SandboxAction::Status { dir } => commands::sandbox::status(&out, &dir.unwrap_or_else(commands::sandbox::find_dir)),
            SandboxAction::Serve { port, dir } => commands::sandbox::serve(&out, &dir, port),
        },
        Command::Plan { .. } | Command::Apply { .. } | Command::Drift { .. } | Command::Status { .. } | Command::Destroy { .. } => false,
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
