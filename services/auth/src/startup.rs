//! Builds the auth service from its settings.

use std::time::Duration;

use ticketing_common::{
    app::{Service, Starting, Worker},
    server,
    session::Sessions,
};

use crate::{
    configuration::Settings, domain::PasswordHasher, revoked::RevokedSessions, routes,
    state::AppState, store::Users, throttle::SignInThrottle,
};

pub const SERVICE: &str = "auth";
/// How often strikes of ended throttling windows are deleted.
const SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// Serves `/healthz` at once, waits for MongoDB (retrying for as long as it takes), then
/// creates the indexes and returns the service serving its routes.
pub async fn build(settings: Settings) -> anyhow::Result<Service> {
    let starting = Starting::bind(SERVICE, &settings.http).await?;
    let db = starting.mongo(&settings.mongo, SERVICE).await?;
    let users = starting
        .wait_for("the users store (indexes)", || Users::init(&db))
        .await;
    let throttle = starting
        .wait_for("the sign-in throttle (indexes)", || {
            SignInThrottle::init(&db, settings.throttle)
        })
        .await;
    let state = AppState {
        users,
        sessions: Sessions::new(&settings.session),
        hasher: PasswordHasher::new(settings.hash_cost),
        throttle: throttle.clone(),
        revoked: RevokedSessions::new(&db),
    };
    let revoked = state.revoked.clone();
    let probes = server::Probes::new(vec![Box::new(db)]);
    Ok(starting
        .ready(routes::router().with_state(state), probes)
        .with_worker(sweeper(throttle, revoked)))
}

/// Keeps the strikes to the current window and the revoked sessions to the unexpired ones
/// (every replica sweeps; the deletes are idempotent).
fn sweeper(throttle: SignInThrottle, revoked: RevokedSessions) -> Worker {
    Worker::new(
        "sweeper of strikes and revoked sessions",
        move |stop| async move {
            loop {
                if let Err(err) = throttle.sweep().await {
                    tracing::warn!(error = %format!("{err:#}"), "sweeping sign-in strikes failed; retrying later");
                }
                if let Err(err) = revoked.sweep().await {
                    tracing::warn!(error = %format!("{err:#}"), "sweeping revoked sessions failed; retrying later");
                }
                tokio::select! {
                    () = tokio::time::sleep(SWEEP_INTERVAL) => {}
                    () = stop.cancelled() => return Ok(()),
                }
            }
        },
    )
}
