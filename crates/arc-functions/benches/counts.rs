//! Counts, not times: heap allocations per operation, and, under callgrind, instructions per
//! operation. Neither moves with the machine's load, so they compare two builds where
//! criterion's times cannot. The operations are `benches/sessions.rs`'s, built by the same code
//! (`benches/support`):
//!
//! - `roundtrip/sealed/<size>`: a session sealed into its cookie and opened again;
//! - `floor/xchacha20poly1305/<size>`: the AEAD alone on a plaintext of the same length;
//! - `handler/v2`: one v2 event through `Handler::invoke`, text in, text out;
//! - `handler/v2-event-read`: the event's text read into a request, the text copied first
//!   (one allocation that `http::run`, handed the payload, does not make).
//!
//! ```sh
//! cargo bench -p arc-functions --bench counts                   # allocations, every case
//! cargo bench -p arc-functions --bench counts -- --json         # one JSON object a line
//! # instructions of one case: callgrind counts only inside `measured`
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='counts::measured*' \
//!     target/release/deps/counts-<hash> --iterations 1000 roundtrip/sealed/2.8KB
//! ```
//!
//! Allocations are calls to `alloc` (reallocations apart); bytes, what those and growing
//! reallocations asked for.

mod support;

use arc_functions::http::Handler;
use arc_functions::http::session::Session;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use std::alloc::System;
use std::hint::black_box;
use std::sync::Arc;
use support::{Floor, SIZES, count, read_v2, round_trip, runtime, session_of, store};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Runs `op` `iterations` times: the one function callgrind is told to count inside.
#[inline(never)]
fn measured(iterations: u64, op: &mut dyn FnMut()) {
    for _ in 0..iterations {
        op();
    }
}

fn main() {
    let mut iterations = 1_000u64;
    let (mut json, mut filter) = (false, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--iterations" => {
                iterations = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .expect("--iterations takes a positive number");
            }
            "--json" => json = true,
            // What `cargo bench` passes to every bench target.
            "--bench" => {}
            name => filter = Some(name.to_owned()),
        }
    }

    let rt = runtime();
    let store = store();
    let floor = Floor::new();
    let handler = Handler::with_store(Arc::clone(&store), count);
    let event = support::v2_event(&rt, &store);

    let mut cases: Vec<(String, Box<dyn FnMut() + '_>)> = Vec::new();
    for (name, len) in SIZES {
        let session = Session::try_from(session_of(len)).expect("an object");
        let (rt, store) = (&rt, &store);
        cases.push((
            format!("roundtrip/sealed/{name}"),
            Box::new(move || {
                black_box(rt.block_on(round_trip(store, &session)));
            }),
        ));
    }
    for (name, len) in SIZES {
        let plaintext = Floor::plaintext(len);
        let floor = &floor;
        cases.push((
            format!("floor/xchacha20poly1305/{name}"),
            Box::new(move || {
                black_box(floor.seal_open(&plaintext));
            }),
        ));
    }
    let (rt, handler, event) = (&rt, &handler, &event);
    cases.push((
        "handler/v2".to_owned(),
        Box::new(move || {
            black_box(rt.block_on(handler.invoke(event)).expect("reply"));
        }),
    ));
    cases.push((
        "handler/v2-event-read".to_owned(),
        Box::new(move || {
            black_box(read_v2(event.as_str()));
        }),
    ));

    if !json {
        println!("| per operation | allocations | reallocations | bytes allocated |");
        println!("|---|---:|---:|---:|");
    }
    // A whole name picks that case alone (`handler/v2`), else every name containing the text.
    let exact = filter
        .as_ref()
        .is_some_and(|f| cases.iter().any(|(n, _)| n == f));
    for (name, op) in &mut cases {
        let picked = filter.as_ref().is_none_or(|f| {
            if exact {
                name == f
            } else {
                name.contains(f.as_str())
            }
        });
        if !picked {
            continue;
        }
        op(); // a first call outside the count: lazy initialisation is not the operation's
        let region = Region::new(GLOBAL);
        measured(iterations, op);
        let change = region.change();
        let per = |n: usize| n as f64 / iterations as f64;
        let (allocations, reallocations, bytes) = (
            per(change.allocations),
            per(change.reallocations),
            per(change.bytes_allocated),
        );
        if json {
            println!(
                r#"{{"name":"{name}","allocations":{allocations},"reallocations":{reallocations},"bytes":{bytes}}}"#
            );
        } else {
            println!("| {name} | {allocations:.1} | {reallocations:.1} | {bytes:.0} |");
        }
    }
}
