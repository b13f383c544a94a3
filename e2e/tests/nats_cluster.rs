//! The `gke` profile's NATS, locally: three `nats-server` nodes in a cluster and the stream at
//! three replicas. Killing the node that leads the stream in the middle of a burst of ticket
//! creations loses no event and repeats none: every ticket reaches the orders replica once.

use std::{
    collections::BTreeSet,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use futures::{StreamExt, TryStreamExt, stream};
use mongodb::bson::{Document, doc};
use reqwest::StatusCode;
use serde_json::json;
use ticketing_common::events::Subject;
use ticketing_e2e::{Fleet, FleetOptions, Service, User, eventually};

const TICKETS: usize = 200;
/// The leader is killed once this many creations have been answered.
const KILL_AFTER: usize = 60;
const IN_FLIGHT: usize = 8;
const WAIT: Duration = Duration::from_secs(90);

#[tokio::test(flavor = "multi_thread")]
async fn killing_the_stream_leader_mid_burst_loses_and_repeats_no_ticket() -> anyhow::Result<()> {
    let mut fleet = Fleet::start(FleetOptions {
        nats_nodes: 3,
        ..FleetOptions::default()
    })
    .await?;
    let bus = fleet.event_bus().await?;
    let names = bus.names().clone();
    let mut events = bus.jetstream().get_stream(names.stream()).await?;
    let info = events.info().await?;
    assert_eq!(
        info.config.num_replicas, 3,
        "the services asked for 3 replicas"
    );
    let leader = info
        .cluster
        .as_ref()
        .and_then(|cluster| cluster.leader.clone())
        .expect("a replicated stream has a leader");

    let seller = Arc::new(User::sign_up(&fleet, "seller").await?);
    let answered = Arc::new(AtomicUsize::new(0));
    let burst = tokio::spawn({
        let (seller, answered) = (seller.clone(), answered.clone());
        async move {
            stream::iter(0..TICKETS)
                .map(|n| {
                    let (seller, answered) = (seller.clone(), answered.clone());
                    async move {
                        let created = seller
                            .post(
                                "/api/tickets",
                                json!({ "title": format!("Show {n}"), "price": 10 }),
                            )
                            .await?;
                        answered.fetch_add(1, Ordering::SeqCst);
                        anyhow::ensure!(created.status == StatusCode::CREATED, "{created:?}");
                        created.body["id"]
                            .as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| anyhow::anyhow!("no id in {created:?}"))
                    }
                })
                .buffer_unordered(IN_FLIGHT)
                .try_collect::<Vec<String>>()
                .await
        }
    });
    eventually(WAIT, async || {
        (answered.load(Ordering::SeqCst) >= KILL_AFTER).then_some(())
    })
    .await
    .expect("the burst got going");
    fleet.kill_nats_node(&leader)?;
    let created: BTreeSet<String> = burst.await??.into_iter().collect();
    assert_eq!(created.len(), TICKETS);

    // A new leader took over, and the stream holds each ticket.created once.
    let new_leader = eventually(WAIT, async || {
        let info = events.info().await.ok()?;
        let current = info.cluster.as_ref()?.leader.clone();
        current.filter(|name| *name != leader)
    })
    .await;
    assert!(new_leader.is_some(), "no node took over from {leader}");
    let published = eventually(WAIT, async || {
        let mut counts = events
            .info_with_subjects(names.subject(Subject::TicketCreated))
            .await
            .ok()?;
        let mut total = 0;
        while let Some((_, count)) = counts.try_next().await.ok()? {
            total += count;
        }
        (total >= TICKETS).then_some(total)
    })
    .await;
    assert_eq!(
        published,
        Some(TICKETS),
        "ticket.created events in the stream"
    );

    // Every ticket reached the orders replica, at its first version, and nothing else did.
    let replica = fleet
        .mongo(Service::Orders)
        .await?
        .collection::<Document>("tickets");
    let replicated = eventually(WAIT, async || {
        let documents: Vec<Document> =
            replica.find(doc! {}).await.ok()?.try_collect().await.ok()?;
        let entities: BTreeSet<String> = documents
            .iter()
            .filter_map(|document| document.get_str("entity").ok().map(str::to_owned))
            .collect();
        (entities.len() >= TICKETS).then_some((documents, entities))
    })
    .await;
    let (documents, entities) = replicated.expect("every ticket reached the orders replica");
    assert_eq!(entities, created);
    assert_eq!(documents.len(), TICKETS, "one replica document per ticket");
    assert!(
        documents
            .iter()
            .all(|document| document.get_i64("version") == Ok(0)),
        "every replica at the ticket's first version"
    );
    Ok(())
}
