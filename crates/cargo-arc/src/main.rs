//! The `cargo-arc` binary: `cargo arc <command>` once installed, or
//! `cargo run -p cargo-arc -- <command>` inside the workspace.

use std::process::ExitCode;

fn main() -> ExitCode {
    let cwd = match std::env::current_dir() {
        Ok(cwd) => cwd,
        Err(error) => {
            eprintln!("cargo arc: cannot read the current directory: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout().lock();
    match cargo_arc::run(std::env::args().skip(1), &cwd, &mut stdout) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("cargo arc: {error}");
            ExitCode::FAILURE
        }
    }
}
