"""The page's side-by-side cost table, from ``tools/benchmark_cost.py --out <out>/cost.json``.

The per-run times of a benchmark run depend on what else shared the machine while it
trained; ``tools/benchmark_cost.py`` times every row's ``train_step`` interleaved in one
process on the same batches and measures each entry's peak memory in a fresh process. When
its JSON is in the benchmark's output folder (``cost.json``), ``tools/benchmark.py`` puts it
in ``results.json`` and the page shows it first.
"""
import json
import os
import os.path as osp
import shutil
from typing import List, Optional

COST_FILE = 'cost.json'


def load_side_by_side(out_dir: str) -> Optional[dict]:
    """``<out_dir>/cost.json`` (the output of ``tools/benchmark_cost.py``), None if absent.

    Raises:
        ValueError: the file is there but is not the cost tool's output (names the file and
            the command that writes it).
    """
    path = osp.join(out_dir, COST_FILE)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        try:
            data = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f'{path} is not JSON ({e}): rewrite it with '
                             f'python tools/benchmark_cost.py ... --out {path}') from e
    if not isinstance(data, dict) or not isinstance(data.get('rows'), dict):
        raise ValueError(f'{path} has no "rows": it is not the output of '
                         f'tools/benchmark_cost.py; rewrite it with --out {path}')
    return data


def attach_side_by_side(results: dict, out_dir: str, records_dir: Optional[str] = None) -> dict:
    """``results`` with the detection benchmark's side-by-side measurement of ``out_dir``
    (its ``cost.json`` when there, else the committed copy in ``records_dir``, else the one
    ``results`` already had) and its path. A ``cost.json`` of ``out_dir`` is copied to
    ``records_dir`` (:mod:`.archive`), so that the page's cost table outlives the machine."""
    if results.get('task', 'detection') != 'detection':
        return results
    data, path = load_side_by_side(out_dir), osp.join(out_dir, COST_FILE)
    if data is not None and records_dir:
        os.makedirs(records_dir, exist_ok=True)
        shutil.copyfile(path, osp.join(records_dir, COST_FILE))
    elif data is None and records_dir:
        data = load_side_by_side(records_dir)
        path = osp.join(records_dir, COST_FILE) if data is not None else path
    results['side_by_side'] = data or results.get('side_by_side')
    results['side_by_side_file'] = path
    return results


def _time(entry: Optional[dict]) -> str:
    return '—' if entry is None else f"{entry['mean']:.3f} ± {entry['std']:.3f}"


def _ratio(value: Optional[float]) -> str:
    return '—' if value is None else f'{value:.2f}x'


def _spread(std: Optional[float]) -> str:
    """`` ± s`` of a ratio's spread over the interleaved rounds; '' where not measured
    (a measurement written before the tool recorded it)."""
    return '' if std is None else f' ± {std:.2f}'


def suggested_command(methods: List[str], bases: dict, settings: dict, path: str) -> str:
    """The ``tools/benchmark_cost.py`` command that measures the page's rows that have a base
    (and those bases) at the benchmark's image size and run length, writing ``path``."""
    rows = []
    for m in methods:
        if bases.get(m):
            rows += [r for r in (bases[m], m) if r not in rows]
    return (f"python tools/benchmark_cost.py --methods {' '.join(rows)} --iters "
            f"{settings.get('iters')} --img-size {settings.get('img_size')} --batch-size 4 "
            f'--out {path}')


def side_by_side_lines(measurement: dict) -> List[str]:
    """The Markdown table of one ``tools/benchmark_cost.py`` measurement.

    Per row: seconds per iteration (mean ± standard deviation of its timed steps) without
    and with a policy step, the whole-run time per iteration under the row's own search
    schedule (``(1 - f) normal + f search``) and peak memory, each also as a ratio to the
    row's base loss; a time ratio's ``± s`` is its standard deviation over the interleaved
    rounds (:func:`tools.benchmark_cost.paired_ratios`).
    """
    rows = measurement['rows']
    mem = 'peak RSS' if measurement.get('device', 'cpu') == 'cpu' else 'peak GPU memory'
    out = [
        f"Measured side by side by `tools/benchmark_cost.py`: every row's `train_step` "
        f"interleaved in one process on the same batches ({measurement.get('img_size')} px, "
        f"batch {measurement.get('batch_size')}, {measurement.get('steps_per_entry')} timed "
        f"steps per entry, device {measurement.get('device')}, "
        f"{measurement.get('threads')} thread(s)); {mem} of each entry in a fresh process. "
        f"The whole run is priced over {measurement.get('iters')} iterations with the row's "
        'search schedule (share of iterations with a policy step). Ratios are to the '
        "row's base loss (± their standard deviation over the interleaved rounds); the "
        "seconds are this machine's, the ratios the result.", ''
    ]
    if measurement.get('command'):
        out += ['```bash', measurement['command'], '```', '']
    out += [
        '| method | base | s / iteration | with a policy step | policy-step share | '
        f'whole run, s / iteration | ratio | {mem} (MiB) | ratio |',
        '|---|---|---|---|---|---|---|---|---|'
    ]
    for name, r in rows.items():
        per = r['entries']
        plain = per.get(name) or per.get(f'{name}:normal')
        search = per.get(f'{name}:search')
        base = r.get('base')
        normal_ratio = None
        if base in rows and plain is not None:
            normal_ratio = plain['mean'] / rows[base]['whole_run_s_per_iter']
        plain_text = _time(plain) + (
            f' ({_ratio(normal_ratio)}{_spread(r.get("normal_ratio_std"))})'
            if normal_ratio else '')
        search_text = _time(search)
        if search is not None and base in rows:
            search_text += f" ({_ratio(search['mean'] / rows[base]['whole_run_s_per_iter'])})"
        out.append(f"| {name} | {base or '—'} | {plain_text} | {search_text} | "
                   f"{r['search_share']:.2f} | {r['whole_run_s_per_iter']:.3f} | "
                   f"{_ratio(r.get('whole_run_ratio'))}{_spread(r.get('whole_run_ratio_std'))} | "
                   f"{r['peak_mib']:.0f} | "
                   f"{_ratio(r.get('memory_ratio'))} |")
    return out
