//! The sealed round trip's time over the AEAD's alone (`roundtrip/sealed/<size>` over
//! `floor/xchacha20poly1305/<size>`, the same operations as `benches/sessions.rs`), measured
//! interleaved: short batches of one, then of the other, many times over, and the median of each
//! side. Criterion measures the two minutes apart, so on a busy machine their ratio moves with
//! whatever else ran meanwhile; here a neighbour's burst falls on both sides alike.
//!
//! ```sh
//! cargo bench -p arc-functions --bench ratios            # every size
//! cargo bench -p arc-functions --bench ratios -- --json  # one JSON object a line
//! ```

mod support;

use arc_functions::http::session::Session;
use std::hint::black_box;
use std::time::{Duration, Instant};
use support::{Floor, SIZES, round_trip, runtime, session_of, store};

/// Operations per batch, and batches per side.
const BATCH: u32 = 64;
const BATCHES: usize = 301;

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort_unstable();
    xs[xs.len() / 2]
}

fn main() {
    let json = std::env::args().any(|a| a == "--json");
    let rt = runtime();
    let store = store();
    let floor = Floor::new();
    if !json {
        println!("| size | round trip µs | AEAD alone µs | ratio |");
        println!("|---|---:|---:|---:|");
    }
    for (name, len) in SIZES {
        let session = Session::try_from(session_of(len)).expect("an object");
        let plaintext = Floor::plaintext(len);
        let mut sealed = || {
            for _ in 0..BATCH {
                black_box(rt.block_on(round_trip(&store, &session)));
            }
        };
        let mut bare = || {
            for _ in 0..BATCH {
                black_box(floor.seal_open(&plaintext));
            }
        };
        let timed = |f: &mut dyn FnMut()| {
            let start = Instant::now();
            f();
            start.elapsed() / BATCH
        };
        // Warm-up: caches, the allocator's free lists, the CPU's clock.
        let until = Instant::now() + Duration::from_millis(500);
        while Instant::now() < until {
            sealed();
            bare();
        }
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..BATCHES {
            a.push(timed(&mut sealed));
            b.push(timed(&mut bare));
        }
        let (a, b) = (median(a), median(b));
        let ratio = a.as_secs_f64() / b.as_secs_f64();
        let (a, b) = (a.as_secs_f64() * 1e6, b.as_secs_f64() * 1e6);
        if json {
            println!(r#"{{"name":"{name}","roundtrip_us":{a},"floor_us":{b},"ratio":{ratio}}}"#);
        } else {
            println!("| {name} | {a:.2} | {b:.2} | {ratio:.2}x |");
        }
    }
}
