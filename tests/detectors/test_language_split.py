"""Detector rates split by the answer's language (polyalign.detectors.language_split)."""

from polyalign.detectors.language_split import rates_by_answer_language

TEST = [("z1", "zh"), ("z2", "zh"), ("z3", "zh"), ("z4", "zh"), ("e1", "en")]


def test_rates_count_each_side_over_seeds_and_skip_empty_answers():
    flags = {
        "0": {"trained": {"hdpo": {"z1": True, "z2": False, "z3": False, "z4": True, "e1": True}}},
        "1": {"trained": {"hdpo": {"z1": True, "z2": True, "z3": False, "z4": False, "e1": True}}},
    }
    answers = {
        # seed 0: z1, z2 Chinese; z3 English; z4 empty (left out)
        "0": {"hdpo": {"z1": "我很好", "z2": "你好吗", "z3": "fine thanks", "z4": "  ", "e1": "hi"}},
        # seed 1: z1 Chinese; z2, z3, z4 English
        "1": {"hdpo": {"z1": "我很好", "z2": "ok ok", "z3": "no", "z4": "hello there", "e1": "hi"}},
    }
    out = rates_by_answer_language(flags, answers, TEST, "zh")["trained"]["hdpo"]
    # Chinese answers: seed 0 z1 (flagged), z2 (not); seed 1 z1 (flagged): 2 of 3
    assert out["in_language"] == {"rate": 2 / 3, "k": 2, "n": 3}
    # other: seed 0 z3 (not); seed 1 z2 (flagged), z3 (not), z4 (not): 1 of 4
    assert out["other"] == {"rate": 0.25, "k": 1, "n": 4}


def test_a_side_without_answers_has_no_rate():
    flags = {"0": {"binoculars": {"sft": {"z1": False, "z2": False, "z3": False, "z4": False}}}}
    answers = {"0": {"sft": {"z1": "好", "z2": "对", "z3": "是", "z4": "嗯"}}}
    out = rates_by_answer_language(flags, answers, TEST, "zh")["binoculars"]["sft"]
    assert out["other"] == {"rate": None, "k": 0, "n": 0}
    assert out["in_language"] == {"rate": 0.0, "k": 0, "n": 4}
