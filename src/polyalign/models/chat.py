"""Chat templates: each model family renders prompts with its own template.

`install_chat_template` applies the `model.chat_template` setting (own = keep the tokenizer's;
else a .jinja file). `fit_messages` adapts the pipeline's messages (an optional system message,
history, the user turn) to what a template accepts: a template that rejects the system role
(Gemma-2's raises "System role not supported") gets the system text folded into the first user
turn, and consecutive turns of one role merged, since such templates also require strict
user/assistant alternation. A template that writes a default system prompt of its own when the
messages have none (Qwen2's "You are a helpful assistant.", Qwen2.5's "You are Qwen, created by
Alibaba Cloud. ...") gets an explicit empty system message instead, so the `plain` style (BaseLM,
SFT, DPO) carries no persona and differs from the `profile` style only by the profile text.
Both properties are found by rendering probe conversations once per template string, never by
the family's name.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

_PROBE = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]


# Templates shipped with the package for base checkpoints that have none, by family (a
# `model.chat_template` value): deterministic (no dates, no tools branches), the family's
# published instruct format. llama3: Meta-Llama-3-Instruct's template, for the base
# meta-llama/Llama-3.2-3B (whose tokenizer ships none; its vocabulary has the header/eot tokens).
SHIPPED_TEMPLATES = {"llama3": Path(__file__).parent / "templates/llama3.jinja"}


def install_chat_template(tokenizer, setting: str | None):
    """`own`/None: keep the tokenizer's template (error if it has none); a SHIPPED_TEMPLATES name:
    that template; else read a .jinja file."""
    if setting in (None, "own"):
        if not getattr(tokenizer, "chat_template", None):
            raise ValueError(
                "model.chat_template is 'own' but the tokenizer has no chat template (a base "
                f"checkpoint?); set model.chat_template to a shipped template ({', '.join(SHIPPED_TEMPLATES)}) "
                "or a .jinja file"
            )
        return tokenizer
    path = SHIPPED_TEMPLATES.get(setting, Path(setting))
    if not path.is_file():
        raise FileNotFoundError(
            f"model.chat_template: {setting}: no such file (shipped templates: {', '.join(SHIPPED_TEMPLATES)})"
        )
    tokenizer.chat_template = path.read_text(encoding="utf-8")
    return tokenizer


_TURN_PROBE = [{"role": "user", "content": "u"}, {"role": "assistant", "content": "polyalign-answer"}]


def end_of_turn_token(tokenizer) -> str | None:
    """The special token the chat template writes right after an assistant turn's text
    (<|im_end|>, <|eot_id|>, <end_of_turn>, or eos), found by rendering one turn; None without a
    template or when no special token follows the answer."""
    template = getattr(tokenizer, "chat_template", None)
    if not template:
        return None
    from transformers.utils.chat_template_utils import render_jinja_template

    rendered, _ = render_jinja_template(
        conversations=[fold_system(_TURN_PROBE)], chat_template=template, **tokenizer.special_tokens_map
    )
    after = rendered[0].split("polyalign-answer", 1)[-1]
    specials = sorted(
        {*tokenizer.all_special_tokens, *(str(t) for t in tokenizer.added_tokens_decoder.values())},
        key=len,
        reverse=True,
    )
    return next((t for t in specials if t and after.startswith(t)), None)


@lru_cache(maxsize=16)
def _template_takes_system(template: str, special_tokens: tuple) -> bool:
    from transformers.utils.chat_template_utils import render_jinja_template

    try:
        render_jinja_template(
            conversations=[_PROBE], chat_template=template, add_generation_prompt=True, **dict(special_tokens)
        )
    except Exception as e:  # jinja's TemplateError from raise_exception(...), or a template bug
        if "system" in str(e).lower():
            return False
        raise
    return True


def supports_system_role(tokenizer) -> bool:
    template = getattr(tokenizer, "chat_template", None)
    if not template:
        return False
    special = tuple(sorted((k, v) for k, v in tokenizer.special_tokens_map.items() if isinstance(v, str)))
    return _template_takes_system(template, special)


def fold_system(messages: list[dict]) -> list[dict]:
    """Messages without a system role: the system text opens the first user turn (a user turn is
    inserted when the conversation starts with the assistant), and consecutive turns of one role
    are joined, so the result alternates user/assistant and ends with the user."""
    system = [m["content"] for m in messages if m["role"] == "system"]
    rest = [dict(m) for m in messages if m["role"] != "system"]
    if system:
        prefix = "\n\n".join(system)
        if rest and rest[0]["role"] == "user":
            rest[0]["content"] = f"{prefix}\n\n{rest[0]['content']}"
        else:
            rest.insert(0, {"role": "user", "content": prefix})
    merged: list[dict] = []
    for m in rest:
        if merged and merged[-1]["role"] == m["role"]:
            merged[-1]["content"] += "\n\n" + m["content"]
        else:
            merged.append(m)
    return merged


_USER_ONLY = ({"role": "user", "content": "u"},)
_EMPTY_SYSTEM = {"role": "system", "content": ""}


@lru_cache(maxsize=16)
def _template_injects_system(template: str, special_tokens: tuple) -> bool:
    from transformers.utils.chat_template_utils import render_jinja_template

    def render(messages):
        out, _ = render_jinja_template(
            conversations=[list(messages)],
            chat_template=template,
            add_generation_prompt=True,
            **dict(special_tokens),
        )
        return out[0]

    # Without a default, leaving the system message out renders less than an empty one (no
    # system block at all); a template that is longer without it wrote text of its own there.
    return len(render(_USER_ONLY)) > len(render((_EMPTY_SYSTEM, *_USER_ONLY)))


def injects_default_system(tokenizer) -> bool:
    """True when the tokenizer's template writes a system prompt of its own for a conversation
    that has none (Qwen2/Qwen2.5 templates)."""
    if not supports_system_role(tokenizer):
        return False
    special = tuple(sorted((k, v) for k, v in tokenizer.special_tokens_map.items() if isinstance(v, str)))
    return _template_injects_system(tokenizer.chat_template, special)


def fit_messages(messages: list[dict], tokenizer) -> list[dict]:
    """`messages` as the tokenizer's template accepts them: the system text folded into the user
    turn where the template has no system role; an explicit empty system message where the
    template would otherwise inject its own default; else unchanged."""
    if not supports_system_role(tokenizer):
        return fold_system(messages)
    if (not messages or messages[0]["role"] != "system") and injects_default_system(tokenizer):
        return [dict(_EMPTY_SYSTEM), *messages]
    return messages
