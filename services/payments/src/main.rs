use std::process::ExitCode;

use payments::{configuration::Settings, startup};
use ticketing_common::{app, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    telemetry::init("payments");
    app::run("payments", Settings::from_env(), startup::build).await
}
