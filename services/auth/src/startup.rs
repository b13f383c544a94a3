//! Builds the auth service from its settings.

use ticketing_common::{app::Service, mongo, server, session::Sessions};

use crate::{
    configuration::Settings, domain::PasswordHasher, routes, state::AppState, store::Users,
};

pub async fn build(settings: Settings) -> anyhow::Result<Service> {
    let db = mongo::connect(&settings.mongo, "auth").await?;
    let state = AppState {
        users: Users::init(&db).await?,
        sessions: Sessions::new(&settings.session),
        hasher: PasswordHasher::new(settings.hash_cost),
    };
    let router = server::app(
        routes::router().with_state(state),
        server::Probes::new(vec![Box::new(db)]),
    );
    Service::bind("auth", &settings.http, router).await
}
