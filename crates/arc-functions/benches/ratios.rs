//! The sealed round trip's time over the AEAD's alone (`roundtrip/sealed/<size>` over
//! `floor/xchacha20poly1305/<size>`, the same operations as `benches/sessions.rs`), measured
//! interleaved: short batches of one, then of the other, many times over, and the median of each
//! side. Criterion measures the two minutes apart, so on a busy machine their ratio moves with
//! whatever else ran meanwhile; here a neighbour's burst falls on both sides alike.
//!
//! The round trip timed here is the store's: `SessionStore::write` and `SessionStore::read`.
//! Between them the bench builds the request that carries the cookie back (the browser's part,
//! and the event reader's, which checks every header byte): untimed, as it is no work of the
//! session layer. It was a tenth of the round trip's instructions at 2.8 KB (callgrind), and
//! the reader's share is in the event read's figures. `roundtrip/sealed/<size>` in
//! `benches/sessions.rs`, set beside Node's, still times all three.
//!
//! ```sh
//! cargo bench -p arc-functions --bench ratios            # every size
//! cargo bench -p arc-functions --bench ratios -- --json  # one JSON object a line
//! ```

mod support;

use arc_functions::http::session::Session;
use std::hint::black_box;
use std::time::{Duration, Instant};
use support::{Floor, SIZES, request_with, runtime, session_of, store};

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
        let mut cookies = Vec::with_capacity(BATCH as usize);
        let mut requests = Vec::with_capacity(BATCH as usize);
        // One batch of writes, then of reads of what they wrote; the requests in between
        // are built off the clock.
        // Each batch runs in one task, as a handler's turn awaits the store: entering the
        // runtime is no part of the store's work.
        let mut sealed = || {
            let start = Instant::now();
            rt.block_on(async {
                for _ in 0..BATCH {
                    cookies.push(store.write(&session).await.expect("write"));
                }
            });
            let writing = start.elapsed();
            requests.extend(cookies.drain(..).map(|c| request_with(&c)));
            let start = Instant::now();
            rt.block_on(async {
                for request in &requests {
                    black_box(store.read(request).await.expect("read"));
                }
            });
            let reading = start.elapsed();
            requests.clear();
            (writing + reading) / BATCH
        };
        let bare = || {
            let start = Instant::now();
            for _ in 0..BATCH {
                black_box(floor.seal_open(&plaintext));
            }
            start.elapsed() / BATCH
        };
        // Warm-up: caches, the allocator's free lists, the CPU's clock.
        let until = Instant::now() + Duration::from_millis(500);
        while Instant::now() < until {
            sealed();
            bare();
        }
        let back = rt.block_on(store.read(&request_with(
            &rt.block_on(store.write(&session)).expect("write"),
        )));
        assert_eq!(back.expect("read"), session, "the sealed cookie opens");
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..BATCHES {
            a.push(sealed());
            b.push(bare());
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
