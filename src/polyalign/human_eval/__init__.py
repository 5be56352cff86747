"""Blind human evaluation (Table 8): the rating sheet and page, and the aggregation of returned ratings."""

CRITERIA = ("task", "grounding", "follow", "align", "quality")
SCORES = (1, 2, 3, 4, 5)
