"""LLM-as-a-judge (Table 3): the rubric, the judge prompt, constrained 1-5 scoring and the table."""
