"""Time the text-feature extractor (no LM part) on synthetic bilingual responses.

    python benchmarks/bench_features.py [--n 10000] [--seed 0]

Target (docs/features.md): 10,000 responses in < 60 s on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import random
import time

EN_WORDS = (
    "the a an I you we it is was are be have do not and or but so if when what why how "
    "question answer people think really good time know just like make see work day "
    "world year because about would could should there their this that don't it's "
    "Python London 2024 3.5 OK"
).split()
ZH_PHRASES = (
    "我们 今天 天气 很好 你 知道 为什么 这个 问题 非常 有意思 我 觉得 可以 试试 "
    "北京 大学 学生 老师 喜欢 读书 吃饭 了 吗 呢 吧 的 是 不是 没有 时候 因为 所以 "
    "但是 如果 哈哈哈 Python 2024"
).split()
EN_END = [". ", "? ", "! ", "... ", ".\n", "\n\n- "]
ZH_END = ["。", "？", "！", "……", "，", "\n", "、"]


def synthetic_response(rng: random.Random) -> tuple[str, str]:
    language = rng.choice(["en", "zh"])
    n_sentences = rng.randint(1, 8)
    parts = []
    for _ in range(n_sentences):
        k = rng.randint(3, 25)
        if language == "en":
            sent = " ".join(rng.choice(EN_WORDS) for _ in range(k))
            parts.append(sent[:1].upper() + sent[1:] + rng.choice(EN_END))
        else:
            parts.append("".join(rng.choice(ZH_PHRASES) for _ in range(k)) + rng.choice(ZH_END))
    return "".join(parts), language


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    t0 = time.perf_counter()
    from polyalign.features.extract import extract_text_features
    from polyalign.features.segment import words
    from polyalign.features.spec import feature_names

    words("预热", "zh")  # jieba's dictionary load is a one-off cost, timed separately
    t_init = time.perf_counter() - t0

    rng = random.Random(args.seed)
    data = [synthetic_response(rng) for _ in range(args.n)]
    texts, languages = [t for t, _ in data], [lg for _, lg in data]
    n_chars = sum(len(t) for t in texts)

    t1 = time.perf_counter()
    matrix = extract_text_features(texts, languages)
    elapsed = time.perf_counter() - t1
    print(f"import + jieba init: {t_init:.2f} s")
    print(
        f"{args.n} responses ({languages.count('en')} en, {languages.count('zh')} zh, "
        f"{n_chars / args.n:.0f} chars on average), {len(feature_names())} features"
    )
    print(
        f"extract_text_features: {elapsed:.2f} s ({args.n / elapsed:.0f} responses/s), matrix {matrix.shape}"
    )


if __name__ == "__main__":
    main()
