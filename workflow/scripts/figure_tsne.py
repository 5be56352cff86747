"""Rule figure1_tsne (Figure 1, right): t-SNE of human vs system response embeddings per language.

input:   test      results/corpus/test.jsonl (the language of every id)
         human     results/embeddings/human.npz
         systems   list of results/seed{seed}/embeddings/{system}.npz (paper: base, hdpo; first run seed)
output:  png       paper_figures/figure1_tsne.png
         pdf       paper_figures/figure1_tsne.pdf
params:  systems   system names of input.systems, same order (e.g. [base, hdpo])
         tsne      config["figures"]["tsne"]: (seed, perplexity, max_points)
         cjk_font  config["figures"]["cjk_font"] (null = known Debian paths)
"""

import numpy as np

from polyalign.evaluation.embeddings import load_embedding_table
from polyalign.io import read_jsonl
from polyalign.report.figures import figure_tsne
from polyalign.report.published import system_label
from polyalign.workflow.io import rule_logging

with rule_logging(snakemake.log[0], snakemake.threads) as log:
    p = snakemake.params
    lang_of = {r["id"]: r["language"] for r in read_jsonl(snakemake.input.test)}
    tables = [("human", load_embedding_table(snakemake.input.human))]
    tables += [
        (system_label(s), load_embedding_table(path)) for s, path in zip(p.systems, snakemake.input.systems)
    ]
    panels = {}
    for lang in sorted(set(lang_of.values())):
        panels[lang] = []
        for label, t in tables:
            E = t.E[[k for k, i in enumerate(t.ids) if lang_of[i] == lang]]
            finite = np.isfinite(E).all(axis=1)
            if not finite.all():  # empty generations have no embedding
                log.info(
                    "%s/%s: %d of %d rows without embedding left out", lang, label, (~finite).sum(), len(E)
                )
            panels[lang].append((label, E[finite]))
    tsne = p["tsne"]
    figure_tsne(
        panels,
        snakemake.output.png,
        snakemake.output.pdf,
        seed=tsne["seed"],
        perplexity=tsne["perplexity"],
        max_points=tsne["max_points"],
        cjk_font=p["cjk_font"],
    )
