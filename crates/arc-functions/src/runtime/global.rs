//! The one process-wide value: the configuration read from the environment, the store built
//! from it, and the WebSocket client it names, each made on first use, for code that has no
//! handler at hand (`arc.http.session.read`, `ws::send` outside a WebSocket handler,
//! [`url`](crate::http::url()), `Throttle::from_env`). Handlers hold their own values; this
//! is how a process's wrappers come to share them.

use std::sync::{Arc, OnceLock};

use crate::config::{self, Config};
use crate::gateway::Client;
use crate::session::SessionStore;

/// The store and the configuration it was built from, or why the environment is invalid.
type Built = Result<(Arc<SessionStore>, Arc<Config>), config::Error>;

/// What a process builds from its environment, each part once, on first use.
pub(crate) struct Process {
    /// The store and the configuration, or why the environment is invalid (the same error on
    /// every call).
    built: OnceLock<Built>,
    /// The stage [`url`](crate::http::url()) adds: read apart from the rest, as a link needs
    /// no secret, and reading the rest may fetch one.
    stage: OnceLock<Option<String>>,
    /// The client of `ARC_WSS_URL`'s API, made on the first send outside a WebSocket handler.
    client: OnceLock<Client>,
}

static PROCESS: Process = Process {
    built: OnceLock::new(),
    stage: OnceLock::new(),
    client: OnceLock::new(),
};

impl Process {
    /// The process's value.
    pub(crate) fn get() -> &'static Self {
        &PROCESS
    }

    /// The store and the configuration it was built from.
    pub(crate) fn parts(&self) -> Built {
        self.built
            .get_or_init(|| {
                let config = Config::from_env()?;
                Ok((Arc::new(announced(&config)), Arc::new(config)))
            })
            .clone()
    }

    /// The store.
    pub(crate) fn store(&self) -> Result<Arc<SessionStore>, config::Error> {
        self.parts().map(|(store, _)| store)
    }

    /// The stage links get ([`Config::stage`], from the environment alone).
    pub(crate) fn stage(&self) -> Option<&str> {
        self.stage.get_or_init(config::stage_from_env).as_deref()
    }

    /// The client of the configured WebSocket API.
    pub(crate) fn client(&self) -> Result<Client, config::Error> {
        if let Some(client) = self.client.get() {
            return Ok(client.clone());
        }
        let (_, config) = self.parts()?;
        Ok(self
            .client
            .get_or_init(|| Client::from_config(&config))
            .clone())
    }
}

/// A store for `config`, announcing the development secret (once per process, as this runs
/// once).
fn announced(config: &Config) -> SessionStore {
    if config.secrets.development {
        tracing::warn!(
            "ARC_APP_SECRET is not set: sessions use the public development secret (ARC_ENV=testing); set ARC_APP_SECRET before deploying"
        );
    }
    SessionStore::new(config)
}
