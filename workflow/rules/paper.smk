# One rule per paper table or figure, named after it.


rule table1_corpus_inventory:
    input:
        train="results/corpus/train.jsonl",
        val="results/corpus/val.jsonl",
        test="results/corpus/test.jsonl",
        stats="results/corpus/bucket_stats.json",
    output:
        md="paper_figures/table1_corpus_inventory.md",
        tex="paper_figures/table1_corpus_inventory.tex",
    log:
        "results/logs/table1_corpus_inventory.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/table1_corpus_inventory.py"
