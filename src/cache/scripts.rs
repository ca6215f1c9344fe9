//! The Lua scripts that make each cache step one atomic Redis round trip.

use redis::Script;
use std::sync::LazyLock;

/// Counts one outcome, in total, per route and in the current minute.
/// Shared by the scripts below so every count is made the same way.
const COUNT: &str = r#"
local function count(stats, minute, outcome, route, n, minute_ttl)
  redis.call('HINCRBY', stats, outcome, n)
  redis.call('HINCRBY', stats, outcome .. ':' .. route, n)
  if redis.call('HINCRBY', minute, outcome, n) == n then
    redis.call('EXPIRE', minute, minute_ttl)
  end
end
"#;

/// Reads a page and counts the outcome in the same round trip.
/// KEYS: page, stats, minute bucket, generation.
/// ARGV: header of the local copy ('' if none), route, header length,
///       minute ttl, a fresh generation token in case none exists yet.
/// Returns {1} when the local copy is current (only its header is compared,
/// so an unchanged page costs a few bytes), {2, value} for a hit, and
/// {0, generation} for a miss: the generation a later fill must still see.
pub static LOOKUP: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{COUNT}{}",
        r#"
if ARGV[1] ~= '' then
  local header = redis.call('GETRANGE', KEYS[1], 0, tonumber(ARGV[3]) - 1)
  if header == ARGV[1] then
    count(KEYS[2], KEYS[3], 'hits', ARGV[2], 1, ARGV[4])
    return {1}
  end
end
local value = redis.call('GET', KEYS[1])
if value then
  count(KEYS[2], KEYS[3], 'hits', ARGV[2], 1, ARGV[4])
  return {2, value}
end
count(KEYS[2], KEYS[3], 'misses', ARGV[2], 1, ARGV[4])
local generation = redis.call('GET', KEYS[4])
if not generation then
  generation = ARGV[5]
  redis.call('SET', KEYS[4], generation)
end
return {0, generation}
"#
    ))
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

/// Replaces the generation (failing every fill in flight) and removes the
/// stale pages, atomically. KEYS: generation, pages... ARGV: new generation.
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

/// Adds counts made without Redis (bypasses, errors) or outside a lookup.
/// KEYS: stats, minute bucket. ARGV: outcome, route, n, minute ttl.
pub static ADD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{COUNT}{}",
        r#"
count(KEYS[1], KEYS[2], ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4])
return 1
"#
    ))
});
