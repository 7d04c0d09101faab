"""CLI: valid JSONL + Parquet, exit code 2 with a one-line message and no partial file on bad input, `check`
catches tampering and duplicates, `overlap` and `bench` run."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from data_gen.__main__ import main

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "data_gen", *args], capture_output=True, text=True, cwd=ROOT)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("rc")
    r = run_cli("random-calculation", "--levels", "1-4", "--per-level", "60", "--seed", "3", "--out", str(out),
                "--format", "jsonl,parquet", "--split-fractions", "0.6,0.2,0.2")
    assert r.returncode == 0, r.stderr
    return out


def test_generate_writes_valid_jsonl_and_parquet(dataset):
    import pyarrow.parquet as pq
    lines = (dataset / "random_calculation_paper.jsonl").read_text().splitlines()
    records = [json.loads(l) for l in lines]
    assert len(records) == 240
    assert set(records[0]) == {"id", "level", "problem", "problem_text", "answer", "answer_decimal", "solution",
                               "split"}
    assert sorted({r["level"] for r in records}) == [1, 2, 3, 4]
    assert pq.read_table(dataset / "random_calculation_paper.parquet").to_pylist() == records
    assert not [p for p in os.listdir(dataset) if p.endswith(".tmp")]
    for name in ("random_calculation_paper.jsonl", "random_calculation_paper.parquet"):
        assert main(["check", str(dataset / name), "--quiet"]) == 0


def test_check_catches_tampered_answer_and_duplicate(dataset, tmp_path, capsys):
    records = [json.loads(l) for l in (dataset / "random_calculation_paper.jsonl").read_text().splitlines()]
    tampered = [dict(r) for r in records]
    tampered[5]["answer"] = str(int(tampered[5]["answer"].split("/")[0]) + 1)
    path = tmp_path / "tampered.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in tampered))
    assert main(["check", str(path), "--quiet"]) == 1
    assert "record 6" in capsys.readouterr().out
    dup = records + [dict(records[0], id="dup")]
    path = tmp_path / "dup.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in dup))
    assert main(["check", str(path), "--quiet"]) == 1
    assert "duplicate" in capsys.readouterr().out
    leak = records + [dict(records[0], id="leak", split="test" if records[0]["split"] != "test" else "train")]
    path.write_text("".join(json.dumps(r) + "\n" for r in leak))
    assert main(["check", str(path), "--quiet"]) == 1
    assert "split leak" in capsys.readouterr().out


@pytest.mark.parametrize("args, flag", [
    (["--levels", "0"], "--levels"), (["--levels", "25"], "--levels"), (["--levels", "a-b"], "--levels"),
    (["--per-level", "-5"], "--per-level"), (["--split-fractions", "0.5,0.5,0.5"], "--split-fractions"),
    (["--format", "csv"], "--format"),
])
def test_bad_input_exit_2_no_file(tmp_path, capsys, args, flag):
    out = tmp_path / "out"
    assert main(["random-calculation", "--out", str(out), "--per-level", "3", "--quiet", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: " + flag) and "\n" not in err
    assert not out.exists() or not list(out.iterdir())


def test_unwritable_path_exit_2(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = run_cli("random-calculation", "--out", str(blocker / "sub"), "--per-level", "2", "--quiet")
    assert r.returncode == 2 and r.stderr.startswith("error: --out") and len(r.stderr.strip().splitlines()) == 1
    if os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        r = run_cli("random-calculation", "--out", str(ro), "--per-level", "2", "--quiet")
        assert r.returncode == 2 and "--out" in r.stderr
        assert list(ro.iterdir()) == []


def test_overlap_and_bench(dataset, tmp_path, capsys):
    from data_gen.io import write_jsonl
    from data_gen.random_calculation import RandomCalculationConfig, generate_dataset
    easy = tmp_path / "easy.jsonl"
    write_jsonl(generate_dataset(0, [1], 30, RandomCalculationConfig(family="easy")), easy)
    paper = dataset / "random_calculation_paper.jsonl"
    assert main(["overlap", "--train", str(paper), "--eval", str(paper), "--n", "8"]) == 0
    same = json.loads(capsys.readouterr().out)
    assert same["max_overlap"] == 1.0 and same["eval_problems"] == 240
    assert main(["overlap", "--train", str(easy), "--eval", str(paper), "--n", "30"]) == 0
    assert json.loads(capsys.readouterr().out)["fraction_with_shared_ngram"] == 0.0
    assert main(["bench", "--levels", "1-2", "--count", "20"]) == 0
    assert "problems/s" in capsys.readouterr().out


def test_overlap_against_a_shipped_benchmark_and_a_file_without_the_field(dataset, tmp_path, capsys):
    """Each file's text field is found by itself: RandomCalculation's problem_text, math500's problem."""
    from rlvr.data.eval_sets import benchmark_path

    paper = dataset / "random_calculation_paper.jsonl"
    assert main(["overlap", "--train", str(paper), "--eval", str(benchmark_path("math500")), "--n", "12"]) == 0
    assert json.loads(capsys.readouterr().out)["eval_problems"] == 500
    odd = tmp_path / "odd.jsonl"
    odd.write_text('{"problem": "1+1"}\n{"text": "2+2"}\n')
    assert main(["overlap", "--train", str(paper), "--eval", str(odd)]) == 2
    assert "odd.jsonl:2: no string field 'problem'" in capsys.readouterr().err


def test_check_of_a_missing_file_lists_the_generated_ones(dataset, capsys):
    assert main(["check", str(dataset / "random_calculation.jsonl"), "--quiet"]) == 2
    assert "random_calculation_paper.jsonl" in capsys.readouterr().err
