"""examples/python run as they are, on the data they generate."""
import os
import subprocess
import sys

import pytest

from conftest import ROOT


def run(name, tmp_path):
    p = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "python", name), str(tmp_path)],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_quickstart(tmp_path):
    out = run("quickstart.py", tmp_path)
    assert "ticker" in out and len(out.strip().splitlines()) == 21  # a header and 20 tickers
    assert os.path.exists(tmp_path / "output" / "_SUCCESS")


def test_shuffle(tmp_path):
    out = run("shuffle.py", tmp_path)
    assert "users: 1000" in out and "keeps every row: True" in out


@pytest.mark.parametrize("name", ["sort_urls.py"])
def test_sort_urls(tmp_path, name):
    assert "rows: 300000 globally sorted: True" in run(name, tmp_path)
