"""``check-config`` runs the copy review on the operator's own templates."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.__main__ import main
from tests.conftest import CONFIG_YAML


def test_check_config_reviews_the_operators_templates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "tpl" / "zh").mkdir(parents=True)
    (tmp_path / "tpl" / "zh" / "promo.html.j2").write_text("全网最低价，国家级品质", "utf-8")
    (tmp_path / "tpl" / "zh" / "plain.html.j2").write_text("最近第一次上新", "utf-8")
    config = tmp_path / "community.yaml"
    config.write_text(CONFIG_YAML + "templates: tpl\n", "utf-8")
    assert main(["check-config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "copy review: zh/promo.html.j2: warning: 最低价, 国家级" in out
    assert "plain.html.j2" not in out
    config.write_text(CONFIG_YAML + "templates: tpl\nprivacy:\n  review_block: [国家级]\n", "utf-8")
    assert main(["check-config", str(config)]) == 1
    assert "zh/promo.html.j2: blocked: 国家级" in capsys.readouterr().out
