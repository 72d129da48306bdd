"""The benchmark's outputs: ``results.json`` and, from it, the page and its plots.

Everything on the page reads the results dict that ``tools/benchmark.py`` writes, so every
number on the page (and in the plots) comes from one file:

- :func:`.summary.summarise` turns the per-run records into per-method statistics (mean and
  sample standard deviation over seeds), cost ratios of each method to its base loss, and
  the comparisons of each SoKD variant with its base loss;
- :func:`.markdown.render_markdown` writes the page (``docs/benchmark.md``);
- :func:`.plots.plot_map_curves` and :func:`.plots.plot_policies` write the pictures it
  links to; :func:`.classification.render_classification` the page's classification part.

The results dict (``schema`` 1)::

    {'command': str, 'machine': {...}, 'settings': {...},
     'methods': {name: {'config': str, 'base': str | None, 'about': str,
                        'ablation': bool | None}},          # in the order of the tables
     'teacher': {'config': str, 'metrics': {AP...} | None, 'cost': {...}},
     'runs': [{'method': str, 'seed': int,
               'metrics': {'AP': .., 'AP50': .., 'AP75': .., 'APs': .., 'APm': .., 'APl': ..},
               'curve': [{'iter': int, 'AP': float, ...}, ...],
               'cost': {'iter_time_s': float, 'run_s': float, 'wall_s': float,
                        'cpu_s': float | None,  # user + system; None: not recorded
                        'peak_rss_mib': float, 'load5': float | None,
                        'gpu_mem_mib': float | None},   # None: trained on a CPU
               'policy_history': [DAFAPolicyLoggerHook records] | None,
               'diagnosis': [training_log.diagnose phases] | None}, ...],
     'failed': [{'method': str, 'seed': int, 'log': str}, ...],
     'not_run': [{'method': str, 'seed': int, 'state': str}, ...],  # --done-only
     'side_by_side': {tools/benchmark_cost.py's JSON} | None,  # <out>/cost.json if there
     'side_by_side_file': str}

COCO metrics are fractions in [0, 1] (None where COCO reports -1: no object of that size);
the page shows them in percent.
"""
import json
import os
import os.path as osp
from typing import Optional

from .classification import render_classification
from .markdown import render_markdown
from .page import keep_block, replace_block
from .plots import plot_map_curves, plot_policies
from .sentences import verdict_sentence
from .summary import summarise


def write_report(results: dict, report_file: str, image_dir: Optional[str] = None) -> dict:
    """Summarise ``results`` and write the page and its two plots.

    Args:
        results (dict): the contents of ``results.json``.
        report_file (str): the Markdown page.
        image_dir (str, optional): folder of the plots; defaults to ``images/`` next to the
            page. They are ``<page name>_map_curve.png`` and ``<page name>_policy.png``.

    Returns:
        dict: the summary, with ``files`` (what was written).
    """
    summary = summarise(results)
    page_dir = osp.dirname(osp.abspath(report_file))
    image_dir = image_dir or osp.join(page_dir, 'images')
    # named after the page: two pages in one folder (benchmark.md, benchmark-tune.md) keep
    # their own plots
    stem = osp.splitext(osp.basename(report_file))[0]
    curve = plot_map_curves(summary, osp.join(image_dir, f'{stem}_map_curve.png'))
    policy = plot_policies(summary, osp.join(image_dir, f'{stem}_policy.png'))
    images = {'map_curve': osp.relpath(curve, page_dir)}
    if policy:
        images['policy'] = osp.relpath(policy, page_dir)
    old = None
    if osp.isfile(report_file):
        with open(report_file) as f:
            old = f.read()
    with open(report_file, 'w') as f:  # the classification section, if any, stays
        f.write(keep_block(old, render_markdown(summary, images)))
    summary['files'] = [report_file, curve] + ([policy] if policy else [])
    return summary


def write_outputs(args, results: dict) -> None:
    """``<out>/results.json`` and the page with its plots (classification: its own section).

    Args:
        args (argparse.Namespace): the command's ``out`` and ``report``.
        results (dict): the results dict (see the module docstring).
    """
    with open(osp.join(args.out, 'results.json'), 'w') as f:
        json.dump(results, f, indent=1)
    report = args.report if osp.isabs(args.report) else osp.join(os.getcwd(), args.report)
    os.makedirs(osp.dirname(report), exist_ok=True)
    if results.get('task') == 'classification':
        old = open(report).read() if osp.isfile(report) else None
        with open(report, 'w') as f:
            f.write(replace_block(old, render_classification(results)))
        print(
            f'wrote {osp.join(args.out, "results.json")}, {report} (classification section)',
            flush=True)
        return
    summary = write_report(results, report)
    print(
        'wrote ' + ', '.join([osp.join(args.out, 'results.json')] + summary['files']), flush=True)
    for c in summary['comparisons']:
        print('  ' + verdict_sentence(c).replace('**', ''), flush=True)
