use std::process::ExitCode;

use expiration::{configuration::Settings, startup};
use ticketing_common::{app, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    telemetry::init("expiration");
    app::run("expiration", Settings::from_env(), startup::build).await
}
