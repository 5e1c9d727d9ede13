#![doc = include_str!("../README.md")]

pub mod config;
pub mod http;
mod keys;
pub mod session;
