use std::process::ExitCode;

use orders::{configuration::Settings, startup};
use ticketing_common::{app, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    telemetry::init("orders");
    app::run("orders", Settings::from_env(), startup::build).await
}
