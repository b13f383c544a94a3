use std::process::ExitCode;

use ticketing_common::{app, telemetry};
use tickets::{configuration::Settings, startup};

#[tokio::main]
async fn main() -> ExitCode {
    telemetry::init("tickets");
    app::run("tickets", Settings::from_env(), startup::build).await
}
