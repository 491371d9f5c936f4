//! Selah's HTTP server: axum routes (one folder per resource), the middleware stack,
//! authentication and permission extractors, the audit writer, jobs, health and metrics.
//!
//! [`Server::build`] opens the store and starts the background parts; [`Server::run`] serves
//! until the shutdown future completes, then drains in-flight requests within the configured
//! grace period, flushes the audit queue and closes the store.

pub mod admin;
pub mod ai;
pub mod audit;
pub mod auth;
pub mod authz;
pub mod chat_sessions;
pub mod docs;
pub mod error;
pub mod extract;
pub mod jobs;
pub mod lifecycle;
pub mod live;
pub mod observe;
pub mod policy;
pub mod state;
pub mod teams;
pub mod vault;
pub mod web;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::Router;
use selah_core::Config;
use selah_store::Store;
use tokio::net::TcpListener;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::state::{AppState, Inner};

/// The OpenAPI document's fixed parts; paths come from the routers.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Selah API",
        description = "Offline-first workstation: accounts, permissions, audit, health."
    ),
    components(schemas(error::ErrorBody))
)]
struct ApiDoc;

/// Every API route with its OpenAPI description.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(auth::routes::router())
        .merge(admin::router())
        .merge(teams::router())
        .merge(chat_sessions::router())
        .merge(docs::router())
        .merge(ai::router())
        .merge(vault::router())
        .merge(live::router())
        .merge(observe::routes::router())
}

/// The OpenAPI document generated from the code (served at `/api/v1/openapi.json`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_routes().split_for_parts().1
}

/// A built server, bound to its address, not yet serving.
pub struct Server {
    state: AppState,
    listener: TcpListener,
    router: Router,
}

impl Server {
    /// Opens the store (running migrations), starts the audit writer, the jobs and the health
    /// loop, and binds the listener.
    pub async fn build(config: Config, data_dir: PathBuf) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&data_dir)
            .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
        let (store, report) = Store::open(config.database_url.expose(), &data_dir)
            .await
            .context("cannot open the database")?;
        if report.from != report.to {
            tracing::info!(from = report.from, to = report.to, backup = ?report.backup, "database schema upgraded");
        }
        // Replies that were being written when the last process died keep their text.
        let interrupted = store
            .mark_interrupted_replies()
            .await
            .context("cannot mark interrupted chat replies")?;
        if interrupted > 0 {
            tracing::info!(
                interrupted,
                "kept interrupted chat replies, marked incomplete"
            );
        }
        // Versions committed just before a crash may still have their file under uploads/.
        let vault = Arc::new(
            vault::Vault::new(&data_dir, &config.vault)
                .context("cannot set up the vault's storage")?,
        );
        let moved = vault
            .recover(&store)
            .await
            .context("cannot recover the vault's files")?;
        if moved > 0 {
            tracing::info!(moved, "vault: finished moving uploaded files into place");
        }
        let listener = TcpListener::bind(&config.bind).await.with_context(|| {
            format!(
                "cannot listen on {} (is another server using the port?)",
                config.bind
            )
        })?;
        // Hot-slot models load in the background: this does not wait for any model.
        let ai = selah_ai::Runtime::start(&config, &data_dir, store.clone())
            .await
            .context("cannot start the AI runtime")?;
        let live = live::Live::start(&config.live, store.clone()).await?;
        Ok(Self::assemble(
            config, data_dir, store, listener, ai, vault, live,
        ))
    }

    fn assemble(
        config: Config,
        data_dir: PathBuf,
        store: Store,
        listener: TcpListener,
        ai: Arc<selah_ai::Runtime>,
        vault: Arc<vault::Vault>,
        live: Arc<live::Live>,
    ) -> Self {
        let docs = Arc::new(docs::Library::new(store.clone(), &config, data_dir.clone()));
        let state = AppState(Arc::new(Inner {
            ai,
            docs: docs.clone(),
            audit: audit::Audit::start(store.clone(), &config),
            metrics: observe::metrics::Metrics::new(&config),
            limiter: observe::rate_limit::RateLimiter::new(&config),
            login_guard: auth::backoff::LoginGuard::new(&config),
            jobs: jobs::Jobs::new(store.clone(), &config, &data_dir),
            health: observe::health::HealthState::new(),
            replies: chat_sessions::reply::Replies::default(),
            vault,
            live,
            started: Instant::now(),
            config,
            data_dir,
            store,
        }));
        state
            .jobs
            .register(docs::orphans::OrphanEmbeddings(docs.clone()));
        state
            .jobs
            .register(vault::VaultCleanup(state.vault.blobs.clone()));
        docs::ingest::spawn(docs);
        // Capabilities register their health checks here.
        observe::checks::register_builtin(&state.health);
        state.health.register(jobs::health::BackgroundJobsCheck);
        state.health.register(ai::EngineCheck);
        if state.config.health.enabled {
            state.health.start_periodic(&state);
        }
        let (api, doc) = api_routes().split_for_parts();
        let doc = Arc::new(doc);
        let router = Router::new()
            .merge(api)
            .merge(live::sockets())
            .route(
                "/api/v1/openapi.json",
                axum::routing::get(move || {
                    let doc = doc.clone();
                    async move { axum::Json(doc.as_ref().clone()) }
                }),
            )
            .with_state(state.clone());
        let router = observe::middleware::apply(router, state.clone());
        Self {
            state,
            listener,
            router,
        }
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    /// Shared state, for tests and the CLI.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then stops accepting, lets in-flight requests finish
    /// within `http.shutdown_grace_secs`, flushes the audit queue and closes the store.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Server {
            state,
            listener,
            router,
        } = self;
        let grace = Duration::from_secs(state.config.http.shutdown_grace_secs);
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        let mut stopped = stop_rx.clone();
        let serve = axum::serve(listener, service).with_graceful_shutdown(async move {
            let _ = stopped.wait_for(|s| *s).await;
        });
        let mut serving = tokio::spawn(async move { serve.await });
        // systemd: READY once listening, watchdog pings while the store answers.
        let mut lifecycle = lifecycle::Lifecycle::new(&state.config);
        lifecycle.ready(state.store.clone());

        tokio::select! {
            res = &mut serving => { res??; }
            _ = shutdown => {
                tracing::info!("shutdown requested: finishing in-flight requests");
                lifecycle.stopping();
                let _ = stop_tx.send(true);
                match tokio::time::timeout(grace, &mut serving).await {
                    Ok(res) => { res??; }
                    Err(_) => {
                        tracing::warn!(grace_secs = grace.as_secs(), "in-flight requests did not finish in time");
                        serving.abort();
                    }
                }
            }
        }
        lifecycle.stopping();
        drop(stop_rx);
        state.jobs.stop().await;
        state.ai.shutdown().await;
        state.health.stop();
        state.audit.flush_and_stop().await;
        state.store.close().await;
        tracing::info!("stopped cleanly");
        Ok(())
    }
}
