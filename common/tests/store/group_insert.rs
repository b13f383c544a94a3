//! `GroupInsert` on its own: a command the server does not answer in time fails its writers and
//! does not hold up the inserts after it (one command per collection is on its way at a time).

use std::time::Duration;

use mongodb::bson::{Document, doc};
use ticketing_common::{mongo::GroupInsert, testing};

#[tokio::test]
async fn an_unanswered_command_fails_its_writers_and_the_next_group_still_goes() {
    let (db, _log) = testing::counted_database(&testing::mongo_config()).await;
    let collection = db.collection::<Document>("grouped");
    // No server answers within a nanosecond: every command times out.
    let impatient = GroupInsert::new(collection.clone()).with_send_timeout(Duration::from_nanos(1));

    for attempt in ["first", "second"] {
        let outcome = tokio::time::timeout(
            Duration::from_secs(10),
            impatient.insert(doc! { "_id": attempt }),
        )
        .await
        .unwrap_or_else(|_| panic!("the {attempt} insert was held up"));
        let err = outcome.expect_err("an unanswered insert is not reported as stored");
        assert!(
            format!("{err:#}").contains("may or may not be stored"),
            "the writer learns its document's fate is unknown: {err:#}"
        );
    }

    let patient = GroupInsert::new(collection.clone());
    assert!(
        patient
            .insert(doc! { "_id": "third" })
            .await
            .expect("insert")
    );
    assert!(
        !patient
            .insert(doc! { "_id": "third" })
            .await
            .expect("insert"),
        "a taken key is a refusal, not a failure"
    );
}
