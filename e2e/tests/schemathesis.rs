//! Schemathesis (issue 16) against a fleet of its own: every operation of the fleet's OpenAPI
//! document fuzzed through the real ingress by `scripts/schemathesis.sh` — examples, boundaries,
//! negative and random cases, stateful sequences, signed in and not — with every check. Its own
//! databases, bus and ingress, so what it leaves (hundreds of users, tickets and orders) and its
//! failed sign-ins (which the per-address throttle counts) touch no other test and no one's fleet.

use std::path::Path;

use ticketing_e2e::{Fleet, FleetOptions};

#[tokio::test]
async fn schemathesis_finds_no_server_error_and_no_answer_the_document_does_not_describe() {
    let fleet = Fleet::start(FleetOptions::default())
        .await
        .expect("the fleet starts");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/schemathesis.sh");
    let run = tokio::process::Command::new(&script)
        .env("INGRESS_URL", fleet.url(""))
        .output()
        .await
        .unwrap_or_else(|err| panic!("running {}: {err}", script.display()));
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        run.status.success(),
        "Schemathesis failed ({}); each failure below comes with the curl command that \
         reproduces it:\n{output}",
        run.status
    );
    let summary = output.lines().last().unwrap_or_default();
    println!("{summary}");
    assert!(summary.ends_with(" 0 failed"), "{summary}");
}
