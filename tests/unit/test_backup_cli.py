"""``sopbot backup`` from the command line: a file written, or one line and exit 2."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.__main__ import main


def test_backup_writes_a_copy_or_says_why_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "sopbot.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (x)")
        conn.execute("INSERT INTO t VALUES (1)")
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{db}")
    target = tmp_path / "copy.db"
    assert main(["backup", str(target)]) == 0
    with sqlite3.connect(target) as conn:
        assert conn.execute("SELECT x FROM t").fetchall() == [(1,)]
    assert "backup written" in capsys.readouterr().out
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["backup", str(blocker / "no" / "b.db")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot write the backup") and len(err.splitlines()) == 1
    assert main(["restore", str(tmp_path / "missing.db")]) == 2
    assert "no such backup file" in capsys.readouterr().err
