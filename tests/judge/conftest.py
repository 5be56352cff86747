import pytest

from .tiny import RECORD, build_tiny_judge  # noqa: F401  (RECORD is imported by the tests)


@pytest.fixture(scope="session")
def judge_model(tmp_path_factory):
    """The tiny judge, saved and reloaded through the device/precision helper as the rule does."""
    from polyalign.models.runtime import load_for_inference

    path = tmp_path_factory.mktemp("judge")
    build_tiny_judge(path)
    return load_for_inference(path)
