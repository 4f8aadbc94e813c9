"""One import namespace when installed (issue 14): pyproject.toml installs pipeline/, tasks/,
reports/ and schema/ as docpost.<folder> and lists every package by hand (setuptools cannot
find packages under a prefix), so a new folder with an __init__.py must be listed too, or the
wheel ships without it and only the plain install would notice."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("pipeline", "tasks", "reports", "schema")


def packages_on_disk() -> set[str]:
    return {
        "docpost." + ".".join(init.parent.relative_to(ROOT).parts)
        for folder in FOLDERS
        for init in (ROOT / folder).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }


def test_every_package_folder_is_installed_under_docpost() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert setuptools["package-dir"] == {f"docpost.{f}": f for f in FOLDERS}
    assert set(setuptools["packages"]) == packages_on_disk()


def test_the_check_sees_the_package_folders() -> None:
    """Negative control: the folders are found, nested ones included, so the equality above
    cannot hold by comparing two empty sets."""
    found = packages_on_disk()
    assert {"docpost.pipeline", "docpost.pipeline.entrypoints.http", "docpost.schema"} <= found
    assert "docpost.docpost" not in found
