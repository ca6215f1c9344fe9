//! The Lua scripts that make each cache step one atomic Redis round trip.

use redis::Script;
use std::sync::LazyLock;

/// Reads a page, counts the outcome, and returns the cache generation, all
/// in one round trip.
/// KEYS: page, stats, minute bucket, generation.
/// ARGV: header of the local copy ('' if none), route, header length,
///       minute ttl, a fresh generation in case none exists yet.
/// Returns {1, generation} when the local copy is current (only its header is
/// compared, so an unchanged page costs a few bytes), {2, generation, value}
/// for a hit, and {0, generation} for a miss: the generation a later fill
/// must still see.
pub static LOOKUP: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local function count(outcome)
  redis.call('HINCRBY', KEYS[2], outcome, 1)
  redis.call('HINCRBY', KEYS[2], outcome .. ':' .. ARGV[2], 1)
  if redis.call('HINCRBY', KEYS[3], outcome, 1) == 1 then
    redis.call('EXPIRE', KEYS[3], ARGV[4])
  end
end
local generation = redis.call('GET', KEYS[4])
if not generation then
  generation = ARGV[5]
  redis.call('SET', KEYS[4], generation)
end
if ARGV[1] ~= '' then
  if redis.call('GETRANGE', KEYS[1], 0, tonumber(ARGV[3]) - 1) == ARGV[1] then
    count('hits')
    return {1, generation}
  end
end
local value = redis.call('GET', KEYS[1])
if value then
  count('hits')
  return {2, generation, value}
end
count('misses')
return {0, generation}
"#,
    )
});

/// Stores a render only if no write happened since the render's miss: a
/// reader that read old rows can never put them back after an invalidation.
/// KEYS: page, generation. ARGV: generation seen at the miss, value, ttl.
pub static FILL: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0
"#,
    )
});

/// Replaces the generation (failing every fill in flight and every local
/// copy) and removes the stale pages, atomically.
/// KEYS: generation, pages... ARGV: new generation.
pub static INVALIDATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
redis.call('SET', KEYS[1], ARGV[1])
local removed = 0
for i = 2, #KEYS do
  removed = removed + redis.call('UNLINK', KEYS[i])
end
return removed
"#,
    )
});

/// The reconciler's round trip: adds the counts made in process, stamps this
/// instance's flush time (so the panel can wait for every instance's counts),
/// and returns the generation. Being a write, it also fails while Redis
/// refuses writes.
/// KEYS: stats, minute bucket, instances, generation.
/// ARGV: instance id, minute ttl, then field, n, field, n...
/// Fields with a ':' (per route) go to the totals only.
pub static FLUSH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
for i = 3, #ARGV, 2 do
  local field, n = ARGV[i], tonumber(ARGV[i + 1])
  redis.call('HINCRBY', KEYS[1], field, n)
  if not string.find(field, ':', 1, true) then
    if redis.call('HINCRBY', KEYS[2], field, n) == n then
      redis.call('EXPIRE', KEYS[2], ARGV[2])
    end
  end
end
local now = redis.call('TIME')
redis.call('HSET', KEYS[3], ARGV[1], now[1] * 1000 + math.floor(now[2] / 1000))
return redis.call('GET', KEYS[4]) or ''
"#,
    )
});
