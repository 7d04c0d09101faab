"""The step record's padding/position arithmetic and the file prompt source (errors with file and line)."""
import json

import pytest
import torch
from omegaconf import OmegaConf

from rlvr.batch import TrainBatch, pad_batch, response_logits, token_logprobs
from rlvr.data.prompts import DataError, build_prompt_source, load_records


def test_pad_batch_positions_point_at_the_predicting_logit():
    batch = TrainBatch(prompt_ids=[[1, 5, 6], [1, 7]], response_ids=[[8, 9], [10, 11, 12]], group_ids=[0, 0])
    pb = pad_batch(batch, pad_id=0)
    assert pb.input_ids.tolist() == [[1, 5, 6, 8, 9], [1, 7, 10, 11, 12]]
    assert pb.mask.tolist() == [[1, 1, 0], [1, 1, 1]]
    # response token j of sequence b is at input position P_b + j, predicted by logits at P_b + j - 1
    assert pb.positions[0, :2].tolist() == [2, 3] and pb.positions[1].tolist() == [1, 2, 3]
    for b in range(2):
        for j in range(int(pb.mask[b].sum())):
            assert pb.input_ids[b, pb.positions[b, j] + 1] == pb.response_ids[b, j]


def test_token_logprobs_match_naive_log_softmax():
    torch.manual_seed(0)
    logits = torch.randn(2, 5, 7)
    positions = torch.tensor([[0, 1, 2], [2, 3, 4]])
    tokens = torch.tensor([[1, 2, 3], [4, 5, 6]])
    got = token_logprobs(response_logits(logits, positions), tokens)
    for b in range(2):
        for j in range(3):
            want = torch.log_softmax(logits[b, positions[b, j]], -1)[tokens[b, j]]
            assert abs(float(got[b, j]) - float(want)) < 1e-6


def _cfg(path, **kw):
    base = dict(source="jsonl", path=str(path), prompt_key="question", answer_key="answer", solution_key="solution",
                template="Q: {question}\nA:", seed=0, heldout_size=2)
    base.update(kw)
    return OmegaConf.create(base)


def test_file_source_is_deterministic_by_step_and_keeps_heldout_apart(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps({"question": f"{i}+1", "answer": str(i + 1)}) + "\n" for i in range(20)))
    a, b = build_prompt_source(_cfg(path)), build_prompt_source(_cfg(path))
    assert [x.id for x in a.batch(3, 4)] == [x.id for x in b.batch(3, 4)]
    assert a.batch(0, 4)[0].prompt.startswith("Q: ")
    held = {x.id for x in a.heldout}
    seen = {x.id for s in range(10) for x in a.batch(s, 4)}
    assert held and not (held & seen)


def test_malformed_line_is_reported_with_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"question": "1+1", "answer": "2"}\n{"question": oops}\n')
    with pytest.raises(DataError, match=r"bad.jsonl:2"):
        load_records(path)


def test_missing_field_and_bad_template_name_the_field(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"q": "1+1", "answer": "2"}\n' * 10)
    with pytest.raises(DataError, match="question"):
        build_prompt_source(_cfg(path))
    with pytest.raises(DataError, match="data.template"):
        build_prompt_source(_cfg(path, prompt_key="q", template="{nope}"))


def _rc_cfg(**kw):
    base = dict(source="random_calculation", family="easy", levels=[1], max_operand=99, operators="+-", seed=3,
                template="{problem_text}=", solution_format="answer")
    base.update(kw)
    return OmegaConf.create(base)


def test_train_problems_limits_every_round_to_the_streams_first_problems():
    """data.train_problems=N (one-shot RLVR: 1): every step and every refill round draws from the first N problems of
    the full stream; the held-out set is the full stream's."""
    full = build_prompt_source(_rc_cfg(), heldout_size=20)
    first = [x.id for x in full.batch(0, 4)]
    for n in (1, 4):
        few = build_prompt_source(_rc_cfg(train_problems=n), heldout_size=20)
        drawn = [x.id for step in range(6) for round_ in (0, 2) for x in few.batch(step, 16, round_)]
        assert set(drawn) == set(first[:n])
        assert [x.id for x in few.heldout] == [x.id for x in full.heldout]
    # every problem of the pool is drawn equally often over whole epochs
    four = build_prompt_source(_rc_cfg(train_problems=4), heldout_size=20)
    ids = [x.id for x in four.batch(0, 40)]
    assert sorted(ids.count(i) for i in set(ids)) == [10, 10, 10, 10]


def test_train_problem_ids_pick_exactly_those_problems_in_order():
    """data.train_problem_ids (the problem `bench one-shot` selects): every round draws only those, the first
    positions in the given order; data.train_problems then limits the list; the held-out set is unchanged."""
    full = build_prompt_source(_rc_cfg(), heldout_size=20)
    stream = [x.id for x in full.batch(0, 40)]
    picked = [stream[30], stream[7]]
    src = build_prompt_source(_rc_cfg(train_problem_ids=picked), heldout_size=20)
    assert [x.id for x in src.batch(0, 2)] == picked
    drawn = [x.id for step in range(5) for round_ in (0, 1) for x in src.batch(step, 8, round_)]
    assert set(drawn) == set(picked)
    assert [x.id for x in src.heldout] == [x.id for x in full.heldout]
    one = build_prompt_source(_rc_cfg(train_problem_ids=picked, train_problems=1), heldout_size=20)
    assert {x.id for x in one.batch(3, 8)} == {picked[0]}
    by_id = {x.id: x for x in full.batch(0, 40)}
    assert src.batch(0, 1)[0].gold == by_id[picked[0]].gold


def test_train_problem_ids_unknown_id_is_a_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setattr("rlvr.data.prompts.MAX_ID_SCAN", 300)  # an endless stream is searched this far
    with pytest.raises(DataError, match=r"train_problem_ids: \['nope'\] not among .* \(searched 300\)"):
        build_prompt_source(_rc_cfg(levels=[1], train_problem_ids=["nope"]), heldout_size=5)
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps({"id": f"p{i}", "question": f"{i}+1", "answer": str(i + 1)}) + "\n"
                            for i in range(20)))
    src = build_prompt_source(_cfg(path, train_problem_ids=["p3"]))
    assert {x.id for s in range(4) for x in src.batch(s, 4)} == {"p3"}
    with pytest.raises(DataError, match="p99"):
        build_prompt_source(_cfg(path, train_problem_ids=["p99"]))


def test_train_problems_limits_a_file_source(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps({"question": f"{i}+1", "answer": str(i + 1)}) + "\n" for i in range(20)))
    one = build_prompt_source(_cfg(path, train_problems=1))
    assert len({x.id for s in range(10) for x in one.batch(s, 4)}) == 1
