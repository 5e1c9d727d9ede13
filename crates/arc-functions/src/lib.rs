#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "https")]
mod aws;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
pub mod config;
mod deadline;
mod gateway;
pub mod http;
mod keys;
mod runtime;
mod session;
pub mod testing;
#[cfg(feature = "dynamodb")]
#[cfg_attr(docsrs, doc(cfg(feature = "dynamodb")))]
pub mod throttle;
pub mod ws;

#[cfg(test)]
mod test_log;
