"""The delivery loop: claims due outbox rows, sends them at Telegram's limits, settles them.

Order is kept per chat (one call in flight per chat, the rest queued behind it); a 429 puts the
row back at the head of its chat's queue and nothing goes to that chat for exactly
``retry_after``; 403 from a private chat marks the member unreachable and drops what was queued
for them; other permanent errors fail the row with the reason. A call made whose answer cannot
be read is settled ``sent_unknown`` (never made again); a send that raises is an attempt like a
network fault, given up after ``max_attempts``.

Sending never waits for the database while the loop holds rows it may send: a claim runs beside
the sends, and answers are settled together, all that came back while the last settlement was
being written in one transaction (a chat's next row waits until its previous one is settled).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import ChatKind, OutboxMessage
from bot.db.models.outbox import DEFAULT_LANE, SERVICE_LANE
from bot.db.repositories import OutboxRepository
from bot.db.session import Database
from bot.delivery.gate import SendGate, penalizes_everyone
from bot.delivery.sender import Failed, RetryLater, Sent, SentUnknown, TelegramSender, Unreachable
from bot.failures import describe, is_infrastructure_error
from sop.clock import Clock, sleep_or_wake

log = logging.getLogger(__name__)

POLL_FALLBACK = timedelta(seconds=30)
#: how often the limiter drops what it knows of chats that can no longer constrain a send
LIMITER_SWEEP = timedelta(minutes=5)
#: while the loop holds more rows than it has answers to settle (a broadcast, a burst of
#: welcomes), answers wait this long (real time) to be settled together: one transaction for
#: a handful instead of one each
SETTLE_LINGER = 0.05
#: the most answers settled in one transaction
SETTLE_BATCH = 100
#: rows of the service lane (``SERVICE_LANE`` and below) are claimed even when the batch is
#: full, up to this many at a time
SERVICE_CLAIM = 50
#: most ids in one ``deleteMessages`` (Telegram's bound): a chat's queued ``deleteMessage`` rows
#: go out together, up to this many per call
DELETE_BATCH = 100
#: the longest wait between two tries after network or server faults; with the default of 20
#: attempts a row survives an outage of about 70 minutes (plus each try's own timeout)
MAX_BACKOFF = timedelta(minutes=5)


class DeliveryHook(Protocol):
    """Effects of a delivery, run in the transaction that settles the row."""

    async def on_sent(self, session: AsyncSession, row: OutboxMessage, now: datetime) -> None: ...

    async def on_unreachable(
        self, session: AsyncSession, row: OutboxMessage, now: datetime
    ) -> None: ...

    async def on_failed(self, session: AsyncSession, row: OutboxMessage, now: datetime) -> None: ...


Outcome = Sent | SentUnknown | RetryLater | Unreachable | Failed

#: the first wait after a send that raised (a bug, not Telegram): it backs off like a network
#: fault, each try counted, and is given up after ``max_attempts``
UNEXPECTED_RETRY = 5.0


#: a chat's calls go one at a time, in order, in one of two lanes: its messages, and the calls
#: that send no message (``chat_kind`` "api": deletions, restrictions, approvals). A deletion
#: does not wait behind greetings held back by the group's 20 messages a minute.
Lane = tuple[int, bool]


def result_name(outcome: Outcome) -> str:
    """A call's result as the metrics name it (``flood``: a 429)."""
    if isinstance(outcome, RetryLater):
        return "flood" if outcome.flood else "retry"
    names: dict[type, str] = {
        Sent: "sent",
        SentUnknown: "sent_unknown",
        Unreachable: "unreachable",
        Failed: "failed",
    }
    return names[type(outcome)]


def lane(chat_id: int, chat_kind: str) -> Lane:
    return chat_id, chat_kind == "api"


@dataclass(frozen=True)
class Job:
    """What the loop keeps in memory of a claimed row (never an ORM object across sessions)."""

    id: int
    chat_id: int
    chat_kind: str
    method: str
    payload: dict[str, Any]
    attempts: int
    #: the send lane (0: the service desk, dispatched first; 1: the rest)
    lane: int = DEFAULT_LANE
    #: a call standing for several rows (``deleteMessages`` for queued ``deleteMessage`` rows):
    #: each is settled with its outcome
    parts: tuple[Job, ...] = ()

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(part.id for part in self.parts) if self.parts else (self.id,)

    @classmethod
    def of(cls, row: OutboxMessage) -> Job:
        return cls(
            row.id,
            row.chat_id,
            row.chat_kind,
            row.method,
            dict(row.payload),
            row.attempts,
            row.lane,
        )


@dataclass
class Answer:
    """A call's outcome waiting to be settled; ``done`` tells the call's task it was."""

    job: Job
    outcome: Outcome
    at: datetime
    done: asyncio.Future[None]


class DeliveryLoop:
    def __init__(
        self,
        db: Database,
        sender: TelegramSender,
        clock: Clock,
        limiter: SendGate,
        *,
        hooks: Sequence[DeliveryHook] = (),
        lease: timedelta = timedelta(seconds=90),
        batch: int = 200,
        max_attempts: int = 20,
        observe: Callable[[str], None] = lambda _result: None,
        observe_wait: Callable[[], None] = lambda: None,
    ) -> None:
        self._db = db
        self._sender = sender
        self._clock = clock
        self._limiter = limiter
        self._hooks = list(hooks)
        self._lease = lease
        self._batch = batch
        self._max_attempts = max_attempts
        self._queues: dict[Lane, deque[Job]] = {}
        self._inflight: dict[Lane, asyncio.Task[None]] = {}
        self._inflight_ids: dict[Lane, tuple[int, ...]] = {}
        self._wake = asyncio.Event()
        self._lease_renewed_at: datetime | None = None
        self._next_due: datetime | None = None
        self._limiter_swept_at: datetime | None = None
        self._new_work = True
        self._more_due = True  # the last claim filled its batch: more may be waiting
        self._stopping = False
        self._aborted = False
        self._claiming: asyncio.Task[None] | None = None
        self._answers: list[Answer] = []
        self._settler: asyncio.Task[None] | None = None
        #: each call's result (``sent``, ``flood``…) and each row a limit held back, for metrics
        self._observe = observe
        self._observe_wait = observe_wait
        self._waited: set[int] = set()
        #: the last settlement failed for the database: nothing is dispatched until one works
        self._settling_fails = False
        #: a lane's head is not asked about again before the time the limits last gave it
        self._not_before: dict[Lane, datetime] = {}
        self._penalties: set[asyncio.Task[None]] = set()

    # -- public -------------------------------------------------------------------------------
    def wake(self) -> None:
        """New rows were committed: look now instead of at the next planned time."""
        self._new_work = True
        self._wake.set()

    @property
    def held(self) -> int:
        return sum(len(q) for q in self._queues.values()) + len(self._inflight)

    async def run(self) -> None:
        """Until :meth:`stop`; then waits for the calls in flight and hands back the rest."""
        self._stopping = False
        failures = 0  # in a row: the database (or the network) failed a step
        try:
            while not self._stopping:
                self._wake.clear()
                try:
                    wake_at = await self.step()
                except Exception as error:
                    if not is_infrastructure_error(error):
                        raise
                    failures += 1
                    self._outage(error, failures)
                    await self._backoff(failures)
                    continue
                failures = 0
                if not self._stopping:
                    await self._sleep(wake_at)
        finally:
            await self._shutdown()

    def _outage(self, error: BaseException, failures: int) -> None:
        """A step failed for the database: nothing is sent until one succeeds. Rows held but
        not yet sent are let go once their lease may have run out (another instance may claim
        them then; sending them too would send them twice); they come back by a claim."""
        now = self._clock.now()
        renewed = self._lease_renewed_at
        lapsing = renewed is None or now - renewed >= self._lease * 2 / 3
        if lapsing and self._queues:
            log.warning(
                "delivery: letting go of %d held rows (their lease may run out)",
                sum(len(q) for q in self._queues.values()),
            )
            self._queues.clear()
            self._not_before.clear()
            self._waited.clear()
        log.warning(
            "delivery: the database failed (%s); trying again (%d in a row)",
            describe(error),
            failures,
        )

    async def _backoff(self, failures: int) -> None:
        """Real time (the database is real): 1, 2, 4 … up to 30 s, cut short by stop()."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), min(2.0 ** (failures - 1), 30.0))

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def abort(self) -> None:
        """Drops everything on the floor, as a killed process would: calls in flight are cut,
        held rows keep their lease (the next sender takes them when it runs out)."""
        self._aborted = True
        tasks = [
            *self._inflight.values(),
            *(t for t in (self._claiming, self._settler) if t is not None),
        ]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def is_idle(self) -> bool:
        """Nothing in flight, nothing sendable now (the demo waits for this before moving
        time): held rows waiting for a limit or a ``retry_after`` do not count, nor rows due
        beyond a full batch (they wait for those)."""
        if self._inflight or self._claiming is not None:
            return False
        now = self._clock.now()
        heads = [(chat_id, queue[0].chat_kind) for (chat_id, _), queue in self._queues.items()]
        if heads and any(at <= now for at in await self._limiter.next_allowed(heads, now)):
            return False
        if self.held >= self._batch:  # what is due beyond the batch waits for the held rows
            return not self._new_work  # (but the desk's new rows are claimed at once)
        async with self._db.sessions() as session:
            next_due = await OutboxRepository(session).next_due_at()
        return next_due is None or next_due > self._clock.now()

    async def step(self) -> datetime | None:
        """One pass: claim, dispatch what the limits allow; returns when to look again."""
        now = self._clock.now()
        await self._renew_leases(now)  # first: a lease run out is fair game for a claim
        if self._limiter_swept_at is None or now - self._limiter_swept_at >= LIMITER_SWEEP:
            await self._limiter.sweep(now)  # a chat messaged once is not remembered forever
            self._not_before = {k: t for k, t in self._not_before.items() if t > now}
            self._limiter_swept_at = now
        if self._claiming is not None and self._claiming.done():
            claiming, self._claiming = self._claiming, None
            claiming.result()  # a failed claim fails the loop, as one made in line would
        due = self._next_due is not None and self._next_due <= now
        if (
            self._claiming is None
            and self.held < self._batch
            and (self._new_work or due or (self._more_due and self.held < self._batch // 2))
        ):
            self._new_work = False
            if self.held:  # rows to send meanwhile: the claim must not hold them back
                self._claiming = asyncio.create_task(self._claim_beside(), name="claim")
            else:
                await self._claim(now)
                now = self._clock.now()  # the claim took a while: judge limits on fresh time
        elif self._claiming is None and self._new_work and self.held >= self._batch:
            # the batch is full of a broadcast's rows: the desk's (lane 0) do not wait for a
            # slot, they are claimed beyond it
            self._new_work = False
            self._claiming = asyncio.create_task(
                self._claim_beside(service_only=True), name="claim service"
            )
        # the next row's due time matters only while one could be claimed: with the batch full
        # (or a claim running) a send's answer, or the claim's end, wakes the loop; looking at
        # a due time already past would only spin
        wake_at = self._next_due if self._claiming is None and self.held < self._batch else None
        if self._settling_fails:  # sent now, it could not be settled either: wait
            wake_at = now + timedelta(seconds=1)
        else:
            wake_at = await self._dispatch(now, wake_at)
        # another instance may have queued rows without waking us: look again now and then
        fallback = now + POLL_FALLBACK
        wake_at = fallback if wake_at is None else min(wake_at, fallback)
        if self._lease_renewed_at is not None and self.held:
            renew_at = self._lease_renewed_at + self._lease / 3
            wake_at = renew_at if wake_at is None else min(wake_at, renew_at)
        return wake_at

    # -- internals ----------------------------------------------------------------------------
    async def _dispatch(self, now: datetime, wake_at: datetime | None) -> datetime | None:
        """Sends the head of each lane the limits let go now (one question to the gate for
        all of them); returns the earliest time one held back may go."""
        # service rows first: 30 a second in all go to the desk's chats before a broadcast's
        wanted: list[tuple[Lane, Job]] = []
        for key in sorted(self._queues, key=lambda k: self._queues[k][0].lane):
            if key in self._inflight:
                continue
            job = self._queues[key][0]
            at = self._not_before.get(key)
            if at is not None and at > now:
                wake_at = at if wake_at is None else min(wake_at, at)
                continue
            wanted.append((key, job))
        if not wanted:
            return wake_at
        answers = await self._limiter.acquire([(k[0], j.chat_kind) for k, j in wanted], now)
        for (key, job), at in zip(wanted, answers, strict=True):
            queue = self._queues.get(key)
            if at is not None:
                self._not_before[key] = at
                wake_at = at if wake_at is None else min(wake_at, at)
                if job.id not in self._waited:  # counted once per row, however long it waits
                    self._waited.add(job.id)
                    self._observe_wait()
                continue
            self._not_before.pop(key, None)
            if queue is None or queue[0] is not job or key in self._inflight:
                await self._limiter.release(key[0], job.chat_kind)  # changed while we asked
                continue
            self._waited.discard(job.id)
            job = _take(queue)
            if not queue:
                del self._queues[key]
            self._inflight_ids[key] = job.ids
            self._inflight[key] = asyncio.create_task(self._deliver(job), name=f"deliver-{job.id}")
        return wake_at

    async def _claim(self, now: datetime, *, service_only: bool = False) -> None:
        async with self._db.transaction() as session:
            repo = OutboxRepository(session)
            limit = SERVICE_CLAIM if service_only else self._batch - self.held
            rows = await repo.claim(
                now, now + self._lease, limit, max_lane=SERVICE_LANE if service_only else None
            )
            self._next_due = await repo.next_due_at()
        # fewer than asked: nothing else is due now; what is queued later wakes the loop (this
        # process) or falls due (``next_due``, or the fallback poll for other processes)
        if not service_only:
            self._more_due = len(rows) == limit
        held = self._held_ids()
        for row in rows:
            if row.id not in held:  # ours already (its lease ran out while the clock jumped)
                self._queues.setdefault(lane(row.chat_id, row.chat_kind), deque()).append(
                    Job.of(row)
                )
        if rows:
            self._lease_renewed_at = now
            log.debug("claimed %d outbox rows", len(rows))

    async def _claim_beside(self, *, service_only: bool = False) -> None:
        try:
            await self._claim(self._clock.now(), service_only=service_only)
        finally:
            self._wake.set()  # the next step dispatches what came (or raises what failed)

    async def _renew_leases(self, now: datetime) -> None:
        if self._lease_renewed_at is None or now - self._lease_renewed_at < self._lease / 3:
            return
        ids = list(self._held_ids())
        if ids:
            async with self._db.transaction() as session:
                await OutboxRepository(session).hold(ids, now + self._lease)
        self._lease_renewed_at = now

    def _held_ids(self) -> set[int]:
        ids = {job.id for queue in self._queues.values() for job in queue}
        for inflight in self._inflight_ids.values():
            ids.update(inflight)
        return ids

    async def _deliver(self, job: Job) -> None:
        try:
            try:
                outcome = await self._sender.send(
                    job.chat_id, job.chat_kind, job.method, job.payload
                )
            except Exception as error:  # a bug: an attempt like any other, not an endless loop
                log.exception("sending outbox row %d failed unexpectedly", job.id)
                reason = self._sender.redact(str(error))[:150]  # before it is cut
                outcome = RetryLater(
                    UNEXPECTED_RETRY, f"unexpected {type(error).__name__}: {reason}"
                )
            finally:  # Telegram counted it somewhere between dispatch and now
                await self._complete(job)
            self._observe(result_name(outcome))
            if job.parts:  # one answer for every row the call stood for
                await asyncio.gather(*(self._settled(part, outcome) for part in job.parts))
            else:
                await self._settled(job, outcome)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug must not kill the loop: the lease returns the row later
            log.exception("settling outbox row %d failed unexpectedly", job.id)
        finally:
            self._inflight.pop(lane(job.chat_id, job.chat_kind), None)
            self._inflight_ids.pop(lane(job.chat_id, job.chat_kind), None)
            self._wake.set()

    async def _complete(self, job: Job) -> None:
        try:
            await self._limiter.complete(job.chat_id, job.chat_kind, self._clock.now())
        except Exception:  # the gate's own fault: the call is settled all the same
            log.exception("the limits could not count outbox row %d", job.id)

    async def _settled(self, job: Job, outcome: Outcome) -> None:
        """Until the outcome is settled, together with the others that came back meanwhile."""
        answer = Answer(job, outcome, self._clock.now(), asyncio.get_running_loop().create_future())
        self._answers.append(answer)
        if self._settler is None:
            self._settler = asyncio.create_task(self._settle_answers(), name="settle")
        await answer.done

    async def _settle_answers(self) -> None:
        """Settles the answers that came back, a batch per transaction, until none is left."""
        try:
            while self._answers:
                if len(self._answers) < min(SETTLE_BATCH, self.held):
                    await asyncio.sleep(SETTLE_LINGER)  # real time: a few more come back
                batch = self._answers[:SETTLE_BATCH]
                del self._answers[:SETTLE_BATCH]
                await self._settle_batch(batch)
        finally:
            self._settler = None

    async def _settle_batch(self, batch: list[Answer]) -> None:
        """Settles ``batch`` in one transaction; while the database is down the batch waits
        and is tried again (an answer given up would make its row go out again after the
        lease), and nothing new is sent (:attr:`_settling_fails`)."""
        failures = 0
        while True:
            try:
                await self._settle_once(batch)
            except Exception as error:
                if not is_infrastructure_error(error) or self._aborted:
                    raise
                failures += 1
                self._settling_fails = True
                log.warning(
                    "delivery: settling %d answers failed (%s); trying again",
                    len(batch),
                    describe(error),
                )
                await asyncio.sleep(min(2.0 ** (failures - 1), 30.0))  # real time
                continue
            self._settling_fails = False
            return

    async def _settle_once(self, batch: list[Answer]) -> None:
        try:
            async with self._db.transaction() as session:
                repo = OutboxRepository(session)
                await repo.load([answer.job.id for answer in batch])
                effects: list[Callable[[], None]] = []
                for answer in batch:
                    await self._settle(session, repo, answer, effects)
        except Exception as error:
            if is_infrastructure_error(error):
                raise  # the database's fault, not an answer's: the batch is tried again
            if len(batch) > 1:  # one of them failed the transaction: each alone, only it is lost
                for answer in batch:
                    await self._settle_batch([answer])
                return
            if not batch[0].done.done():
                batch[0].done.set_exception(error)
            return
        for effect in effects:  # what the loop keeps in memory follows what was committed
            effect()
        # settling may have queued more (a join request's approval after its DM, the team told
        # of a refused message): look for it now, not at the next poll
        self.wake()
        for answer in batch:
            if not answer.done.done():
                answer.done.set_result(None)

    async def _settle(
        self,
        session: AsyncSession,
        repo: OutboxRepository,
        answer: Answer,
        effects: list[Callable[[], None]],
    ) -> None:
        job, outcome, now = answer.job, answer.outcome, answer.at
        if isinstance(outcome, Sent | SentUnknown):
            # an unreadable answer came after the call was made: its effects are those of a
            # send (most likely it went), and it is never made again
            if isinstance(outcome, Sent):
                row = await repo.mark_sent(job.id, now, outcome.message_id)
            else:
                reason = outcome.reason
                row = await repo.mark_sent_unknown(job.id, now, reason)
                effects.append(
                    lambda: log.warning("outbox row %d sent, result unknown: %s", job.id, reason)
                )
            if row is not None:
                for hook in self._hooks:
                    await hook.on_sent(session, row, now)
                await self._follow_up(repo, job, now)
            return
        if isinstance(outcome, RetryLater):
            attempts = job.attempts + (0 if outcome.flood else 1)
            if attempts >= self._max_attempts:
                outcome = Failed(f"gave up after {attempts} attempts: {outcome.reason}")
            else:
                # 429: exactly retry_after; a network or server fault: back off, doubling
                wait = (
                    outcome.seconds
                    if outcome.flood
                    else min(
                        outcome.seconds * 2 ** max(0, attempts - 1), MAX_BACKOFF.total_seconds()
                    )
                )
                until = now + timedelta(seconds=wait)
                await repo.hold_for_retry(
                    job.id,
                    due_at=until,
                    lease_until=until + self._lease,
                    error=outcome.reason,
                    attempts=attempts,
                )
                retried = Job(
                    job.id, job.chat_id, job.chat_kind, job.method, job.payload, attempts, job.lane
                )
                effects.append(
                    lambda: self._retry(retried, until, outcome.reason, flood=outcome.flood)
                )
                return
        if isinstance(outcome, Unreachable):
            row = await repo.mark_failed(job.id, outcome.reason)
            dropped = {other.id for other in self._queues.get(lane(job.chat_id, job.chat_kind), ())}
            for other_id in dropped:
                await repo.mark_failed(other_id, f"member unreachable: {outcome.reason}")
            await repo.fail_pending_for_chat(job.chat_id, f"member unreachable: {outcome.reason}")
            if row is not None:
                for hook in self._hooks:
                    await hook.on_unreachable(session, row, now)
                await self._follow_up(repo, job, now)
            effects.append(lambda: self._drop(job.chat_id, dropped, outcome.reason))
            return
        row = await repo.mark_failed(job.id, outcome.reason)
        if row is not None:
            for hook in self._hooks:
                await hook.on_failed(session, row, now)
            await self._follow_up(repo, job, now)
        effects.append(lambda: log.warning("outbox row %d failed: %s", job.id, outcome.reason))

    def _retry(self, job: Job, until: datetime, reason: str, *, flood: bool) -> None:
        """Back at the head of its chat's queue (order in the chat is kept), not before
        ``until``. Only a 429 on a call that sends no message holds every chat back (a
        network fault on a ban is that call's backoff, not the bot's)."""
        key = lane(job.chat_id, job.chat_kind)
        self._not_before[key] = max(until, self._not_before.get(key, until))
        everyone = flood and penalizes_everyone(job.chat_kind)
        task = asyncio.create_task(
            self._limiter.penalize(job.chat_id, until, everyone=everyone),
            name=f"penalize-{job.chat_id}",
        )
        self._penalties.add(task)  # kept until done (a task nobody holds may be collected)
        task.add_done_callback(self._penalties.discard)
        self._queues.setdefault(lane(job.chat_id, job.chat_kind), deque()).appendleft(job)
        log.info("outbox row %d: %s", job.id, reason)

    def _drop(self, chat_id: int, dropped: set[int], reason: str) -> None:
        """The chat is unreachable: what was queued for it is settled as failed."""
        key = lane(chat_id, "private")
        queue = self._queues.get(key)
        if queue is not None:
            kept = deque(job for job in queue if job.id not in dropped)
            if kept:
                self._queues[key] = kept
            else:
                del self._queues[key]
        log.info("chat %d unreachable: %s", chat_id, reason)

    async def _follow_up(self, repo: OutboxRepository, job: Job, now: datetime) -> None:
        """A row may carry the call to make once it is settled (approve a join request after
        the DM that may only go before it)."""
        then = job.payload.get("_then")
        if isinstance(then, dict):
            await repo.enqueue(
                key=then["key"],
                chat_id=then["chat_id"],
                chat_kind=ChatKind(then["chat_kind"]),
                purpose=then["purpose"],
                method=then["method"],
                payload=then["payload"],
                now=now,
            )

    async def _sleep(self, until: datetime | None) -> None:
        await sleep_or_wake(self._clock, until, self._wake)

    async def _shutdown(self) -> None:
        if self._aborted:
            return
        if self._claiming is not None:  # what it claims is handed back below with the rest
            with contextlib.suppress(Exception):
                await self._claiming
        if self._inflight:
            with contextlib.suppress(Exception):
                await asyncio.wait(list(self._inflight.values()), timeout=10)
        ids = [job.id for queue in self._queues.values() for job in queue]
        self._queues.clear()
        if ids:
            with contextlib.suppress(Exception):
                async with self._db.transaction() as session:
                    await OutboxRepository(session).release(ids)


def _take(queue: deque[Job]) -> Job:
    """The next call of a lane. In a chat's call lane, its queued ``deleteMessage`` rows go
    first (spam being cleaned up matters more than the bans and mutes that follow it), up to
    :data:`DELETE_BATCH` of them as one ``deleteMessages``; the other rows keep their order."""
    head = queue[0]
    if head.chat_kind != "api" or not any(job.method == "deleteMessage" for job in queue):
        return queue.popleft()
    parts: list[Job] = []
    kept: list[Job] = []
    for job in queue:
        if job.method == "deleteMessage" and len(parts) < DELETE_BATCH:
            parts.append(job)
        else:
            kept.append(job)
    queue.clear()
    queue.extend(kept)
    if len(parts) == 1:
        return parts[0]
    ids = list(dict.fromkeys(part.payload.get("message_id") for part in parts))
    first = parts[0]
    return Job(
        first.id,
        first.chat_id,
        first.chat_kind,
        "deleteMessages",
        {"message_ids": ids},
        max(part.attempts for part in parts),
        first.lane,
        tuple(parts),
    )
