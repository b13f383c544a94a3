//! The versioned store against the real MongoDB-wire server (FerretDB locally): round trips per
//! operation, compaction, the stale writer that must not bring a compacted version back, and the
//! repair of writes a stopped writer left held, the group insert every revision goes through, and
//! a replica's memory of the version it applied last.
//! Every test has its own database.

mod budgets;
mod compaction;
mod group_insert;
mod helpers;
mod repair;
mod replica_memory;
mod upgrade;
