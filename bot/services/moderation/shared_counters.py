"""Flood and spam-wave windows shared by every process (``REDIS_URL``): the same rules as
:mod:`sop.flood` (the in-process :class:`~bot.services.moderation.counters.MemoryFloodCounters`),
kept in Redis sorted sets by two Lua scripts, so a chat's messages handled by different
processes fill one window.

Keys under the prefix (``sopbot:<bot id>:mod:``), each expiring a minute after its window:
``rate:<rule>:<chat>:<sender>`` (message ids scored by time) and ``rateb:…`` (the burst under
way); ``wave:<chat>:<text digest>`` (``sender:message id`` scored by time), ``waveb:…`` and
``wavea:…`` (the wave under way and whom its steps were applied to).

When Redis cannot be asked, this process counts alone (in memory) until it can: a flood seen
by one process is still a flood, and moderation never stops.
"""

from __future__ import annotations

import logging
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.config.moderation import ModerationConfig
from bot.services.moderation.counters import MemoryFloodCounters, Noted
from sop.flood import Burst

log = logging.getLogger(__name__)

#: ARGV: window key, burst key, rule, chat, sender, message id, now, messages, seconds.
#: {-1}: a message seen before; {0}: no burst; {1, key}: a burst goes on; {2, key, ids...}
RATE = """
local z, b, rule, chat, sender, mid = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local now, messages, seconds = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
redis.call('ZREMRANGEBYSCORE', z, '-inf', now - seconds)
if redis.call('ZSCORE', z, mid) then return {-1} end
redis.call('ZADD', z, now, mid)
redis.call('EXPIRE', z, math.ceil(seconds) + 60)
if redis.call('ZCARD', z) < messages then
  redis.call('DEL', b)
  return {0}
end
local going = redis.call('GET', b)
if going then
  redis.call('EXPIRE', b, math.ceil(seconds) + 60)
  return {1, going}
end
local first = redis.call('ZRANGE', z, 0, 0, 'WITHSCORES')
local key = rule .. ':' .. chat .. ':' .. sender .. ':' .. math.floor(tonumber(first[2]))
redis.call('SET', b, key, 'EX', math.ceil(seconds) + 60)
local out = {2, key}
for _, id in ipairs(redis.call('ZRANGE', z, 0, -1)) do out[#out + 1] = id end
return out
"""

#: ARGV: window key, wave key, acted key, chat, text digest, sender, message id, now,
#: accounts, within. {-1}: seen before; {0}: no wave; {1, key, offender or ''};
#: {2, key, senders..., '', sender:id...}
WAVE = """
local z, b, a, chat, text = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local sender, mid = ARGV[6], ARGV[7]
local now, accounts, within = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local ttl = math.ceil(within) + 60
redis.call('ZREMRANGEBYSCORE', z, '-inf', now - within)
if redis.call('ZCARD', z) == 0 then redis.call('DEL', b, a) end
local member = sender .. ':' .. mid
if redis.call('ZSCORE', z, member) then return {-1} end
redis.call('ZADD', z, now, member)
redis.call('EXPIRE', z, ttl)
local going = redis.call('GET', b)
if going then
  redis.call('EXPIRE', b, ttl)
  local added = redis.call('SADD', a, sender)
  redis.call('EXPIRE', a, ttl)
  return {1, going, added == 1 and sender or ''}
end
local seen = redis.call('ZRANGE', z, 0, -1, 'WITHSCORES')
local senders, known = {}, {}
for i = 1, #seen, 2 do
  local who = string.match(seen[i], '^(-?%d+):')
  if not known[who] then known[who] = true; senders[#senders + 1] = who end
end
if #senders < accounts then return {0} end
local key = 'wave:' .. chat .. ':' .. text .. ':' .. math.floor(tonumber(seen[2]))
redis.call('SET', b, key, 'EX', ttl)
redis.call('SADD', a, unpack(senders))
redis.call('EXPIRE', a, ttl)
local out = {2, key}
for _, who in ipairs(senders) do out[#out + 1] = who end
out[#out + 1] = ''
for i = 1, #seen, 2 do out[#out + 1] = seen[i] end
return out
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisFloodCounters:
    """:class:`~bot.services.moderation.counters.FloodCounters` in Redis (one per process)."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._prefix = prefix
        self._rate = redis.register_script(RATE)
        self._wave = redis.register_script(WAVE)
        self._alone = MemoryFloodCounters()  # while Redis cannot be asked
        self._down = False

    async def note(self, message: Noted, moderation: ModerationConfig) -> list[Burst]:
        try:
            bursts = await self._note(message, moderation)
        except (RedisError, OSError) as error:
            if not self._down:
                log.error("moderation: Redis unreachable (%s): counting alone", type(error))
                self._down = True
            return await self._alone.note(message, moderation)
        self._down = False
        return bursts

    async def _note(self, message: Noted, moderation: ModerationConfig) -> list[Burst]:
        now = message.at.timestamp()
        bursts: list[Burst] = []
        sticker_rule = moderation.stickers if message.sticker else None
        rate = sticker_rule or moderation.flood
        if rate is not None:
            rule = "stickers" if sticker_rule is not None else "flood"
            burst = await self._note_rate(message, rule, now, rate.messages, rate.seconds)
            if burst is not None:
                bursts.append(burst)
        wave = moderation.wave
        if wave is not None and message.text_key is not None:
            burst = await self._note_wave(
                message, message.text_key, now, wave.accounts, wave.within.total_seconds()
            )
            if burst is not None:
                bursts.append(burst)
        return bursts

    async def _note_rate(
        self, message: Noted, rule: str, now: float, messages: int, seconds: int
    ) -> Burst | None:
        window = f"{self._prefix}rate:{rule}:{message.chat_id}:{message.sender}"
        answer = await self._rate(
            args=[
                window,
                f"{self._prefix}rateb:{rule}:{message.chat_id}:{message.sender}",
                rule,
                message.chat_id,
                message.sender,
                message.message_id,
                repr(now),
                messages,
                seconds,
            ]
        )
        state = int(answer[0])
        if state <= 0:
            return None
        key = _text(answer[1])
        this = ((message.sender, message.message_id),)
        if state == 1:
            return Burst(rule, key, this, (), False)
        every = tuple((message.sender, int(_text(mid))) for mid in answer[2:])
        return Burst(rule, key, every, (message.sender,), True)

    async def _note_wave(
        self, message: Noted, text_key: str, now: float, accounts: int, within: float
    ) -> Burst | None:
        where = f"{message.chat_id}:{text_key}"
        answer = await self._wave(
            args=[
                f"{self._prefix}wave:{where}",
                f"{self._prefix}waveb:{where}",
                f"{self._prefix}wavea:{where}",
                message.chat_id,
                text_key,
                message.sender,
                message.message_id,
                repr(now),
                accounts,
                repr(within),
            ]
        )
        state = int(answer[0])
        if state <= 0:
            return None
        key = _text(answer[1])
        this = ((message.sender, message.message_id),)
        if state == 1:
            offender = _text(answer[2])
            return Burst("wave", key, this, (int(offender),) if offender else (), False)
        rest = [_text(value) for value in answer[2:]]
        split = rest.index("")
        senders = tuple(int(who) for who in rest[:split])
        every = tuple(
            (int(who), int(mid)) for who, _, mid in (m.partition(":") for m in rest[split + 1 :])
        )
        return Burst("wave", key, every, senders, True)
