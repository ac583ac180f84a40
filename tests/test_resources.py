"""Data files outside the packages (broker/resources.py): a checkout's own, else a wheel's copy."""

from __future__ import annotations

from broker import resources


def test_the_checkout_comes_first_then_the_installed_copy(tmp_path, monkeypatch):
    checkout, installed = tmp_path / "src", tmp_path / "share"
    (installed / "schemas").mkdir(parents=True)
    monkeypatch.setattr(resources, "SOURCE_ROOT", checkout)
    monkeypatch.setattr(resources, "INSTALLED", installed)
    assert resources.data_dir("schemas") == installed / "schemas"
    (checkout / "schemas").mkdir(parents=True)
    assert resources.data_dir("schemas") == checkout / "schemas"
    # Neither: the checkout's path, so an error names where the files were expected.
    assert resources.data_dir("config") == checkout / "config"


def test_pyproject_installs_every_file_the_code_reads():
    import tomllib

    root = resources.SOURCE_ROOT
    data = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["data-files"]
    shipped = {f for files in data.values() for f in files}
    expected = {str(p.relative_to(root)) for d in ("schemas", "config") for p in (root / d).iterdir() if p.is_file()}
    assert shipped == expected
