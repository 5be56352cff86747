"""Local paths in the config, resolved and checked at DAG time (before any job runs).

A path key holds either a hub id (owner/name) or a local path. A local path must resolve inside
the project directory (the workflow's working directory); an absolute path outside it is allowed
only when the config opts in with `allow_external_paths: true`, and a relative path that climbs
out of the project (`../../etc`) never is. A local model, template, encoder, font or judge must
exist now; a corpus must exist unless the embedded fetch writes it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

# A Hugging Face id (owner/name); anything else given as a path is local.
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
LOCAL_PREFIXES = ("/", ".", "~", "data/", "results/")
# Corpora the embedded fetch rule (fetch_embedded_corpus) writes; their paths exist only after it.
EMBEDDED_CORPORA = ("chatterbot", "chitchat")


def is_hub_id(value: str) -> bool:
    return bool(HUB_ID.match(value)) and not value.startswith(LOCAL_PREFIXES)


# Keys that only ever hold a local file (never a hub id).
LOCAL_ONLY = ("model.chat_template", "figures.cjk_font")
# Where polyalign.models.chat.SHIPPED_TEMPLATES lie (config sits below models in the import layers).
SHIPPED_TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "models" / "templates"


def path_keys(config: dict) -> list[tuple[str, str, bool]]:
    """(dotted key, value, must exist now) for every local-path value in the config."""
    out = []
    fetched = (config.get("fetch") or {}).get("embedded", False)
    for key, source in (config.get("corpora") or {}).items():
        if isinstance(source, dict) and isinstance(source.get("path"), str):
            out.append((f"corpora.{key}.path", source["path"], not (fetched and key in EMBEDDED_CORPORA)))
    model = config.get("model") or {}
    if isinstance(model.get("path"), str):
        out.append(("model.path", model["path"], True))
    if isinstance(model.get("source"), str) and model["source"] != "scratch":
        # resolve_model_block folds model.path into model.source
        out.append(("model.path/model.source", model["source"], True))
    template = model.get("chat_template")
    # own, or a template shipped in polyalign/models/templates (SHIPPED_TEMPLATES of models.chat, by name)
    if (
        isinstance(template, str)
        and template != "own"
        and not (SHIPPED_TEMPLATE_DIR / f"{template}.jinja").is_file()
    ):
        out.append(("model.chat_template", template, True))
    encoder = (config.get("embeddings") or {}).get("encoder")
    if isinstance(encoder, str):
        out.append(("embeddings.encoder", encoder, True))
    font = (config.get("figures") or {}).get("cjk_font")
    if isinstance(font, str):
        out.append(("figures.cjk_font", font, True))
    for name, judge in ((config.get("judge") or {}).get("models") or {}).items():
        if isinstance(judge, dict) and isinstance(judge.get("path"), str):
            out.append((f"judge.models.{name}.path", judge["path"], True))
    return [(key, value, must) for key, value, must in out if key in LOCAL_ONLY or not is_hub_id(value)]


def check_local_paths(config: dict, project: Path | None = None) -> list[str]:
    project = Path(os.path.abspath(project or Path.cwd()))
    external_ok = bool(config.get("allow_external_paths"))
    out = []
    for key, value, must_exist in path_keys(config):
        given = Path(value).expanduser()
        # judged on the path as written: a symlink inside the project (data/ on another disk) is
        # the user's own choice; `..` is not
        resolved = Path(os.path.normpath(given if given.is_absolute() else project / given))
        inside = any(
            p == root or root in p.parents
            for p in (resolved, resolved.resolve())
            for root in (project, project.resolve())
        )
        if not inside and not given.is_absolute():
            out.append(f"{key}: {value!r} resolves to {resolved}, outside the project {project}")
            continue
        if not inside and not external_ok:
            out.append(
                f"{key}: {value!r} is outside the project {project} "
                "(set allow_external_paths: true to use an absolute path there)"
            )
            continue
        if must_exist and not resolved.exists():
            out.append(f"{key}: {value!r} does not exist (and is not a hub id owner/name)")
    return out
