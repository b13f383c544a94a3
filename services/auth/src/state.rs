use axum::extract::FromRef;
use ticketing_common::session::Sessions;

use crate::{
    domain::PasswordHasher, revoked::RevokedSessions, store::Users, throttle::SignInThrottle,
};

/// Everything a request handler may need, cloned cheaply into each request.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub users: Users,
    pub sessions: Sessions,
    pub hasher: PasswordHasher,
    pub throttle: SignInThrottle,
    pub revoked: RevokedSessions,
}
