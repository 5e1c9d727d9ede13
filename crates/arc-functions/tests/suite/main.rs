//! The library's integration tests, one binary with a module per concern over one support
//! module: events as API Gateway sends them through the handlers, both session stores, WebSockets,
//! the axum layer, Architect parity and interop, faults and races. Requests are real events
//! (`tests/fixtures`) served through `Handler::invoke`, as `http::run` serves an invocation, or
//! built with `testing::TestRequest`.
//!
//! Tests that need dynalite or moto are `#[ignore]`d, with the reason; `scripts/test` starts
//! both and runs them with `--include-ignored`. Run without the service, such a test fails
//! saying what to start, never passes unrun. The interop test needs Node and says so in its
//! module's docs. Child-process tests (`runtime.rs`, `global.rs`, `parity_routes.rs`,
//! `discovery.rs`) are not ignored: each does its part only when its parent started it.

mod support;

mod axum_layer;
mod discovery;
mod global;
mod handler_requests;
mod handler_responses;
mod handler_sessions;
mod interop;
mod lifetime;
mod parity_chains;
mod parity_compression;
mod parity_routes;
mod properties;
mod races;
mod runtime;
mod secrets;
mod stores_dynamodb;
mod stores_faults;
mod stores_suite;
mod throttle;
mod users;
mod ws_connections;
mod ws_events;
mod ws_push;
mod ws_tickets;
