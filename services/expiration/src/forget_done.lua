-- Deletes up to ARGV[1] finished jobs: taken from the done set, with their data and metadata.
-- A job is in the done set only once its result is recorded and no worker holds it, so nothing
-- deleted here can still be fetched. The order-id keys that refuse duplicates are separate
-- keys with their own expiry, so this does not reopen an order to a second job.
-- KEYS[1]: the done jobs set
-- KEYS[2]: the job data hash
-- KEYS[3]: the job metadata prefix
-- ARGV[1]: the most jobs to delete
-- Returns: how many were deleted
local ids = redis.call("spop", KEYS[1], tonumber(ARGV[1]))
for _, id in ipairs(ids) do
    redis.call("hdel", KEYS[2], id)
    redis.call("del", KEYS[3] .. ":" .. id)
end
return #ids
