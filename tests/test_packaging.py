"""The wheel: one top-level package carrying templates, static files, migrations, plugin.toml.

The wheel is built from the checkout, installed into a fresh virtual environment (its
dependencies borrowed from the running one through a path file, so nothing is downloaded),
and imported from there, outside the repository.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the checkout (a stale ``build/`` folder cannot leak in)."""
    source = tmp_path_factory.mktemp("src") / "responso-chat"
    shutil.copytree(
        REPO, source,
        ignore=shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info",
                                      "__pycache__", "*.db"),
    )
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out)],
        cwd=source, check=True, capture_output=True,
    )
    (built,) = out.glob("responso_chat-*.whl")
    return built


def test_wheel_contents(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names}
    assert {t for t in top_level if not t.endswith(".dist-info")} == {"responso_chat"}
    for expected in (
        "responso_chat/plugin.toml",
        "responso_chat/blueprints/__init__.py",
        "responso_chat/blueprints/admin.py",
        "responso_chat/migrations/env.py",
        "responso_chat/migrations/script.py.mako",
        "responso_chat/templates/responso_chat/layout.html",
        "responso_chat/templates/responso_chat/admin/chat_list.html",
        "responso_chat/static/responso_chat/app.css",
        "responso_chat/demo/templates/demo/base.html",
        "responso_chat/demo/templates/demo/mail.html",
    ):
        assert expected in names, expected
    assert any(n.startswith("responso_chat/migrations/versions/2") for n in names)
    templates = [n for n in names if n.startswith("responso_chat/templates/")]
    in_repo = [p for p in (REPO / "responso_chat" / "templates").rglob("*")
               if p.suffix in (".html", ".txt")]  # the e-mails' plain text parts too
    assert len(templates) == len(in_repo), "a template folder is missing from package_data"
    static = [n for n in names if n.startswith("responso_chat/static/")]
    assert len(static) == len([p for p in (REPO / "responso_chat" / "static").rglob("*")
                               if p.is_file()]), "a static file is missing from package_data"


def test_installed_wheel_imports_blueprints_and_migrations(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
    )
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    # Dependencies only: a plain path line does not run the editable-install hook.
    (site / "zz_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    script = textwrap.dedent(
        f"""
        import importlib, tomllib
        from importlib.resources import files
        import responso_chat, responso_chat.blueprints, responso_chat.migrations
        assert responso_chat.__file__.startswith({str(site)!r}), responso_chat.__file__
        assert responso_chat.blueprints.__file__.startswith({str(site)!r})
        manifest = tomllib.loads(files("responso_chat").joinpath("plugin.toml").read_text())
        assert manifest["plugin"]["version"] == responso_chat.__version__
        versions = files("responso_chat.migrations").joinpath("versions")
        scripts = [p.name[:-3] for p in versions.iterdir() if p.name[0].isdigit()]
        for name in scripts:
            module = importlib.import_module("responso_chat.migrations.versions." + name)
            assert module.upgrade and module.downgrade
        from responso_chat.demo.app import create_app
        from responso_chat import migrations
        app = create_app({{"SQLALCHEMY_DATABASE_URI": "sqlite:///{tmp_path}/w.db"}})
        with app.app_context():
            migrations.upgrade()
            assert migrations.current() == migrations.head()
        page = app.test_client().get("/login")
        assert page.status_code == 200
        print("ok", len(scripts))
        """
    )
    result = subprocess.run(
        [str(python), "-c", script], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")
