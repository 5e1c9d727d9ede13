#![doc = include_str!("../README.md")]

mod clock;
pub mod config;
mod connections;
mod event;
mod gateway;
mod ids;
mod invoke;
mod management;
mod policy;
mod routes;
mod shared;

pub use event::{API_ID, STAGE};
pub use gateway::Gateway;
pub use routes::{RouteKey, Routes, RoutesError};
