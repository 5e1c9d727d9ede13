//! The library's integration tests, one binary with a module per concern over one support
//! module: events as API Gateway sends them through the handlers, both session stores, WebSockets,
//! the axum layer, Architect parity and interop, faults and races. Tests that need dynalite, moto
//! or Node say so in their module's docs; `scripts/test` starts them all.

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
