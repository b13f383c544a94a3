//! Builds the auth service from its settings.

use ticketing_common::{
    app::{Service, Starting},
    server,
    session::Sessions,
};

use crate::{
    configuration::Settings, domain::PasswordHasher, routes, state::AppState, store::Users,
};

pub const SERVICE: &str = "auth";

/// Serves `/healthz` at once, waits for MongoDB (retrying for as long as it takes), then
/// creates the indexes and returns the service serving its routes.
pub async fn build(settings: Settings) -> anyhow::Result<Service> {
    let starting = Starting::bind(SERVICE, &settings.http).await?;
    let db = starting.mongo(&settings.mongo, SERVICE).await?;
    let users = starting
        .wait_for("the users store (indexes)", || Users::init(&db))
        .await;
    let state = AppState {
        users,
        sessions: Sessions::new(&settings.session),
        hasher: PasswordHasher::new(settings.hash_cost),
    };
    let probes = server::Probes::new(vec![Box::new(db)]);
    Ok(starting.ready(routes::router().with_state(state), probes))
}
