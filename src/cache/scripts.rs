//! The Lua scripts that make each cache step one atomic Redis round trip.

use super::keys::Keys;
use redis::{Script, ScriptInvocation};
use std::sync::LazyLock;

/// `INVALIDATE` or `RESET`, begun with what both replace: KEYS generation,
/// seq, epoch; ARGV a new generation, the write's `seq`, and a new epoch made
/// from `seq` when `move_epoch` (else '', which keeps it).
pub(super) fn new_version(
    script: &'static Script,
    keys: &Keys,
    seq: i64,
    move_epoch: bool,
) -> ScriptInvocation<'static> {
    let mut invocation = script.prepare_invoke();
    invocation
        .key(keys.generation())
        .key(keys.seq())
        .key(keys.epoch())
        .arg(super::new_generation())
        .arg(seq)
        .arg(if move_epoch {
            format!("{seq:016x}")
        } else {
            String::new()
        });
    invocation
}

/// Reads a page and returns the generation and epoch, in one round trip.
/// An entry rendered under another epoch (an older site version) is a miss.
/// It counts nothing: the caller counts what it answered, so a lookup it gave
/// up on (a timeout, then a BYPASS) that Redis runs later is not counted twice.
/// KEYS: page, generation, epoch, seq.
/// ARGV: header of the local copy ('' if none), header length, a fresh
///       generation in case none exists yet, epoch offset, the newest write
///       sequence this instance has seen Redis apply.
/// Returns {1, gen, epoch, pttl} when the local copy is current (only its header is
/// compared, so an unchanged page costs a few bytes), {2, gen, epoch, pttl, value}
/// for a hit, {0, gen, epoch} for a miss (the generation a later fill must
/// still see), and {3, gen} when Redis has no epoch or is behind what this
/// instance saw it apply: it lost its state (restarted from an old snapshot,
/// failed over to a lagging replica) and the reconciler must reset it
/// before the cache is used again.
pub static LOOKUP: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local generation = redis.call('GET', KEYS[2])
if not generation then
  generation = ARGV[3]
  redis.call('SET', KEYS[2], generation)
end
local epoch = redis.call('GET', KEYS[3])
if not epoch or tonumber(redis.call('GET', KEYS[4]) or '0') < tonumber(ARGV[5]) then
  return {3, generation}
end
local head = redis.call('GETRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
local at = tonumber(ARGV[4])
if head ~= '' and string.sub(head, at + 1, at + 16) == epoch then
  if ARGV[1] ~= '' and head == ARGV[1] then
    return {1, generation, epoch, redis.call('PTTL', KEYS[1])}
  end
  return {2, generation, epoch, redis.call('PTTL', KEYS[1]), redis.call('GET', KEYS[1])}
end
return {0, generation, epoch}
"#,
    )
});

/// Stores a render only if no write happened since the render's miss: a
/// reader that read old rows can never put them back after an invalidation.
/// A stored page is also recorded in the read set (newest 500 kept), which
/// re-warm reads after a change of every page instead of scanning.
/// KEYS: page, generation, read set. ARGV: generation seen at the miss,
/// value, ttl, the page's path.
pub static FILL: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  local now = redis.call('TIME')
  redis.call('ZADD', KEYS[3], now[1] * 1000 + math.floor(now[2] / 1000), ARGV[4])
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -501)
  return 1
end
return 0
"#,
    )
});

/// Replaces the generation (failing every fill in flight and every local
/// copy), records how far Redis has got, moves the epoch when the write
/// changed every page, and removes the stale pages, atomically.
/// KEYS: generation, seq, epoch, pages... ARGV: new generation, the write's
/// seq, the new epoch ('' to keep it).
/// Returns the indexes (1-based, among the pages) of the keys that existed.
pub static INVALIDATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
redis.call('SET', KEYS[1], ARGV[1])
local seq = tonumber(redis.call('GET', KEYS[2]) or '0')
if tonumber(ARGV[2]) > seq then
  redis.call('SET', KEYS[2], ARGV[2])
end
if ARGV[3] ~= '' then
  redis.call('SET', KEYS[3], ARGV[3])
end
local removed = {}
for i = 4, #KEYS do
  if redis.call('UNLINK', KEYS[i]) == 1 then
    removed[#removed + 1] = i - 3
  end
end
return removed
"#,
    )
});

/// Resets a Redis that is behind the database (restarted from an old
/// snapshot, failed over to a lagging replica, flushed, evicted): a new
/// epoch makes every entry it still holds unreadable, without a scan.
/// KEYS: generation, seq, epoch. ARGV: new generation, database seq, new epoch.
pub static RESET: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local seq = redis.call('GET', KEYS[2])
if seq and tonumber(seq) >= tonumber(ARGV[2]) and redis.call('EXISTS', KEYS[3]) == 1 then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2])
redis.call('SET', KEYS[3], ARGV[3])
return 1
"#,
    )
});

/// The reconciler's round trip: adds one batch of counts made in process
/// (once: a batch retried after a timeout that Redis did run is skipped by
/// its number), stamps this instance's flush time (so the panel can wait for
/// every instance's counts), and returns {generation, seq, epoch} ('' for
/// each that is missing). Being a write, it also fails while Redis refuses
/// writes.
/// KEYS: stats, minute bucket, instances, generation, seq, epoch, batches.
/// ARGV: instance id, minute ttl, batch number, then field, n, field, n...
/// Fields with a ':' (per route) go to the totals only.
pub static FLUSH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local last = tonumber(redis.call('HGET', KEYS[7], ARGV[1]) or '0')
if tonumber(ARGV[3]) > last then
  for i = 4, #ARGV, 2 do
    local field, n = ARGV[i], tonumber(ARGV[i + 1])
    redis.call('HINCRBY', KEYS[1], field, n)
    if not string.find(field, ':', 1, true) then
      if redis.call('HINCRBY', KEYS[2], field, n) == n then
        redis.call('EXPIRE', KEYS[2], ARGV[2])
      end
    end
  end
  redis.call('HSET', KEYS[7], ARGV[1], ARGV[3])
end
local now = redis.call('TIME')
redis.call('HSET', KEYS[3], ARGV[1], now[1] * 1000 + math.floor(now[2] / 1000))
return {redis.call('GET', KEYS[4]) or '', redis.call('GET', KEYS[5]) or '', redis.call('GET', KEYS[6]) or ''}
"#,
    )
});
