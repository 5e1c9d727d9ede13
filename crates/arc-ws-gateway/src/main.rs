//! `arc-ws-gateway`: the local API Gateway WebSocket API, beside `cargo lambda watch`.
//!
//! Exit codes: 0 after a shutdown by SIGINT or SIGTERM, 2 for a bad flag, variable or app.arc,
//! 1 when the port can't be bound or the server fails, 130 on a second signal during shutdown.

use std::net::Ipv4Addr;
use std::process::ExitCode;

use arc_ws_gateway::config::{Command, USAGE};
use arc_ws_gateway::{Gateway, Routes};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let config = match Command::from_env() {
        Ok(Command::Serve(config)) => config,
        Ok(Command::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprintln!("arc-ws-gateway: {err}");
            return ExitCode::from(2);
        }
    };
    let routes = match Routes::load(&config.arc) {
        Ok(routes) => routes,
        Err(err) => {
            eprintln!("arc-ws-gateway: {err}");
            return ExitCode::from(2);
        }
    };
    let listener = match TcpListener::bind((Ipv4Addr::LOCALHOST, config.port)).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!(
                "arc-ws-gateway: can't listen on 127.0.0.1:{}: {err} (set WS_PORT to another port)",
                config.port
            );
            return ExitCode::FAILURE;
        }
    };
    let address = match listener.local_addr() {
        Ok(address) => address,
        Err(err) => {
            eprintln!("arc-ws-gateway: {err}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        "listening on ws://{address}/ (management API http://{address}/@connections/{{id}}), \
         invoking {}; routes: {routes}",
        config.invoke_url.to_string().trim_end_matches('/')
    );

    // The first signal shuts down gracefully; a second one gives up waiting.
    let (first, stop) = oneshot::channel();
    tokio::spawn(async move {
        signal().await;
        tracing::info!("shutting down: closing every connection");
        let _ = first.send(());
        signal().await;
        eprintln!("arc-ws-gateway: second signal, exiting without waiting for $disconnect");
        std::process::exit(130);
    });
    let gateway = Gateway::new(routes, config.invoke_url)
        .origins(&config.origins)
        .idle_timeout(config.idle_timeout)
        .max_lifetime(config.max_lifetime);
    match gateway
        .serve(listener, async {
            let _ = stop.await;
        })
        .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("arc-ws-gateway: {err}");
            ExitCode::FAILURE
        }
    }
}

/// SIGINT or SIGTERM; never, when neither can be listened for.
async fn signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let terminate = async {
            match signal(SignalKind::terminate()) {
                Ok(mut terminate) => {
                    terminate.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = interrupt => {}
            () = terminate => {}
        }
    }
    #[cfg(not(unix))]
    interrupt.await;
}
