"""The launch path: where the book lives is written once (``mlbook/project.py``); Colab's first cells and Binder's
environment work from a clean environment, offline, with the package built from this checkout.

How the Colab test stands in for Colab (no network, no Colab): a clean virtual environment whose site-packages
point (through a ``.pth`` line) at a copy of this environment's site-packages without ``mlbook``: the image's
preinstalled torch, numpy, matplotlib, scikit-learn... and no ``mlbook`` (checked). The notebook's cells run in
that environment's Python, turned into Python by IPython's own input transformer, as a kernel does; the
``get_ipython()`` they then call runs ``%pip install`` as ``python -m pip install --no-index``, with the
``mlbook @ git+https://github.com/<repository>@<ref>`` requirement (checked to be exactly the project's) replaced by
the wheel built from this checkout. ``google.colab`` is a stub module in ``sys.modules``, and the only address
``urllib`` may open is the repository archive ``fetch_public_tests`` asks for, served from this checkout.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import textwrap
import types
from pathlib import Path

import pytest

import mlbook
from mlbook import project

REPO = Path(__file__).resolve().parents[1]
#: What a learner needs on Binder, besides what the package itself depends on.
LEARNER_EXTRAS = {"ipywidgets", "otter-grader"}
#: Never in the learner's environment: the book toolchain, test tools, linters and reference peers.
NOT_FOR_LEARNERS = {"jupyter-book", "jupyter-cache", "nbclient", "pytest", "pytest-xdist", "pytest-randomly", "nbval",
                    "ruff", "higher", "torchopt", "torchjd", "skada", "pot", "build"}


def _load_sync_tool():
    spec = importlib.util.spec_from_file_location("sync_project_links", REPO / "tools" / "sync_project_links.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


sync = _load_sync_tool()


def _notebooks(pattern: str) -> list[Path]:
    return sorted(p for p in REPO.glob(pattern) if "_build" not in p.parts and ".ipynb_checkpoints" not in p.parts)


# ------------------------------------------------------------------------------------------------- one place


def test_every_spelling_of_the_repository_is_derived_from_mlbook_project():
    """``tools/sync_project_links.py --check`` passes: nothing stale, and no tracked file outside
    ``mlbook/project.py`` spells the repository in Python or in a file the tool does not write."""
    plan = sync.plan(REPO)
    assert plan.problems == []
    assert plan.stale() == [], "stale: run python tools/sync_project_links.py"


def test_only_the_project_module_spells_the_repository_in_code():
    spelled = re.compile(re.escape(project.REPOSITORY), re.IGNORECASE)
    offenders = [
        path for path in sync.tracked_files(REPO)
        if path.endswith(".py") and path != sync.PROJECT_FILE and spelled.search((REPO / path).read_text())
    ]
    assert offenders == []
    from mlbook import results
    from mlbook.grading import colab, sets

    assert results.REPOSITORY_RAW == project.RAW_URL
    assert colab.ARCHIVE_URL.format(repository=colab.REPOSITORY, ref=colab.REF) == project.ARCHIVE_URL
    assert sets.launch_links("ch01") == {
        "colab": project.colab_url("exercises/ch01/ch01_exercises.ipynb"),
        "binder": project.binder_url("exercises/ch01/ch01_exercises.ipynb"),
        "github": project.github_url("exercises/ch01/ch01_exercises.ipynb"),
    }


def test_the_ref_is_main_or_this_versions_release_tag():
    version = re.search(r'^version = "([^"]+)"', (REPO / "pyproject.toml").read_text(), re.MULTILINE)[1]
    assert mlbook.__version__ == version
    assert project.REF in ("main", f"v{version}")


def test_public_tests_are_fetched_from_the_ref_of_the_pages(monkeypatch, tmp_path):
    from mlbook.grading import colab

    asked = []

    def refuse(url, timeout):
        asked.append(url)
        raise OSError("no network in tests")

    monkeypatch.setattr(colab.urllib.request, "urlopen", refuse)
    with pytest.raises(OSError):
        colab.fetch_public_tests("ch01", tmp_path)
    assert asked == [project.ARCHIVE_URL]


def test_launch_buttons_open_the_ref_of_the_pages():
    import yaml

    config = yaml.safe_load((REPO / "_config.yml").read_text())
    assert config["repository"]["url"] == project.GITHUB_URL
    assert config["repository"]["branch"] == project.REF


@pytest.mark.parametrize(
    "pattern", ["book/**/*.ipynb", "exercises/*/*_exercises.ipynb", "exercises/*/source/*_exercises.ipynb"]
)
def test_every_notebook_has_the_install_cell_right_under_its_title(pattern):
    notebooks = _notebooks(pattern)
    assert notebooks
    for path in notebooks:
        cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] != "raw"]  # otter's config
        code = [i for i, c in enumerate(cells) if c["cell_type"] == "code"]
        if not code:
            continue
        where = path.relative_to(REPO)
        assert cells[0]["cell_type"] == "markdown" and "".join(cells[0]["source"]).startswith("# "), where
        assert code[0] == 1, f"{where}: the install cell must come right after the title"
        assert "".join(cells[1]["source"]) == project.INSTALL_CELL, where


def _fake_project(repository: str, ref: str):
    source = (REPO / sync.PROJECT_FILE).read_text()
    source = re.sub(r'^REPOSITORY = ".*"$', f'REPOSITORY = "{repository}"', source, flags=re.MULTILINE)
    source = re.sub(r'^REF = ".*"$', f'REF = "{ref}"', source, flags=re.MULTILINE)
    module = types.ModuleType("moved_project")
    exec(compile(source, "moved_project.py", "exec"), module.__dict__)
    return module


def _expand(text: str) -> str:
    """URL prefixes spelled out at run time: this file must not contain them (it is scanned like any other)."""
    return (text.replace("<GH>", "https://" + "github.com").replace("<COLAB>", "https://colab.research.google.com")
            .replace("<BINDER>", "https://mybinder.org"))


def test_a_move_or_a_release_is_written_everywhere_and_nothing_else_is_touched():
    old = project.REPOSITORY
    moved = _fake_project("another-owner/another-name", "v9.9.9")
    text = _expand(textwrap.dedent(f"""\
        pip install "mlbook @ git+<GH>/{old}"
        pip install "mlbook[widgets] @ git+<GH>/{old.upper()}.git@main"  # with ipywidgets
        [Colab](<COLAB>/github/someone/else/blob/master/exercises/ch01/ch01_exercises.ipynb)
        [GitHub](<GH>/{old}/blob/main/exercises/ch01/ch01_exercises.ipynb), the repository {old}.
        [Binder](<BINDER>/v2/gh/{old}/main?labpath=exercises%2Fch01%2Fch01_exercises.ipynb)
        Not ours: <GH>/brendenlake/omniglot/blob/master/python/images_background.zip and
        <GH>/deepmind/learning-to-learn and {old}-fork/x.
        """))
    rewritten = sync.rewrite_text(text, moved, sync.ours_pattern([moved.REPOSITORY, old]))
    new = "another-owner/another-name"
    assert rewritten == _expand(textwrap.dedent(f"""\
        pip install "mlbook @ git+<GH>/{new}@v9.9.9"
        pip install "mlbook[widgets] @ git+<GH>/{new}@v9.9.9"  # with ipywidgets
        [Colab](<COLAB>/github/{new}/blob/v9.9.9/exercises/ch01/ch01_exercises.ipynb)
        [GitHub](<GH>/{new}/blob/v9.9.9/exercises/ch01/ch01_exercises.ipynb), the repository {new}.
        [Binder](<BINDER>/v2/gh/{new}/v9.9.9?labpath=exercises%2Fch01%2Fch01_exercises.ipynb)
        Not ours: <GH>/brendenlake/omniglot/blob/master/python/images_background.zip and
        <GH>/deepmind/learning-to-learn and {old}-fork/x.
        """))
    config = _expand(f"title: x\nrepository:\n  url: <GH>/{old}\n  branch: main  # built from\nhtml:\n  branch: x\n")
    assert sync.rewrite_config(config, moved) == _expand(
        f"title: x\nrepository:\n  url: <GH>/{new}\n  branch: v9.9.9  # built from\nhtml:\n  branch: x\n"
    )


def test_code_that_spells_the_repository_is_reported_and_other_repositories_are_not(tmp_path):
    (tmp_path / "mlbook").mkdir()
    shutil.copy(REPO / sync.PROJECT_FILE, tmp_path / sync.PROJECT_FILE)
    shutil.copy(REPO / "_config.yml", tmp_path / "_config.yml")
    (tmp_path / "ours.py").write_text(f'URL = "{project.colab_url("book/x.ipynb")}"\n')
    (tmp_path / "example.py").write_text(_expand('URL = "<COLAB>/github/example-org/example-book/blob/main/x.ipynb"\n'))
    (tmp_path / "stale.md").write_text(_expand(f"[x](<GH>/{project.REPOSITORY}/blob/old-branch/x.md)\n"))
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    plan = sync.plan(tmp_path)
    assert [p.split(":")[0] for p in plan.problems] == ["ours.py"]
    assert plan.stale() == ["stale.md"] and f"/blob/{project.REF}/x.md" in plan.changes["stale.md"]


# ------------------------------------------------------------------------------------- a clean environment


def _snapshot(dest: Path) -> Path:
    """The files a clone at this commit would have (with this checkout's uncommitted changes)."""
    for path in sync.tracked_files(REPO):
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / path, target)
    return dest


def _clean_env() -> dict[str, str]:
    """No PYTHONPATH, no pip configuration of this machine (its extra indexes and constraints), no index."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON", "VIRTUAL_ENV", "MLBOOK_"))}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
               PYTHONNOUSERSITE="1", PYTHONDONTWRITEBYTECODE="1", OMP_NUM_THREADS="1")
    if os.environ.get("MLBOOK_DATA"):
        env["MLBOOK_DATA"] = os.environ["MLBOOK_DATA"]
    return env


def _image_venv(root: Path) -> Path:
    """A clean virtual environment that sees this one's packages except ``mlbook`` (a stand-in for Colab's
    image, or Binder's base image plus the pinned packages): returns its python."""
    view = root / "image-site-packages"
    view.mkdir(parents=True)
    ours = Path(sysconfig.get_paths()["purelib"])
    for entry in ours.iterdir():
        name = entry.name.lower()
        if name.startswith(("mlbook", "__editable__", "__pycache__")) or name.endswith(".pth"):
            continue
        (view / entry.name).symlink_to(entry)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "venv")], check=True)
    python = root / "venv" / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True, env=_clean_env()).stdout.strip()
    Path(purelib, "preinstalled.pth").write_text(f"{view}\n")
    absent = subprocess.run([python, "-c", "import mlbook"], capture_output=True, text=True, env=_clean_env(), cwd=root)
    assert absent.returncode != 0 and "No module named 'mlbook'" in absent.stderr
    return python


def _build(source: Path, dist: Path) -> tuple[Path, Path]:
    """sdist, then the wheel built from that sdist (as ``python -m build`` does), with setuptools' PEP 517 hooks."""
    def hook(name: str, cwd: Path) -> Path:
        done = subprocess.run(
            [sys.executable, "-c", f"import setuptools.build_meta as b; print(b.{name}({str(dist)!r}))"],
            cwd=cwd, capture_output=True, text=True, env={**_clean_env(), "PYTHONPATH": ""},
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return dist / done.stdout.strip().splitlines()[-1]

    sdist = hook("build_sdist", source)
    with tarfile.open(sdist) as archive:
        archive.extractall(source.parent / "sdist", filter="data")
    (unpacked,) = (source.parent / "sdist").iterdir()
    return sdist, hook("build_wheel", unpacked)


PRELUDE = '''
import email.message, shlex, subprocess, sys, types, urllib.error, urllib.request, urllib.response
from pathlib import Path

from IPython.core.inputtransformer2 import TransformerManager

WHEEL, ARCHIVE_URL, ARCHIVE, REQUIREMENT = sys.argv[1:5]
sys.modules["google.colab"] = types.ModuleType("google.colab")   # what the cells test for
installed = []


class Shell:   # the part of IPython's shell the transformed cells call: %pip, run by this environment's pip
    def run_line_magic(self, magic, line):
        assert magic == "pip", magic
        args = shlex.split(line)
        assert args[0] == "install", line
        if any(arg.startswith("mlbook") for arg in args):
            assert REQUIREMENT in args, f"the cell installs {line!r}, not {REQUIREMENT!r}"
            args[args.index(REQUIREMENT)] = f"mlbook @ {Path(WHEEL).as_uri()}"
        subprocess.run([sys.executable, "-m", "pip", *args, "--no-index"], check=True)
        installed.append(line)


def get_ipython():
    return Shell()


class OnlyTheArchive(urllib.request.BaseHandler):   # the one download allowed: this checkout as GitHub's archive
    handler_order = 100   # before urllib's own HTTPS handler

    def https_open(self, request):
        if request.full_url != ARCHIVE_URL:
            raise urllib.error.URLError(f"no network in this test: {request.full_url}")
        response = urllib.response.addinfourl(open(ARCHIVE, "rb"), email.message.Message(), request.full_url, 200)
        response.msg = "OK"
        return response


urllib.request.install_opener(urllib.request.build_opener(OnlyTheArchive))


def run_cell(source):
    exec(compile(TransformerManager().transform_cell(source), "<cell>", "exec"), globals())
'''


def _first_code_cells(notebook: Path, count: int) -> list[str]:
    cells = json.loads(notebook.read_text())["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"][:count]


def _run_cells(python: Path, cells: list[str], checks: str, wheel: Path, archive: Path, cwd: Path) -> str:
    script = cwd / "run_cells.py"
    script.write_text(PRELUDE + "".join(f"\nrun_cell({cell!r})\n" for cell in cells) + textwrap.dedent(checks))
    done = subprocess.run(
        [python, str(script), str(wheel), project.ARCHIVE_URL, str(archive), project.PIP_REQUIREMENT],
        cwd=cwd, capture_output=True, text=True, env=_clean_env(), timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    print(done.stdout)
    return done.stdout


def test_colab_first_cells_install_this_version_and_run_in_a_clean_environment(tmp_path):
    source = _snapshot(tmp_path / "clone")
    sdist, wheel = _build(source, tmp_path / "dist")
    with tarfile.open(sdist) as archive:
        in_sdist = {Path(*Path(n).parts[1:]).as_posix() for n in archive.getnames()}
    packaged = {p for p in sync.tracked_files(REPO) if p.startswith("mlbook/") and p.endswith(".py")}
    assert packaged <= in_sdist, sorted(packaged - in_sdist)

    # GitHub's archive of the repository at REF, as fetch_public_tests downloads it on Colab
    archive = tmp_path / "archive.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(source / "exercises", arcname=f"{project.REPOSITORY.split('/')[1]}-{project.REF}/exercises")

    python = _image_venv(tmp_path / "colab")
    chapter = tmp_path / "content-chapter"
    chapter.mkdir()
    out = _run_cells(python, _first_code_cells(REPO / "book/ch01_introduction/ch01_learning_with_little_data.ipynb", 2),
                     f"""
                     import mlbook
                     assert installed == ['install --quiet "{project.PIP_REQUIREMENT}"'], installed
                     assert mlbook.__file__.startswith(sys.prefix), mlbook.__file__
                     print("mlbook from", mlbook.__file__)
                     """, wheel, archive, chapter)
    assert f"mlbook {mlbook.__version__}, torch" in out and "mlbook from" in out

    exercises = tmp_path / "content-exercises"
    exercises.mkdir()
    out = _run_cells(python, _first_code_cells(REPO / "exercises/ch01/ch01_exercises.ipynb", 2), """
                     import mlbook
                     assert mlbook.__file__.startswith(sys.prefix), mlbook.__file__
                     assert len(installed) == 2 and "otter-grader" in installed[1], installed
                     print("public tests:", sorted(p.name for p in Path("tests").glob("*.py")))
                     print("grader:", type(grader).__name__)
                     print("check:", grader.check("q1"))   # the public tests run (and fail: nothing is solved yet)
                     """, wheel, archive, exercises)
    public = sorted(p.name for p in (REPO / "exercises/ch01/tests").glob("*.py"))
    assert public and f"public tests: {public}" in out and "grader: Notebook" in out and "q1 results" in out


# ------------------------------------------------------------------------------------------------ make env


def _make_env_commands(*assignments: str) -> list[str]:
    done = subprocess.run(["make", "-n", "-W", "requirements.txt", "env", *assignments], cwd=REPO,
                          capture_output=True, text=True, env={**os.environ, "MAKEFLAGS": ""})
    assert done.returncode == 0, done.stderr
    return [line for line in done.stdout.splitlines() if "pip install" in line]


@pytest.mark.skipif(shutil.which("make") is None or sys.platform != "linux", reason="needs make on Linux")
def test_make_env_installs_the_cpu_torch_first_on_linux():
    pin = next(line for line in (REPO / "requirements.txt").read_text().splitlines() if line.startswith("torch=="))
    commands = _make_env_commands()
    torch_call = next(i for i, c in enumerate(commands) if f'"{pin}"' in c)
    assert torch_call < next(i for i, c in enumerate(commands) if "-r requirements.txt" in c)
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in commands[torch_call]
    assert "--extra-index-url" not in _make_env_commands("TORCH_INDEX=")[torch_call]
    cuda = "https://download.pytorch.org/whl/cu126"
    assert f"--extra-index-url {cuda}" in _make_env_commands(f"TORCH_INDEX={cuda}")[torch_call]


# ------------------------------------------------------------------------------------------------------ binder


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", line.split("#")[0].strip())
        if match:
            pins[match[1].lower().replace("_", "-")] = match[2]
    return pins


def test_binder_environment_is_slim_and_pinned_as_the_book():
    binder, book = _pins(REPO / "binder/requirements.txt"), _pins(REPO / "requirements.txt")
    assert {name: book.get(name) for name in binder} == binder, "binder pins must equal requirements.txt's"
    dependencies = re.search(r"^dependencies = \[(.*?)\]", (REPO / "pyproject.toml").read_text(), re.S | re.M)[1]
    runtime = {re.match(r'\s*"([A-Za-z0-9_.-]+)', d)[1].lower() for d in dependencies.split(",") if d.strip()}
    assert set(binder) == runtime | LEARNER_EXTRAS
    assert not set(binder) & NOT_FOR_LEARNERS
    lines = [line.split("#")[0].strip() for line in (REPO / "binder/requirements.txt").read_text().splitlines()]
    assert "." in lines and not any(line.startswith("-e") or ".." in line for line in lines)


def test_binder_python_version_admits_every_pin():
    from importlib.metadata import distribution

    from packaging.specifiers import SpecifierSet

    runtime = (REPO / "binder/runtime.txt").read_text().strip()
    version = re.fullmatch(r"python-(\d+\.\d+)", runtime)[1]
    for name in _pins(REPO / "binder/requirements.txt"):
        requires = distribution(name).metadata.get("Requires-Python") or ""
        assert SpecifierSet(requires).contains(f"{version}.0"), f"{name} needs Python {requires}, Binder has {version}"


def test_binder_requirements_install_from_the_repository_root(tmp_path):
    """As repo2docker: ``pip install -r binder/requirements.txt`` from the root of a clean clone. Offline, with the
    pinned packages preinstalled (they are what a full install downloads; the package itself is what can break)
    and the build backend taken from there too (``--no-build-isolation``: no setuptools download)."""
    clone = _snapshot(tmp_path / "clone")
    python = _image_venv(tmp_path / "binder")
    done = subprocess.run(
        [python, "-m", "pip", "install", "--no-index", "--no-build-isolation", "-r", "binder/requirements.txt"],
        cwd=clone, capture_output=True, text=True, env=_clean_env(), timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    where = subprocess.run([python, "-c", "import mlbook.project, sys; print(mlbook.project.__file__, sys.prefix)"],
                           cwd=tmp_path, capture_output=True, text=True, env=_clean_env(), check=True).stdout.split()
    assert where[0].startswith(where[1]) and "site-packages" in where[0]
