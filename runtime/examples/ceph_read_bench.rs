//! Measures reading a cluster's Ceph state through librados: fills the cluster up to N pools
//! named `bench-NNNN` (pg_num 1, autoscale off), then times `read_state` and counts its monitor
//! commands. Driven by `scripts/bench-ceph.sh`, which also times the same reads with the `ceph`
//! CLI; the cluster comes from `CEPH_CONF` and `CEPH_KEYRING`.
//!
//!   ceph_read_bench [N] [RUNS]     # N = 200 pools, RUNS = 10 reads
//!   ceph_read_bench --cleanup      # deletes the bench-* pools

use std::time::{Duration, Instant};

use cairn_runtime::ceph::{read_state, run_commands, CephError, Client, Settings};
use futures::{StreamExt, TryStreamExt};
use serde_json::json;

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("ceph_read_bench: {e}");
        if let Some(help) = miette::Diagnostic::help(&e) {
            eprintln!("  help: {help}");
        }
        std::process::exit(1);
    }
}

async fn run() -> Result<(), CephError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let settings = Settings { keyring: std::env::var_os("CEPH_KEYRING").map(Into::into), ..Settings::default() };
    let started = Instant::now();
    let client = Client::connect(&settings).await?;
    println!("connect: {:.1} ms ({})", ms(started.elapsed()), client.describe());

    if args.first().map(String::as_str) == Some("--cleanup") {
        let state = read_state(&client).await?;
        let doomed: Vec<String> = state.pools.iter().map(|p| p.pool_name.clone()).filter(|n| n.starts_with("bench-")).collect();
        for name in &doomed {
            run_commands(
                &client,
                &[json!({"prefix": "osd pool delete", "pool": name, "pool2": name, "yes_i_really_really_mean_it": true})],
                None,
            )
            .await?;
        }
        println!("deleted {} pools", doomed.len());
        return Ok(());
    }
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(200);
    let runs: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10).max(1);

    // Fill up to N pools, 16 creates in flight (each waits for a Paxos round).
    let existing = read_state(&client).await?;
    let missing: Vec<String> = (0..n).map(|i| format!("bench-{i:04}")).filter(|name| existing.pool(name).is_none()).collect();
    let started = Instant::now();
    let made = missing.len();
    futures::stream::iter(missing)
        .map(|name| {
            let client = client.clone();
            async move {
                let create = json!({"prefix": "osd pool create", "pool": name, "pg_num": 1, "pgp_num": 1,
                                    "pool_type": "replicated", "autoscale_mode": "off"});
                run_commands(&client, &[create], None).await
            }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await?;
    if made > 0 {
        println!(
            "created {made} pools in {:.2} s ({:.1} ms each, 16 at once)",
            started.elapsed().as_secs_f64(),
            ms(started.elapsed()) / made as f64
        );
    }

    let mut times = Vec::with_capacity(runs);
    let mut per_read = 0;
    let mut pools = 0;
    let mut profiles = 0;
    for _ in 0..runs {
        let before = client.commands_issued();
        let started = Instant::now();
        let state = read_state(&client).await?;
        times.push(started.elapsed());
        per_read = client.commands_issued() - before;
        pools = state.pools.len();
        profiles = state.ec_profiles.len();
    }
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "librados read_state: {pools} pools, {profiles} EC profiles, {per_read} monitor commands; best {:.2} ms, median {:.2} ms over {runs} runs",
        ms(times[0]),
        ms(median)
    );
    let started = Instant::now();
    client.mon_command(json!({"prefix": "osd pool ls", "detail": "detail"})).await?;
    println!("librados one `osd pool ls detail`: {:.2} ms", ms(started.elapsed()));
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
