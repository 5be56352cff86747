"""Library keyword defaults that mirror a config key are the schema's own value, read from the
schema (or absent): never a literal copy, which would drift when the default changes."""

import ast
import importlib
import inspect
import textwrap

import pytest

from polyalign.config import schema_default

ABSENT = inspect.Parameter.empty

# (module, function or Class.method / dataclass, argument, schema key)
MIRRORS = [
    ("polyalign.train.losses", "hdpo_loss", "beta", "preference.beta"),
    ("polyalign.train.losses", "hdpo_loss", "lam", "preference.lam"),
    ("polyalign.train.losses", "hdpo_loss", "gamma_sft", "preference.gamma_sft"),
    ("polyalign.train.losses", "hdpo_loss", "anchor_weighting", "preference.anchor_weighting"),
    ("polyalign.preference.train", "preference_loss", "beta", "preference.beta"),
    ("polyalign.preference.train", "preference_loss", "lam", "preference.lam"),
    ("polyalign.preference.train", "preference_loss", "gamma_sft", "preference.gamma_sft"),
    ("polyalign.preference.train", "preference_loss", "anchor_weighting", "preference.anchor_weighting"),
    *[
        ("polyalign.train.weights", "pair_weights", k, f"preference.pair_weights.{k}")
        for k in ("alpha", "beta_w", "gamma", "w_min", "w_max", "use_bucket", "use_critic", "use_language")
    ],
    ("polyalign.train.weights", "rescale_pair_weights", "language_balance", "preference.language_balance"),
    ("polyalign.train.weights", "bucket_weights", "tau", "bucket_sft.tau"),
    ("polyalign.train.weights", "bucket_weights", "cap", "bucket_sft.cap"),
    ("polyalign.critic.head", "CriticHead.__init__", "bucket_dim", "critic.bucket_dim"),
    ("polyalign.critic.head", "CriticHead.__init__", "mlp_dims", "critic.mlp_dims"),
    ("polyalign.critic.head", "CriticHead.__init__", "dropout", "critic.dropout"),
    ("polyalign.critic.head", "ranking_hinge", "margin", "critic.margin"),
    ("polyalign.critic.head", "critic_loss", "margin", "critic.margin"),
    ("polyalign.critic.head", "critic_loss", "rank_weight", "critic.rank_weight"),
    ("polyalign.critic.encoder", "encode_responses", "batch_size", "critic.encoder_batch_size"),
    ("polyalign.critic.encoder", "encode_responses", "max_length", "critic.max_length"),
    ("polyalign.metrics.diversity", "self_bleu", "n_samples", "evaluation.diversity.n_samples"),
    ("polyalign.metrics.diversity", "self_bleu", "n_references", "evaluation.diversity.n_references"),
    ("polyalign.metrics.diversity", "self_bleu", "seed", "evaluation.diversity.seed"),
    ("polyalign.metrics.diversity", "diversity_scores", "n_samples", "evaluation.diversity.n_samples"),
    ("polyalign.metrics.diversity", "diversity_scores", "seed", "evaluation.diversity.seed"),
    ("polyalign.metrics.distributional", "bng", "min_bucket_size", "evaluation.min_bucket_size"),
    ("polyalign.metrics.distributional", "bng_robust", "min_bucket_size", "evaluation.min_bucket_size"),
    ("polyalign.metrics.tdm", "tdm", "min_bucket_size", "evaluation.min_bucket_size"),
    ("polyalign.metrics.tdm", "tdm", "max_components", "evaluation.tdm_max_components"),
    ("polyalign.metrics.tokenize", "answer_tokens", "zh_tokenization", "evaluation.zh_tokenization"),
    ("polyalign.metrics.utility", "utility_scores", "zh_tokenization", "evaluation.zh_tokenization"),
    ("polyalign.metrics.utility", "qa_f1", "zh_tokenization", "evaluation.zh_tokenization"),
    ("polyalign.report.figures", "figure_tsne", "perplexity", "figures.tsne.perplexity"),
    ("polyalign.report.figures", "figure_tsne", "max_points", "figures.tsne.max_points"),
    ("polyalign.detectors.summary", "detector_summary", "fprs", "detectors.fprs"),
    ("polyalign.detectors.summary", "detector_summary", "tpr_fprs", "detectors.tpr_fprs"),
    ("polyalign.detectors.summary", "detector_summary", "n_resamples", "detectors.n_resamples"),
    ("polyalign.detectors.trained", "fit_detector", "C", "detectors.trained.C"),
    ("polyalign.detectors.trained", "fit_detector", "max_iter", "detectors.trained.max_iter"),
    ("polyalign.features.lm_features", "lm_features", "max_ppl", "features.max_ppl"),
    ("polyalign.features.extract", "extract_features", "max_ppl", "features.max_ppl"),
    ("polyalign.features.compute", "compute_feature_table", "max_ppl", "features.max_ppl"),
    ("polyalign.generation.generate", "generate_records", "profile_length", "profile_length"),
    ("polyalign.train.data", "build_examples", "profile_length", "profile_length"),
    ("polyalign.evaluation.rows", "select_generations", "sample_index", "evaluation.sample_index"),
    ("polyalign.data.build", "build_corpus", "max_field_chars", "corpus_build.max_field_chars"),
    ("polyalign.data.build", "load_records", "max_field_chars", "corpus_build.max_field_chars"),
    (
        "polyalign.preference.reference_cache",
        "compute_reference_logps",
        "batch_size",
        "preference.ref_batch_size",
    ),
]


def _function(module, qualname):
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return inspect.unwrap(obj)


def _default_expression(func, name) -> ast.expr | None:
    tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    node = next(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))
    args = node.args
    positional = args.posonlyargs + args.args
    pairs = list(zip(positional[len(positional) - len(args.defaults) :], args.defaults))
    pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
    return next((d for a, d in pairs if a.arg == name), None)


def _is_literal(expr: ast.expr) -> bool:
    try:
        ast.literal_eval(expr)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("module,qualname,arg,key", MIRRORS, ids=lambda x: x if isinstance(x, str) else "")
def test_keyword_default_is_read_from_the_schema_or_absent(module, qualname, arg, key):
    func = _function(module, qualname)
    parameter = inspect.signature(func).parameters[arg]
    if parameter.default is ABSENT:
        return
    value = parameter.default
    assert (list(value) if isinstance(value, tuple) else value) == schema_default(*key.split("."))
    expr = _default_expression(func, arg)
    assert expr is not None and not _is_literal(expr), (
        f"{module}.{qualname}({arg}=...) copies the schema's {key} as a literal: read it with schema_default"
    )


def test_resample_arrays_take_the_mauve_defaults_from_the_schema():
    from polyalign.evaluation.replicates import ResampleArrays

    fields = ResampleArrays.__dataclass_fields__
    assert fields["mauve_scaling_factor"].default == schema_default(
        "evaluation", "mauve", "mauve_scaling_factor"
    )
    assert fields["mauve_discretization"].default == schema_default(
        "evaluation", "mauve", "divergence_curve_discretization_size"
    )


def test_the_loss_functions_have_no_setting_defaults():
    """The loss settings come from the resolved config only (preference.config.loss_settings)."""
    for module, qualname in (
        ("polyalign.train.losses", "hdpo_loss"),
        ("polyalign.preference.train", "preference_loss"),
    ):
        parameters = inspect.signature(_function(module, qualname)).parameters
        for name in ("beta", "lam", "gamma_sft", "anchor_weighting"):
            assert parameters[name].default is ABSENT, f"{qualname}({name}=...)"
