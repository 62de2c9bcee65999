"""The dashboard's sources funnel, member search and member card, against the small world of
tests/dashboard_world.py (both databases)."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.repositories import TagRepository
from bot.services.dashboard import members as members_module
from bot.services.dashboard.member_card import MemberCards
from bot.services.dashboard.members import MemberFilter, MemberSearch
from bot.services.dashboard.sources import SourcesQuery
from bot.services.members.segments import SegmentService
from bot.services.members.tag_admin import TagAdminService
from sop.clock import ManualClock
from tests.dashboard_world import WORLD, Someone, build_world, world_config


def _expected(people: list[Someone]) -> dict[str, object]:
    return {
        "joined": len(people),
        "started": sum(p.started for p in people),
        "gifted": sum(p.gifted for p in people),
        "redeemed": sum(p.redeemed for p in people),
        "ordered": sum(p.ordered for p in people),
        "retained": {
            n: (
                sum(p.days_ago >= n for p in people),
                sum(p.days_ago >= n and (p.spoke_after or 0) >= n for p in people),
            )
            for n in (7, 30)
        },
    }


@pytest.mark.parametrize("days", [90, 30])
async def test_the_funnel_by_source_counts_each_step_and_who_stayed(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock, days: int
) -> None:
    await build_world(sessions, clock.now())
    async with sessions() as session:
        report = await SourcesQuery(session, world_config()).funnel(days, clock.now())
    inside = [p for p in WORLD if p.days_ago < days]
    by_source = {f.source: f for f in report.sources}
    assert set(by_source) == {p.source or "unknown" for p in inside}
    for name, funnel in by_source.items():
        want = _expected([p for p in inside if (p.source or "unknown") == name])
        got = {
            **dict(funnel.steps()),
            "retained": {
                n: (funnel.retained(n).eligible, funnel.retained(n).active) for n in (7, 30)
            },
        }
        assert got == want, name
    assert report.total.joined == len(inside)
    assert [f.joined for f in report.sources] == sorted(
        (f.joined for f in report.sources), reverse=True
    )


async def _search(
    sessions: async_sessionmaker[AsyncSession], wanted: MemberFilter, page: int = 1
) -> tuple[list[int], bool, int]:
    async with sessions() as session:
        search = MemberSearch(session, world_config())
        found = await search.page(wanted, page)
        total = await search.count(wanted)
    return [r.user_id for r in found.rows], found.has_more, total


def _newest_first(people: list[Someone]) -> list[int]:
    return [p.user_id for p in sorted(people, key=lambda p: (p.days_ago, -p.user_id))]


async def test_members_are_found_by_name_username_or_id_and_filtered(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    await build_world(sessions, clock.now())
    cases = [
        (MemberFilter(query="an"), [p for p in WORLD if p.name.lower().startswith("an")]),
        (MemberFilter(query="DA"), [p for p in WORLD if p.name.lower().startswith("da")]),
        (MemberFilter(query="@"), list(WORLD)),
        (MemberFilter(query="@BOB"), [p for p in WORLD if (p.username or "").startswith("bob")]),
        (MemberFilter(query="li"), [p for p in WORLD if (p.username or "").startswith("li")]),
        (MemberFilter(query="韩梅"), [p for p in WORLD if p.name.startswith("韩梅")]),
        (MemberFilter(query="梅"), []),
        (MemberFilter(query="5"), [p for p in WORLD if p.user_id == 5]),
        (MemberFilter(query="%"), []),
        (MemberFilter(tag="vip"), [p for p in WORLD if "vip" in p.tags]),
        (MemberFilter(tier="potential"), [p for p in WORLD if "tier:potential" in p.tags]),
        (MemberFilter(stage="new"), [p for p in WORLD if p.stage == "new"]),
        (MemberFilter(source="src_kol"), [p for p in WORLD if p.source == "src_kol"]),
        (
            MemberFilter(source="src_ad", stage="silent"),
            [p for p in WORLD if p.source == "src_ad" and p.stage == "silent"],
        ),
        (MemberFilter(stage="nonsense"), list(WORLD)),
    ]
    for wanted, people in cases:
        ids, more, total = await _search(sessions, wanted)
        assert (ids, more, total) == (_newest_first(people), False, len(people)), wanted


async def test_member_pages_follow_each_other(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await build_world(sessions, clock.now())
    monkeypatch.setattr(members_module, "PER_PAGE", 3)
    everyone = _newest_first(list(WORLD))
    pages = [await _search(sessions, MemberFilter(), n) for n in (1, 2, 3)]
    assert [ids for ids, _, _ in pages] == [everyone[0:3], everyone[3:6], everyone[6:]]
    assert [more for _, more, _ in pages] == [True, True, False]
    async with sessions() as session:
        search = MemberSearch(session, world_config())
        assert await search.count(MemberFilter(), most=3) == 3  # "3+" on the page
        assert await search.count(MemberFilter(), most=100) == len(WORLD)


async def test_the_member_card_shows_the_history_and_edits_tags_as_tag_does(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    await build_world(sessions, clock.now())
    config = world_config()
    now = clock.now()
    async with sessions() as session, session.begin():
        cards = MemberCards(
            session, config, TagAdminService(session, config, SegmentService(session, config))
        )
        ann = await cards.card(1, now)
        assert ann is not None and await cards.card(999, now) is None
        assert (ann.name, ann.username, ann.source, ann.stage) == ("Ann", "ann", "src_ad", "active")
        assert [t.tag for t in ann.tags] == ["vip"]
        assert [(e.tag, e.action, e.by) for e in ann.events] == [("vip", "added", "op:1001")]
        assert [(c.campaign, c.status, c.code_hint) for c in ann.coupons] == [
            ("newcomer", "redeemed", "NEWCO…")
        ]
        assert [(o.order_id, o.amount_minor) for o in ann.orders] == [("o-1", 12_300)]
        assert [s.community for s in ann.stints] == ["Demo community"]
        assert "wholesale" in ann.editable_tags
        added = await cards.edit_tag(2, "add", "wholesale", 1001, now)
        again = await cards.edit_tag(2, "add", "wholesale", 1001, now)
        unknown = await cards.edit_tag(2, "add", "no-such-tag", 1001, now)
        nobody = await cards.edit_tag(999, "add", "vip", 1001, now)
        bad = await cards.edit_tag(2, "drop", "vip", 1001, now)
    assert (added.outcome, added.changed, again.changed) == ("tag_done", True, False)
    assert (unknown.outcome, nobody.outcome, bad.outcome) == (
        "tag_unknown",
        "tag_no_member",
        "tag_usage",
    )
    async with sessions() as session, session.begin():
        history = await TagRepository(session).history(2)
        assert [(e.tag, e.action, e.by) for e in history] == [("wholesale", "added", "op:1001")]
        cards = MemberCards(
            session, config, TagAdminService(session, config, SegmentService(session, config))
        )
        removed = await cards.edit_tag(2, "remove", "wholesale", 1001, now)
        bob = await cards.card(2, now)
    assert removed.changed and bob is not None and bob.tags == []
    assert (bob.events[0].tag, bob.events[0].action) == ("wholesale", "removed")
