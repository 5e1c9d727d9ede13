//! What reading the app secret from Secrets Manager adds to a cold start:
//! `config/secret-given` is `Config::load` with `ARC_APP_SECRET` set (nothing fetched, no AWS
//! configuration loaded), `config/secret-fetched` the same with `ARC_APP_SECRET_ARN` instead,
//! against moto's server: each iteration does all a cold start does (a thread and runtime of
//! its own, the AWS configuration, a client, a connection, `AWSCURRENT` and `AWSPREVIOUS`).
//!
//! Needs `AWS_ENDPOINT_URL_SECRETS_MANAGER` (`scripts/lib.sh`'s `start_moto`); without it the
//! bench says so and measures nothing.

use arc_functions::config::Config;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

const SECRET: &str = "benchmark secret: at least thirty-two bytes long";

fn load(c: &mut Criterion) {
    if std::env::var_os("AWS_ENDPOINT_URL_SECRETS_MANAGER").is_none() {
        eprintln!("SKIPPED config/*: set AWS_ENDPOINT_URL_SECRETS_MANAGER to moto's server");
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let name = format!("arc-bench/{}", std::process::id());
    rt.block_on(async {
        let client = aws_sdk_secretsmanager::Client::new(&aws_config::load_from_env().await);
        client
            .create_secret()
            .name(&name)
            .secret_string(SECRET)
            .send()
            .await
            .expect("created");
    });
    let mut group = c.benchmark_group("config");
    group.bench_function("secret-given", |b| {
        b.iter(|| {
            black_box(
                Config::load([("ARC_ENV", "production"), ("ARC_APP_SECRET", SECRET)])
                    .expect("config"),
            )
        })
    });
    group.bench_function("secret-fetched", |b| {
        b.iter(|| {
            black_box(
                Config::load([
                    ("ARC_ENV", "production"),
                    ("ARC_APP_SECRET_ARN", name.as_str()),
                ])
                .expect("config"),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, load);
criterion_main!(benches);
