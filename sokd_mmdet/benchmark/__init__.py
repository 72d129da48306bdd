"""The distillation benchmark's report: statistics, the Markdown page and its plots.

``tools/benchmark.py`` runs the benchmark and writes ``results.json``; this package turns
that file into ``docs/benchmark.md``.
"""
from .classification import render_classification, summarise_classification
from .page import keep_block, replace_block
from .report import (METRICS, mean_std, plot_map_curves, plot_policies, render_markdown,
                     summarise, verdict_sentence, write_report)

__all__ = [
    'METRICS', 'mean_std', 'summarise', 'render_markdown', 'verdict_sentence',
    'plot_map_curves', 'plot_policies', 'write_report', 'summarise_classification',
    'render_classification', 'replace_block', 'keep_block'
]
