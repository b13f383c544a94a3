//! Writes the fleet's OpenAPI document where the web client serves it
//! (`client/public/api/docs/openapi.json`); `--check` only says whether the committed one is
//! current (exit 1 if not).

use std::process::ExitCode;

use anyhow::Context;
use ticketing_api_docs::{document_path, render};

fn main() -> anyhow::Result<ExitCode> {
    let path = document_path();
    let generated = render()?;
    if std::env::args().any(|arg| arg == "--check") {
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed == generated {
            println!("{} is current", path.display());
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!(
            "{} differs from the code's document: run `cargo run -p ticketing-api-docs`",
            path.display()
        );
        return Ok(ExitCode::FAILURE);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&path, generated).with_context(|| format!("writing {}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(ExitCode::SUCCESS)
}
