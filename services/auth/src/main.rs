use std::process::ExitCode;

use auth::{configuration::Settings, startup};
use ticketing_common::{app, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    telemetry::init("auth");
    app::run("auth", Settings::from_env(), startup::build).await
}
