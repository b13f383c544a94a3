-- Moves up to ARGV[2] due jobs from the scheduled set to the active list, as apalis-redis's
-- fetch does, but in bounded chunks (Redis's Lua cannot unpack more than ~8000 values).
-- KEYS[1]: the scheduled jobs sorted set
-- KEYS[2]: the active jobs list
-- KEYS[3]: the signal list
-- ARGV[1]: now (unix seconds)
-- ARGV[2]: the most jobs to move
-- Returns: how many were moved
local due = redis.call("zrangebyscore", KEYS[1], "-inf", ARGV[1], "LIMIT", 0, tonumber(ARGV[2]))
if #due > 0 then
    redis.call("rpush", KEYS[2], unpack(due))
    redis.call("zrem", KEYS[1], unpack(due))
    redis.call("del", KEYS[3])
    redis.call("lpush", KEYS[3], 1)
end
return #due
