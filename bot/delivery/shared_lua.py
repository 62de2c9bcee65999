"""The Lua scripts of the shared limits (bot/delivery/shared_limits.py): each runs atomically in
Redis, so processes asking at once never both take the last slot.

Times are milliseconds since the epoch, given by the caller's clock (a virtual clock in tests
and the demo; the system clock, kept by NTP, in production). Keys under the prefix ``p``:

* ``p..'done'`` (sorted set): calls answered in the last second, scored by the answer's time;
* ``p..'fly'`` (sorted set): calls in flight, scored by their lease's end (a killed process's
  calls stop counting when it ends);
* ``p..'busy:'..chat..':m'`` / ``':a'`` (string, expires): the one call in flight in that chat's
  lane (messages / calls that send none), holding its token;
* ``p..'last:'..chat`` (string): a private chat's last answer;
* ``p..'gdone:'..chat``, ``p..'gfly:'..chat`` (sorted sets): a group's answered calls in its
  window, and its calls in flight;
* ``p..'pen:'..chat`` (string): the end of a chat's 429 penalty; ``p..'pause'``: the end of a
  429 that holds every chat back.

The keys are built in the scripts (not passed as KEYS): one Redis server or a primary with
replicas, not Redis Cluster.
"""

from __future__ import annotations

#: ARGV: prefix, now, lease, token base, global per second, private interval, group per window,
#: group window, dry ("1": grant nothing), then a chat id and its kind per call wanted.
#: Returns one number per call: 0 when granted, else the earliest time to ask again.
ACQUIRE = """
local p, now, lease, base = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local global_n, private_ms = tonumber(ARGV[5]), tonumber(ARGV[6])
local group_n, group_ms = tonumber(ARGV[7]), tonumber(ARGV[8])
local dry = ARGV[9] == '1'
local recheck = 200
local done, fly = p .. 'done', p .. 'fly'
redis.call('ZREMRANGEBYSCORE', done, '-inf', now - 1000)
redis.call('ZREMRANGEBYSCORE', fly, '-inf', now)
local count = redis.call('ZCARD', done) + redis.call('ZCARD', fly)
local pause = tonumber(redis.call('GET', p .. 'pause') or '0')

local function window_free(answered, in_flight, limit, length)
  local n = redis.call('ZCARD', answered) + in_flight
  if n < limit then return now end
  local oldest = redis.call('ZRANGE', answered, n - limit, n - limit, 'WITHSCORES')
  if oldest[2] then return tonumber(oldest[2]) + length end
  return now + recheck
end

local out = {}
for i = 10, #ARGV, 2 do
  local chat, kind = ARGV[i], ARGV[i + 1]
  local at = math.max(now, pause)
  if count >= global_n then
    at = math.max(at, window_free(done, redis.call('ZCARD', fly), global_n, 1000))
  end
  local penalty = redis.call('GET', p .. 'pen:' .. chat)
  if penalty then at = math.max(at, tonumber(penalty)) end
  local lane = p .. 'busy:' .. chat .. (kind == 'api' and ':a' or ':m')
  local busy = redis.call('PTTL', lane)
  if busy > 0 then
    at = math.max(at, now + math.min(busy, kind == 'private' and private_ms or recheck))
  end
  local gfly = p .. 'gfly:' .. chat
  if kind == 'private' then
    local last = redis.call('GET', p .. 'last:' .. chat)
    if last then at = math.max(at, tonumber(last) + private_ms) end
  elseif kind ~= 'api' then
    local gdone = p .. 'gdone:' .. chat
    redis.call('ZREMRANGEBYSCORE', gdone, '-inf', now - group_ms)
    redis.call('ZREMRANGEBYSCORE', gfly, '-inf', now)
    at = math.max(at, window_free(gdone, redis.call('ZCARD', gfly), group_n, group_ms))
  end
  if at <= now and not dry then
    local token = base .. ':' .. i
    redis.call('ZADD', fly, now + lease, token)
    redis.call('SET', lane, token, 'PX', lease)
    if kind ~= 'private' and kind ~= 'api' then
      redis.call('ZADD', gfly, now + lease, token)
      redis.call('PEXPIRE', gfly, lease + 60000)
    end
    count = count + 1
    out[#out + 1] = 0
  else
    out[#out + 1] = math.floor(at)
  end
end
redis.call('PEXPIRE', fly, lease + 60000)
return out
"""

#: ARGV: prefix, answer time, token, chat id, kind, private interval, group window, counted
#: ("0": the call was not made: it only stops being in flight)
COMPLETE = """
local p, at, token, chat, kind = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
local private_ms, group_ms, counted = tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8] == '1'
redis.call('ZREM', p .. 'fly', token)
local lane = p .. 'busy:' .. chat .. (kind == 'api' and ':a' or ':m')
if redis.call('GET', lane) == token then redis.call('DEL', lane) end
if kind ~= 'private' and kind ~= 'api' then redis.call('ZREM', p .. 'gfly:' .. chat, token) end
if not counted then return 0 end
redis.call('ZADD', p .. 'done', at, token)
redis.call('PEXPIRE', p .. 'done', 61000)
if kind == 'private' then
  local key = p .. 'last:' .. chat
  local last = tonumber(redis.call('GET', key) or '0')
  if at > last then redis.call('SET', key, at, 'PX', private_ms + 60000) end
elseif kind ~= 'api' then
  redis.call('ZADD', p .. 'gdone:' .. chat, at, token)
  redis.call('PEXPIRE', p .. 'gdone:' .. chat, group_ms + 60000)
end
return 1
"""

#: ARGV: key, until, now. Keeps the later of the stored end and ``until``.
PENALIZE = """
local key, untl, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local current = tonumber(redis.call('GET', key) or '0')
if untl > current then
  redis.call('SET', key, untl, 'PX', math.max(1, untl - now) + 60000)
end
return 1
"""

#: ARGV: prefix, now, lease, then a token, chat id and kind per call in flight: their leases
#: renewed (a call still running after its lease would stop counting).
RENEW = """
local p, now, lease = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
for i = 4, #ARGV, 3 do
  local token, chat, kind = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  redis.call('ZADD', p .. 'fly', 'XX', now + lease, token)
  local lane = p .. 'busy:' .. chat .. (kind == 'api' and ':a' or ':m')
  if redis.call('GET', lane) == token then redis.call('PEXPIRE', lane, lease) end
  if kind ~= 'private' and kind ~= 'api' then
    redis.call('ZADD', p .. 'gfly:' .. chat, 'XX', now + lease, token)
  end
end
return 1
"""
