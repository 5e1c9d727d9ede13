//! The state every handler and socket task of the gateway shares: in a module of its own, so
//! the socket side and the management API both point at it and not at each other.

use tokio_util::task::TaskTracker;

use crate::connections::Registry;
use crate::event::Site;
use crate::invoke::Invoker;
use crate::policy::Policy;
use crate::routes::Routes;

/// What every handler and socket task shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) routes: Routes,
    pub(crate) invoker: Invoker,
    pub(crate) registry: Registry,
    pub(crate) site: Site,
    /// API Gateway's limits, and whose pages may connect.
    pub(crate) policy: Policy,
    /// Every socket and invocation, so shutdown can wait for the last `$disconnect`.
    pub(crate) tasks: TaskTracker,
}
