"""Every integer column of the schema is classified for the erasure's pseudonymisation
(bot/db/repositories/pseudonyms.py)."""

from bot.db.repositories.pseudonyms import CHATS, PEOPLE, id_columns, unclassified


def test_every_integer_column_is_classified() -> None:
    """A new integer column says whether it may hold a person's id (PEOPLE, CHATS) or never
    does (NOT_PEOPLE): else an erasure could leave the id in it."""
    assert unclassified() == []


def test_the_member_row_moves_first_and_every_user_id_is_covered() -> None:
    columns = id_columns()
    assert columns[0][0].name == "members"
    assert {c.name for _, c in columns} <= PEOPLE | CHATS
    assert {t.name for t, c in columns if c.name == "user_id"} >= {
        "members",
        "memberships",
        "tag_events",
        "coupons",
        "orders",
        "audit_log",
    }
