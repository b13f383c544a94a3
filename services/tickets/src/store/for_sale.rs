//! The list of tickets for sale, spread over [`SHELVES`] shelves by a hash of the ticket id (see
//! "Why shelves" in `ticketing_common::store`): a page reads a shelf, 1/16 of the tickets for
//! sale, instead of ordering all of them — at 10,000 for sale, FerretDB decoded and sorted all
//! 10,000 for every page. The list's order is therefore shelf by shelf, each shelf oldest first;
//! a cursor (the last ticket's id) names its shelf. The price is paid by small stores: a page
//! that finds too few tickets looks at every shelf, 16 small queries.

use futures::future::try_join_all;
use ticketing_common::domain::TicketId;

/// How many shelves the tickets for sale are spread over. Changing it moves every ticket to
/// another shelf: the stored shelves would have to be rewritten.
pub const SHELVES: u8 = 16;

/// The shelf of a ticket for sale (stored on its revision; a reserved ticket has none).
pub fn shelf_name(id: TicketId) -> String {
    nth_shelf(shelf_of(id))
}

/// The name of shelf `shelf` (0 to [`SHELVES`] - 1), in the list's order.
pub fn nth_shelf(shelf: u8) -> String {
    format!("for-sale:{shelf:02}")
}

/// FNV-1a over the id's bytes: stable across releases and platforms, unlike std's hasher.
fn shelf_of(id: TicketId) -> u8 {
    let hash = id
        .bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
        });
    u8::try_from(hash % u64::from(SHELVES)).unwrap_or(0)
}

/// Walks the shelves from the one holding `after` (or the first) and collects up to `limit`
/// tickets, reading a shelf with `read(shelf, after-on-that-shelf, limit)`. One shelf first (a
/// full one ends the page), then twice as many at once each time: a small store's page takes a
/// few waves of queries, not one query after another.
pub async fn walk<T, F, Fut>(after: Option<TicketId>, limit: u32, read: F) -> anyhow::Result<Vec<T>>
where
    F: Fn(String, Option<TicketId>, u32) -> Fut,
    Fut: Future<Output = anyhow::Result<Vec<T>>>,
{
    let first = after.map_or(0, shelf_of);
    let wanted = usize::try_from(limit).unwrap_or(usize::MAX);
    let (mut page, mut next, mut width) = (Vec::new(), first, 1_u8);
    while page.len() < wanted && next < SHELVES {
        let wave = next..next.saturating_add(width).min(SHELVES);
        let shelves = wave
            .clone()
            .map(|shelf| read(nth_shelf(shelf), after.filter(|_| shelf == first), limit));
        page.extend(try_join_all(shelves).await?.into_iter().flatten());
        (next, width) = (wave.end, width.saturating_mul(2));
    }
    page.truncate(wanted);
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shelves_are_spread_evenly_and_stable() {
        let mut counts = [0_u32; SHELVES as usize];
        for _ in 0..16_000 {
            counts[usize::from(shelf_of(TicketId::new()))] += 1;
        }
        assert!(
            counts.iter().all(|&n| (800..1200).contains(&n)),
            "{counts:?}"
        );
        // A ticket stays on the shelf its stored revisions name, release after release.
        let id = TicketId::parse("6569a1f2c3d4e5f6a7b8c9d0").expect("an id");
        assert_eq!(shelf_name(id), "for-sale:02");
    }
}
