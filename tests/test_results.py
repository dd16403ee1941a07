"""load_benchmark_result: the chapters' reader of the benchmark scripts' JSON results."""

from __future__ import annotations

import hashlib
import json
import urllib.request
from pathlib import Path

import pytest

from mlbook import results
from mlbook.results import load_benchmark_result


def test_reads_a_result_from_a_directory(tmp_path):
    (tmp_path / "x.json").write_text(json.dumps({"a": [1, 2]}))
    assert load_benchmark_result("x.json", tmp_path) == {"a": [1, 2]}


def test_default_directory_is_the_checkouts_benchmark_results():
    assert results.RESULTS_DIR.name == "results" and results.RESULTS_DIR.parent.name == "benchmarks"
    assert load_benchmark_result("maml_throughput.json")["rows"]


@pytest.mark.parametrize("name", ["x.txt", "../x.json", "a/b.json", "a\\b.json", 3])
def test_bad_names_are_rejected(name):
    with pytest.raises(ValueError, match="name must be a file name"):
        load_benchmark_result(name)


def test_missing_result_offline_says_where_it_looked_and_what_to_do(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(FileNotFoundError, match=r"missing\.json is neither in .* run the benchmark script"):
        load_benchmark_result("missing.json", tmp_path)


def test_chapter_five_reexport_is_the_same_function():
    from mlbook.optimization import load_benchmark_result as reexported

    assert reexported is load_benchmark_result


# ------------------------------------------------------------------------------------ provenance and freshness

from mlbook.results import (  # noqa: E402
    RESULTS_DIR,
    finish_provenance,
    imported_sources,
    make_provenance,
    normalised_source,
    provenance_note,
    source_fingerprint,
    stale_sources,
)

COMMITTED = sorted(path.name for path in RESULTS_DIR.glob("*.json"))


def test_there_are_committed_results_to_check():
    assert len(COMMITTED) >= 5


@pytest.mark.parametrize("name", COMMITTED)
def test_every_committed_result_records_its_provenance(name):
    provenance = load_benchmark_result(name)["provenance"]
    assert provenance["command"].startswith("python benchmarks/") and provenance["date"][:2] == "20"
    assert len(provenance["commit"]) == 40 and provenance["cpu"]
    script = provenance["command"].split()[1]
    assert script in provenance["sources"], "the benchmark script itself is a source"
    assert any(path.startswith("mlbook/") for path in provenance["sources"])
    assert "--minutes" not in provenance["command"], "budgets are steps, not CPU time"


@pytest.mark.parametrize("name", COMMITTED)
def test_every_committed_result_describes_todays_code(name):
    result = load_benchmark_result(name)
    stale = stale_sources(result)
    assert not stale, (
        f"benchmarks/results/{name} was made before these sources changed: {stale}. Regenerate it with\n"
        f"    {result['provenance']['command']}\n"
        "or, for a change that cannot change any number, declare it in benchmarks/declared_refactors.json"
    )


def _project(tmp_path, code: str) -> Path:
    (tmp_path / "mlbook").mkdir()
    (tmp_path / "mlbook" / "model.py").write_text(code)
    return tmp_path


MODEL = '''"""A module docstring."""

import math  # a comment


class Model:
    """A class docstring
    over two lines."""

    def scale(self, x):
        """A method docstring."""
        return x * 2.0 + math.pi  # why two


def hash_in_string():
    return "# not a comment", """not a docstring"""
'''


def _result_for(root: Path) -> dict:
    return {"provenance": {"sources": {"mlbook/model.py": source_fingerprint(root / "mlbook" / "model.py")}}}


def test_an_edit_of_the_code_makes_a_result_stale(tmp_path):
    root = _project(tmp_path, MODEL)
    result = _result_for(root)
    assert stale_sources(result, root, declared=tmp_path / "none.json") == []
    (root / "mlbook" / "model.py").write_text(MODEL.replace("x * 2.0", "x * 3.0"))
    assert stale_sources(result, root, declared=tmp_path / "none.json") == ["mlbook/model.py"]


@pytest.mark.parametrize(
    "edit",
    [
        lambda s: s.replace("# a comment", "# another comment"),
        lambda s: s.replace("A method docstring.", "Reworded, at length.\n\n        Two paragraphs now."),
        lambda s: s.replace('"""A module docstring."""', '"""Another module docstring."""'),
        lambda s: s.replace("import math  # a comment\n", "import math\n\n\n"),
        lambda s: s.replace("over two lines.", "over\n    three lines."),
    ],
)
def test_comments_docstrings_and_blank_lines_do_not_make_a_result_stale(tmp_path, edit):
    root = _project(tmp_path, MODEL)
    result = _result_for(root)
    (root / "mlbook" / "model.py").write_text(edit(MODEL))
    assert stale_sources(result, root, declared=tmp_path / "none.json") == []


@pytest.mark.parametrize(
    "edit",
    [
        lambda s: s.replace('"# not a comment"', '"# changed"'),
        lambda s: s.replace('"""not a docstring"""', '"""changed"""'),
        lambda s: s.replace("        return x * 2.0", "    return x * 2.0"),  # indentation is code
    ],
)
def test_strings_that_are_not_docstrings_and_indentation_are_code(tmp_path, edit):
    root = _project(tmp_path, MODEL)
    assert source_fingerprint(root / "mlbook" / "model.py") != hashlib.sha256(
        normalised_source(edit(MODEL)).encode()
    ).hexdigest()


def test_normalised_source_keeps_the_code_and_only_the_code():
    text = normalised_source(MODEL)
    assert "docstring" not in text.replace("not a docstring", "") and "comment" not in text.replace("not a comment", "")
    assert "return x * 2.0 + math.pi\n" in text and '"# not a comment"' in text
    compile(text, "normalised", "exec")  # still Python: nothing but docstrings and comments went


def test_a_deleted_source_makes_a_result_stale(tmp_path):
    root = _project(tmp_path, MODEL)
    result = _result_for(root)
    (root / "mlbook" / "model.py").unlink()
    assert stale_sources(result, root, declared=tmp_path / "none.json") == ["mlbook/model.py"]


def test_a_declared_pure_refactor_keeps_a_result_fresh(tmp_path):
    root = _project(tmp_path, MODEL)
    result = _result_for(root)
    before = source_fingerprint(root / "mlbook" / "model.py")
    (root / "mlbook" / "model.py").write_text(MODEL.replace("def scale(self, x)", "def scale(self, x, /)"))
    after = source_fingerprint(root / "mlbook" / "model.py")
    declared = tmp_path / "declared.json"
    declared.write_text(json.dumps({"refactors": [{"file": "mlbook/model.py", "from": before, "to": after,
                                                   "why": "positional-only marker"}]}))
    assert stale_sources(result, root, declared=declared) == []
    (root / "mlbook" / "model.py").write_text(MODEL.replace("x * 2.0", "x * 3.0"))
    assert stale_sources(result, root, declared=declared) == ["mlbook/model.py"]


def test_the_committed_list_of_declared_refactors_is_well_formed():
    from mlbook.results import DECLARED_REFACTORS

    entries = json.loads(DECLARED_REFACTORS.read_text())["refactors"]
    for entry in entries:
        assert set(entry) == {"file", "from", "to", "why"} and entry["why"].strip()
        assert (results.REPO_ROOT / entry["file"]).exists()


def test_a_result_without_provenance_is_refused():
    with pytest.raises(ValueError, match="no provenance"):
        stale_sources({"rows": []})


def test_provenance_records_command_commit_and_the_imported_sources():
    provenance = make_provenance(results.REPO_ROOT / "benchmarks" / "maml_common.py", ["--steps", "3"])
    assert provenance["command"] == "python benchmarks/maml_common.py --steps 3"
    assert "benchmarks/maml_common.py" in provenance["sources"]
    assert "mlbook/utils.py" in provenance["sources"]  # imported by this test run
    assert "mlbook/results.py" not in provenance["sources"]  # the recorder computes nothing


def test_provenance_note_names_the_file_command_date_and_commit():
    result = {"provenance": {"command": "python benchmarks/x.py --steps 5", "date": "2026-12-01 06:00 UTC",
                             "commit": "0123456789abcdef" * 2 + "01234567", "cpu": "Some CPU", "wall_minutes": 3.5}}
    note = provenance_note(result, "x.json")
    assert note == ("Source: `benchmarks/results/x.json`, made by `python benchmarks/x.py --steps 5` on "
                    "2026-12-01 06:00 UTC (commit 0123456; Some CPU, 3.5 min).")


# ------------------------------------------------------------------------------------------------- bad input


def test_a_json_file_that_is_not_a_result_object_is_refused(tmp_path):
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="name 'list.json': .* holds a list, not a result"):
        load_benchmark_result("list.json", tmp_path)
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(ValueError, match="name 'broken.json': .* is not valid JSON"):
        load_benchmark_result("broken.json", tmp_path)


def test_a_directory_that_does_not_exist_is_named_without_going_to_the_network(tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("must not download")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    with pytest.raises(ValueError, match="directory must be an existing folder"):
        load_benchmark_result("x.json", tmp_path / "nope")


def test_imported_sources_refuses_a_root_that_does_not_exist(tmp_path):
    with pytest.raises(ValueError, match="root must be an existing folder"):
        imported_sources(tmp_path / "nope")  # used to find nothing and return []


def test_make_provenance_refuses_argv_as_one_string_and_a_missing_script():
    script = results.REPO_ROOT / "benchmarks" / "maml_common.py"
    with pytest.raises(TypeError, match="argv must be a list of strings"):
        make_provenance(script, "--steps 3")  # used to record "python ... - - s t e p s   3"
    with pytest.raises(ValueError, match="script must be an existing file under root"):
        make_provenance(results.REPO_ROOT / "benchmarks" / "no_such_script.py", [])


def test_finish_provenance_names_a_record_that_is_not_a_started_provenance():
    with pytest.raises(ValueError, match="provenance must be the dict make_provenance returned"):
        finish_provenance({"sources": {}})  # already finished: no '_started'


def test_stale_sources_refuses_a_root_that_does_not_exist(tmp_path):
    root = _project(tmp_path, MODEL)
    with pytest.raises(ValueError, match="root must be an existing folder"):
        stale_sources(_result_for(root), tmp_path / "nope", declared=tmp_path / "none.json")  # used to call all stale


def test_provenance_note_refuses_a_result_without_provenance():
    with pytest.raises(ValueError, match="result has no provenance"):
        provenance_note({"rows": []}, "x.json")  # used to print a note as if it were an old result


@pytest.mark.parametrize("name", ["benchmarks/results/x.json", 3, "x"])
def test_provenance_note_refuses_a_name_that_is_not_a_result_file_name(name):
    result = {"provenance": {"command": "python benchmarks/x.py", "date": "2026-12-01 06:00 UTC", "cpu": "CPU"}}
    with pytest.raises(ValueError, match="name must be a file name"):
        provenance_note(result, name)


def test_normalised_source_names_text_that_is_not_python():
    with pytest.raises(ValueError, match="source is not valid Python"):
        normalised_source("def f(:\n")
    with pytest.raises(TypeError, match="source must be Python source text"):
        normalised_source(b"x = 1\n")
