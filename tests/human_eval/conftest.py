import pytest

from polyalign.human_eval.export import build_sheet

SYSTEMS = ["base", "sft", "dpo", "bucket_sft", "hdpo"]
BINS = ["short", "medium", "long", "xlong"]


def make_records(per_bin=(3, 3, 1, 3), language="zh"):
    records = []
    for b, n in zip(BINS, per_bin):
        for i in range(n):
            records.append(
                {
                    "id": f"{language}-{b}-{i}",
                    "language": language,
                    "track": "single",
                    "length_bin": b,
                    "question": f"问题 {b} {i}",
                    "context": "",
                    "history": [],
                    "human_answer": "答",
                }
            )
    return records


def sheet_outputs(records):
    return {s: {r["id"]: f"{s} says {r['id']} </script>" for r in records} for s in SYSTEMS}


@pytest.fixture
def sheet_and_key():
    records = make_records()
    outputs = sheet_outputs(records)
    return build_sheet(records, outputs, "zh", n_prompts=2, seed=3, export_seed=0)
