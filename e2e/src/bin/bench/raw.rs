//! The database's own rates: the `mongodb` driver straight to the server the fleet uses, on a
//! collection of ticket-sized documents as large as the fleet's tickets, with the driver's
//! default pool (as the services have it) and the same number in flight.

use std::future::IntoFuture;

use anyhow::Context;
use futures::{TryStreamExt, future::try_join_all};
use mongodb::{
    Collection,
    bson::{DateTime, Document, doc, oid::ObjectId},
};
use serde_json::json;
use ticketing_common::domain::TicketId;
use ticketing_e2e::Fleet;
use tickets::store::for_sale;

use crate::measure::{IN_FLIGHT, Load, Measured, measure};

pub struct RawDatabase {
    tickets: Collection<Document>,
    ids: Vec<String>,
}

impl RawDatabase {
    /// A fresh collection in a database of the fleet's own that no service uses, created and
    /// with the driver's connections open before anything is measured (as the services' are).
    pub async fn open(fleet: &Fleet) -> anyhow::Result<Self> {
        let client = mongodb::Client::with_uri_str(fleet.mongo_uri())
            .await
            .context("connecting to the fleet's MongoDB server")?;
        let db = client.database(&fleet.scratch_database("raw"));
        db.create_collection("tickets")
            .await
            .context("creating the raw collection")?;
        let tickets = db.collection("tickets");
        try_join_all(
            (0..IN_FLIGHT).map(|_| tickets.find_one(doc! { "_id": "warm-up" }).into_future()),
        )
        .await
        .context("opening the driver's connections")?;
        Ok(Self {
            tickets,
            ids: Vec::new(),
        })
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Fills the collection up to `size` documents, a thousand per `insert_many`.
    pub async fn seed_to(&mut self, size: usize) -> anyhow::Result<()> {
        while self.ids.len() < size {
            let (ids, batch): (Vec<String>, Vec<Document>) = (self.ids.len()
                ..size.min(self.ids.len() + 1_000))
                .map(ticket_document)
                .unzip();
            self.tickets
                .insert_many(&batch)
                .await
                .context("seeding the raw collection")?;
            self.ids.extend(ids);
        }
        Ok(())
    }

    /// `insert_one` of one ticket-sized document per request.
    pub async fn insert_one(&mut self, load: Load) -> anyhow::Result<Measured> {
        let first = self.ids.len();
        let tickets = &self.tickets;
        let (measured, ids) = measure("raw insert_one", load, |i| async move {
            let (id, document) = ticket_document(first + i);
            tickets.insert_one(&document).await.context("insert_one")?;
            Ok(id)
        })
        .await?;
        self.ids.extend(ids);
        Ok(measured)
    }

    /// `find_one` by `_id`, spread over every document; each must be found.
    pub async fn find_one(&self, load: Load) -> anyhow::Result<Measured> {
        let (tickets, ids) = (&self.tickets, &self.ids);
        anyhow::ensure!(!ids.is_empty(), "nothing to find in the raw collection");
        let (measured, _) = measure("raw find_one", load, |i| async move {
            let id = &ids[spread(i, ids.len())];
            tickets
                .find_one(doc! { "_id": id })
                .await
                .context("find_one")?
                .with_context(|| format!("document {id} not found"))
                .map(drop)
        })
        .await?;
        Ok(measured)
    }

    /// The query behind the first page of GET /api/tickets, as the tickets store sends it: the
    /// first shelf of tickets for sale, in id order, newest revision first, 50 and a little
    /// slack (a page reads further shelves only when this one holds too few).
    pub async fn page(&self, load: Load) -> anyhow::Result<Measured> {
        let tickets = &self.tickets;
        let first_shelf = &for_sale::nth_shelf(0);
        let (measured, _) = measure("raw page query", load, |_| async move {
            let page: Vec<Document> = tickets
                .find(doc! { "shelf": first_shelf })
                .sort(doc! { "entity": 1, "version": -1 })
                .limit(54)
                .await
                .context("find")?
                .try_collect()
                .await
                .context("reading the page")?;
            anyhow::ensure!(!page.is_empty(), "the raw page query found nothing");
            Ok(())
        })
        .await?;
        Ok(measured)
    }
}

/// A document shaped and sized like the one the tickets store inserts for a new ticket: the
/// ticket's state, its `ticket.created` event waiting in the outbox, and the store's bookkeeping
/// (key `<entity>:<version>`, nonce and lineage, markers, time). Returns its `_id` too.
fn ticket_document(i: usize) -> (String, Document) {
    let (entity, owner) = (ObjectId::new(), ObjectId::new());
    let title = format!("raw ticket {i}");
    let nonce = i64::from_ne_bytes(uuid::Uuid::new_v4().as_u64_pair().0.to_ne_bytes());
    let key = format!("{entity}:{:012}:{nonce:016x}", 0);
    let shelf = for_sale::shelf_name(TicketId::parse(&entity.to_hex()).expect("an ObjectId"));
    let payload = json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "occurredAt": "2026-11-28T00:00:00.000Z",
        "data": {
            "id": entity.to_hex(), "version": 0, "title": title, "price": 25.0,
            "userId": owner.to_hex(),
        },
    });
    let document = doc! {
        "_id": &key,
        "entity": entity,
        "version": 0_i64,
        "nonce": nonce,
        "lineage": [nonce],
        "state": {
            "_id": entity, "title": &title, "price": 2_500_i64, "user_id": owner,
            "version": 0_i64,
        },
        "shelf": shelf,
        "outbox": [{
            "id": uuid::Uuid::new_v4().to_string(),
            "subject": "ticket.created",
            "payload": payload.to_string(),
        }],
        "outbox_pending": true,
        "held": false,
        "written_at": DateTime::now(),
    };
    (key, document)
}

/// The `i`th step of a fixed walk over `len` items that visits old and new ones alike.
pub fn spread(i: usize, len: usize) -> usize {
    i.wrapping_mul(7_919) % len
}
