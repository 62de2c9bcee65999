"""A configuration file over the size cap is refused before it is parsed, in one line naming the
file and the cap: ``check-config`` exits 2, ``run`` and a reload refuse it the same way."""

from __future__ import annotations

from pathlib import Path

import pytest

import bot.config.loader as loader
from bot.__main__ import EXIT_CONFIG, main
from bot.config import load_config
from bot.errors import ConfigError
from tests.conftest import CONFIG_YAML


def _padded(path: Path, size: int) -> Path:
    """A valid config padded with comments to exactly ``size`` bytes."""
    text = CONFIG_YAML.encode()
    filler = b"# padding" + b"." * 90 + b"\n"
    body = text + filler * ((size - len(text) - 1) // len(filler))
    path.write_bytes(body + b"#" * (size - len(body) - 1) + b"\n")
    assert path.stat().st_size == size
    return path


def test_a_file_over_the_cap_is_refused_unparsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = _padded(tmp_path / "community.yaml", loader.MAX_CONFIG_BYTES + 1)

    def no_parsing(*_: object) -> None:
        raise AssertionError("the YAML was parsed")

    monkeypatch.setattr(loader, "read_yaml", no_parsing)
    with pytest.raises(ConfigError) as caught:
        load_config(big)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{big}: ") and "2 MB (2097152 bytes)" in message


def test_check_config_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = _padded(tmp_path / "community.yaml", loader.MAX_CONFIG_BYTES + 4096)
    assert main(["check-config", str(big)]) == EXIT_CONFIG == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(big) in err and "2 MB" in err


def test_the_cap_is_a_byte_count_and_a_file_at_it_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    size = len(CONFIG_YAML.encode()) + 200
    monkeypatch.setattr(loader, "MAX_CONFIG_BYTES", size)
    assert load_config(_padded(tmp_path / "at.yaml", size)).community_ids
    with pytest.raises(ConfigError, match=f"larger than {size} bytes"):
        load_config(_padded(tmp_path / "over.yaml", size + 1))


def test_an_endless_file_is_not_read_to_its_end() -> None:
    with pytest.raises(ConfigError, match="larger than"):
        load_config(Path("/dev/zero"))
