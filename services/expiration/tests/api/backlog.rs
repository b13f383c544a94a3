use expiration::{configuration::RedisConfig, connection, scheduler};
use ticketing_common::testing;

use crate::helpers::{redis_url, remove_namespace};

/// Redis's Lua refuses to unpack more than ~8000 values, which is how apalis-redis's fetch
/// promotes due jobs: a backlog that large must be moved in chunks before the worker starts.
#[tokio::test]
async fn a_backlog_larger_than_one_script_can_move_is_promoted_in_chunks() {
    let namespace = testing::unique_name("t");
    let config = RedisConfig::new(redis_url(), Some(&namespace));
    let storage = scheduler::storage_config(&namespace);
    let mut conn = connection::connect(&config).await.expect("test Redis");
    let reader = conn.clone();
    let count = |command: &'static str, key: String| {
        let mut conn = reader.clone();
        async move {
            redis::cmd(command)
                .arg(key)
                .query_async::<u64>(&mut conn)
                .await
                .expect("count")
        }
    };
    // 9,000 jobs due long ago and one due in an hour.
    redis::Script::new(
        "for i = 1, 9000 do redis.call('zadd', KEYS[1], 1, 'job-' .. i) end \
         redis.call('zadd', KEYS[1], ARGV[1], 'later')",
    )
    .key(storage.scheduled_jobs_set())
    .arg(chrono::Utc::now().timestamp() + 3_600)
    .invoke_async::<()>(&mut conn)
    .await
    .expect("backlog created");

    let moved = scheduler::promote_due(&mut conn, &storage)
        .await
        .expect("promoted");

    assert_eq!(moved, 9_000);
    assert_eq!(count("LLEN", storage.active_jobs_list()).await, 9_000);
    assert_eq!(count("ZCARD", storage.scheduled_jobs_set()).await, 1);
    remove_namespace(&namespace).expect("cleaned up");
}
