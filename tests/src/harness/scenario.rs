//! The common set-up of the sync scenarios and benchmarks: a backend (embedded SQLite)
//! behind a fault proxy, and a kit enrolled through the proxy. The proxy's URL is the
//! backend's public URL, as a load balancer's would be (request signatures cover it),
//! so every request of the kit crosses the proxy.

use std::path::Path;

use fieldkit_backend::config::DatabaseUrl;
use kit_core::RecordState;

use super::backend::{demo, BackendProcess};
use super::check::{assert_exactly_once, assert_exactly_once_bridged, Settled};
use super::free_port;
use super::kit::TestKit;
use crate::fault_proxy::FaultProxy;

/// Backend behind a proxy, and an enrolled kit, in one temp folder (dropped last).
pub struct Scenario {
    /// The kit.
    pub kit: TestKit,
    /// Between kit and backend; pass-through until faults are set.
    pub proxy: FaultProxy,
    /// The backend process.
    pub backend: BackendProcess,
    /// Holds the backend's data (and the kit, unless placed elsewhere).
    pub dir: tempfile::TempDir,
}

impl Scenario {
    /// A fresh scenario with the kit in the scenario's folder.
    ///
    /// # Panics
    /// When any part fails to start.
    pub fn new() -> Self {
        Self::with_kit_home(None)
    }

    /// As [`Scenario::new`], with the kit in `kit_home` when given.
    ///
    /// # Panics
    /// When any part fails to start.
    pub fn with_kit_home(kit_home: Option<&Path>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let proxy = FaultProxy::start(([127, 0, 0, 1], port).into()).expect("proxy");
        let data = dir.path().join("backend");
        let demo = demo(&data, None, &proxy.url());
        let backend = BackendProcess::start(&data, None, port, Some(&proxy.url()));
        let home = kit_home.map_or_else(|| dir.path().join("kit"), Path::to_path_buf);
        let kit = TestKit::enrolled(&home, &demo);
        Self {
            kit,
            proxy,
            backend,
            dir,
        }
    }

    /// The backend's database.
    pub fn database(&self) -> DatabaseUrl {
        DatabaseUrl::embedded(self.backend.data_dir())
    }

    /// [`assert_exactly_once`] for this kit and backend.
    ///
    /// # Panics
    /// On any violation.
    pub fn check(&self) -> Settled {
        assert_exactly_once(&self.kit, &self.database(), self.backend.data_dir())
    }

    /// [`assert_exactly_once_bridged`] for this kit and backend.
    ///
    /// # Panics
    /// On any violation.
    pub fn check_bridged(&self, bridged: &[String]) -> Settled {
        assert_exactly_once_bridged(
            &self.kit,
            &self.database(),
            self.backend.data_dir(),
            bridged,
        )
    }

    /// The state of every record of the kit, oldest last.
    ///
    /// # Panics
    /// When the kit cannot be read.
    pub fn states(&self) -> Vec<RecordState> {
        self.kit
            .session()
            .records(None, 10_000)
            .expect("records")
            .into_iter()
            .map(|r| r.state)
            .collect()
    }
}

impl Default for Scenario {
    fn default() -> Self {
        Self::new()
    }
}
