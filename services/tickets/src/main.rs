use std::process::ExitCode;

use tickets::{configuration::Settings, startup};
use ticketing_common::{app, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    telemetry::init("tickets");
    app::run("tickets", Settings::from_env(), startup::build).await
}
