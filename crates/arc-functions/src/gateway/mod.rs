//! Reaching WebSocket connections through API Gateway's management API: the [`Client`], what
//! it sends ([`Payload`]) and learns ([`Info`]), its [`Error`], and pushing to or closing
//! every connection of a session. Beneath both wrappers: an HTTP handler pushes to the
//! session's sockets as a WebSocket handler does, without either importing the other. The
//! public names are [`ws`](crate::ws)'s.

mod client;
mod error;
mod management;
mod push;

pub use client::{Client, Info, Payload};
pub use error::Error;
pub(crate) use push::{close_all, close_session, end_sessions, push, push_logged};
