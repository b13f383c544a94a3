use std::process::ExitCode;

use auth::{configuration::Settings, startup::Application};
use ticketing_common::{server::shutdown_on_signal, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    telemetry::init("auth");
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("auth: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = async {
        let app = Application::build(settings).await?;
        app.run_until(shutdown_on_signal()).await?;
        anyhow::Ok(())
    }
    .await;
    match result {
        Ok(()) => {
            tracing::info!("auth stopped");
            ExitCode::SUCCESS
        }
        Err(err) => {
            tracing::error!(error = ?err, "auth failed");
            eprintln!("auth: {err:#}");
            ExitCode::FAILURE
        }
    }
}
