//! `render VARIANT [--files]`: the manifests one deployment variant applies (`minikube` or
//! `gke`: the backing folders applied with kubectl, then what skaffold deploys for the profile),
//! as one YAML stream on stdout, or (`--files`) their file names, one a line. scripts/k8s-checks.sh
//! feeds this to kubeconform, so the third-party checks see exactly what the tests here read.

use std::process::ExitCode;

use infra_checks::manifests::{Variant, render, variant_files};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (variant, files_only) = match args.as_slice() {
        [v] => (v, false),
        [v, flag] if flag == "--files" => (v, true),
        _ => {
            eprintln!("usage: render <minikube|gke> [--files]");
            return ExitCode::from(2);
        }
    };
    let Some(variant) = Variant::from_name(variant) else {
        eprintln!("unknown variant {variant}: minikube or gke");
        return ExitCode::from(2);
    };
    let result = variant_files(variant).and_then(|files| {
        if files_only {
            Ok(files.iter().map(|f| format!("{f}\n")).collect())
        } else {
            render(&files)
        }
    });
    match result {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
