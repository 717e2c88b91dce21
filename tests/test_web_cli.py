"""``crisislab serve`` on the command line: its help, its checks, a missing extra."""

from __future__ import annotations

import sys

import pytest

from tests.test_extras import one_line, run_app


def test_serve_without_the_web_extra_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if it were not installed
    one_line(run_app("serve"), "web")


def test_serve_checks_its_port_before_starting() -> None:
    result = run_app("serve", "--port", "70000")
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "--port must be at most 65,535" in result.output  # type: ignore[attr-defined]


def test_serve_reports_a_database_it_cannot_open(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("uvicorn")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run_app("serve", "--db", f"sqlite:///{blocker}/class.db")
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert "cannot open the database" in result.output  # type: ignore[attr-defined]
