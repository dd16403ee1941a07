"""load_benchmark_result: the chapters' reader of the benchmark scripts' JSON results."""

from __future__ import annotations

import json
import urllib.request

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
