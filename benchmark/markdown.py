"""The detection page of the benchmark, as Markdown: settings, verdicts, the accuracy and
cost tables, the plots, the methods and the machine."""
from typing import Dict, Optional

from .diagnosis_section import diagnosis_lines
from .model_size import DEFAULT_SIZE, size_label
from .regime import regime, regime_lines
from .sentences import load_sentence, verdict_sentence
from .side_by_side import COST_FILE, side_by_side_lines, suggested_command
from .summary import METRICS, mean_std

# below this AP (a fraction) the page warns that the students have barely learned anything
LOW_AP = 0.05


def _pct(stat: dict) -> str:
    """``mean ± std`` of a fraction, in percent (``n/a`` without values)."""
    if stat['mean'] is None:
        return 'n/a'
    if stat['std'] is None:
        return f"{100 * stat['mean']:.1f}"
    return f"{100 * stat['mean']:.1f} ± {100 * stat['std']:.1f}"


def _num(stat: dict, scale: float = 1.0, digits: int = 2) -> str:
    if stat['mean'] is None:
        return 'n/a'
    text = f"{scale * stat['mean']:.{digits}f}"
    return text if stat['std'] is None else f"{text} ± {scale * stat['std']:.{digits}f}"


def _x(ratio: Optional[float]) -> str:
    return '—' if ratio is None else f'{ratio:.2f}×'


def _models(summary: dict) -> Dict[str, str]:
    """Teacher and student backbone labels of the run (results before ``--models``: the
    default pair)."""
    return size_label(summary.get('settings', {}).get('models') or DEFAULT_SIZE)


def _settings_text(s: dict, teacher: dict, load: Optional[dict] = None, cores=None) -> str:
    seeds = ', '.join(str(x) for x in s.get('seeds', []))
    lines = [
        f"- Data: the built-in Shapes detection set, {s.get('num_train')} training images "
        f"and {s.get('num_val')} held-out images (the generator's `val` split) of "
        f"{s.get('img_size')}×{s.get('img_size')} px, generator seed {s.get('data_seed')}.",
        f"- Teacher: `{teacher.get('config', '?')}`, {s.get('teacher_iters')} iterations" +
        (f" on the images of generator seed {s['teacher_data_seed']} (the setting's own draw; "
         "the backbones too)"
         if s.get('teacher_data_seed', s.get('data_seed')) != s.get('data_seed') else '') +
        (", the one the repository ships (`demo/weights/`)" if teacher.get('shipped') else '') +
        '.',
        _models_line(s.get('models') or DEFAULT_SIZE, s.get('pretrain_iters')),
        f"- Students: {s.get('iters')} iterations each, seeds {seeds}; the held-out split is "
        f"evaluated every {s.get('eval_interval')} iterations for the curves. Every config's "
        'learning-rate schedule is stretched to the run length (warm-up and steps at the '
        'same fractions).',
        '- The held-out split is never used for selection or tuning: every number is the '
        'final checkpoint of its run (no best-checkpoint pick), with the configs as they '
        'are in the repository.',
        f"- Time per iteration: mean of MMEngine's logged `time` (data loading included) "
        f"over the run, leaving out the first {s.get('warmup_iters')} iteration(s) and each "
        'iteration that follows an evaluation (its timer includes the COCO evaluation). '
        'Whole run: the logged times of all its iterations, each once (the evaluations '
        'included through the iteration that follows each; start-up, the final evaluation '
        'and checkpoint writing left out), so that a run interrupted and resumed counts like '
        "an uninterrupted one; the processes' wall times are in `results.json`. Peak "
        'memory: the largest resident set size of the training process (its `wait4` '
        "rusage); on a GPU also the largest `memory` MMEngine logs (CUDA memory held by "
        'tensors). Each benchmark process trains its '
        'runs one after another (several processes may share the output folder). ' +
        load_sentence(load, cores),
    ]
    if s.get('quick'):
        lines.insert(
            0, '- **Smoke setting (`--quick`)**: far too short to compare methods; '
            'it only checks that every method trains and the page is written.')
    return '\n'.join(lines)


def _models_line(size: str, pretrain_iters: Optional[int] = None) -> str:
    label = size_label(size)
    how = ('the configs as they are' if size == DEFAULT_SIZE else
           f'`--models {size}`: the configs\' backbones swapped by `--cfg-options`, the FPN '
           'inputs following them; everything from the FPN on as configured')
    start = ('from scratch' if not pretrain_iters else
             f'pretrained by the benchmark for {pretrain_iters} iterations on the built-in '
             'classification images (`configs/pretrain/`), loaded through `init_cfg`')
    return (f"- Detectors: {label['teacher']} teacher, {label['student']} students "
            f'(RetinaNet, ResNet backbones {start}; {how}).')


def render_markdown(summary: dict, images: Optional[Dict[str, str]] = None) -> str:
    """The benchmark page, every number taken from ``summary``.

    Args:
        summary (dict): the output of :func:`.summary.summarise`.
        images (dict, optional): ``map_curve`` and ``policy`` -> link of the plot (relative
            to the page); a missing key leaves that plot out. Defaults to
            ``images/benchmark_map_curve.png`` and, when a run learned a policy,
            ``images/benchmark_policy.png``.

    Returns:
        str: Markdown.
    """
    if images is None:
        images = {'map_curve': 'images/benchmark_map_curve.png'}
        if any(m['policy'] for m in summary['methods']):
            images['policy'] = 'images/benchmark_policy.png'
    s, teacher, machine = summary['settings'], summary['teacher'], summary['machine']
    out = [
        '# Benchmark: SoKD against its base losses on the built-in data set', '',
        '*Generated by `tools/benchmark.py` from its `results.json`; do not edit by hand '
        '(re-run the command below).*', '',
        _settings_text(s, teacher, summary.get('load'), machine.get('usable_cores')), ''
    ]

    figures = regime(summary, summary.get('pretrained'))
    if figures is not None:
        out += [
            '## The regime', '',
            'What the comparisons below rest on: a teacher clearly stronger than every '
            'student, a student alone that has converged, seed noise below the differences '
            'looked for.', ''
        ] + regime_lines(figures) + ['']

    out += ['## Does SoKD beat its base loss?', '']
    best = max((m['metrics']['AP']['mean']
                for m in summary['methods'] if m['metrics']['AP']['mean'] is not None),
               default=None)
    if best is not None and best < LOW_AP:
        out += [
            f'**Caution:** the best method reaches only {100 * best:.1f} AP (below '
            f'{100 * LOW_AP:.0f}): at this training length the students have barely '
            'started to learn, and differences between methods say little.', ''
        ]
    if summary['comparisons']:
        out += [
            'A difference counts as real only when it is larger than the larger of the '
            'two methods\' seed standard deviations of AP.', ''
        ]
        out += [f'- {verdict_sentence(c)}' for c in summary['comparisons']]
    else:
        out.append('No SoKD method and its base loss both finished in this run: no '
                   'comparison.')
    out.append('')

    out += [
        '## Accuracy (COCO bbox mAP on the held-out split, %)', '',
        'Mean ± sample standard deviation over seeds; the teacher was trained once.', '',
        '| method | seeds | ' + ' | '.join(METRICS) + ' | ΔAP vs student | AP per seed |',
        '|---|---|' + '---|' * len(METRICS) + '---|---|'
    ]
    tm = teacher.get('metrics')
    if tm:
        out.append(f"| teacher ({_models(summary)['teacher']}) | 1 | " +
                   ' | '.join(_pct(mean_std([tm.get(m)])) for m in METRICS) + ' | — | — |')
    for m in summary['methods']:
        ap = m['metrics']['AP']['mean']
        delta = ('—' if summary['student_ap'] is None or ap is None or m['name'] == 'student' else
                 f"{100 * (ap - summary['student_ap']):+.2f}")
        seeds = ' / '.join('n/a' if v is None else f'{100 * v:.1f}' for v in m['per_seed_ap'])
        out.append(f"| {m['name']} | {len(m['seeds'])} | " +
                   ' | '.join(_pct(m['metrics'][k]) for k in METRICS) + f' | {delta} | {seeds} |')
    out.append('')
    empty = [
        f"{m['name']} (seed {', '.join(str(s) for s in m['no_detections'])})"
        for m in summary['methods'] if m['no_detections']
    ]
    if empty:
        out += [
            'No box passed the score threshold in the final evaluation of: ' + '; '.join(empty) +
            ' (counted as AP 0).', ''
        ]

    gpu = any(m['cost']['gpu_mem_mib']['mean'] is not None for m in summary['methods'])
    out += ['## Cost', '']
    if summary.get('side_by_side'):
        out += side_by_side_lines(summary['side_by_side']) + ['']
    else:
        command = suggested_command([m['name'] for m in summary['methods']],
                                    {m['name']: m['base']
                                     for m in summary['methods']}, s,
                                    summary.get('side_by_side_file') or COST_FILE)
        out += [
            f'Not measured side by side for this page yet: run `{command}`, then rewrite '
            'the page (`--done-only` or `--report-only`).', ''
        ]
    out += [
        '### Per run (secondary)', '',
        'Each run\'s own logged times and peak memory, mean ± standard deviation over seeds; '
        'ratios are to the method\'s base loss. Runs that shared the cores are slowed by '
        'whatever else ran (the load average above), so these times compare runs only '
        'roughly; the table above is the cost comparison.', '',
        '| method | base | s / iteration | ratio | whole run (s) | ratio | '
        'peak RSS (MiB) | ratio |' + (' peak GPU memory (MiB) | ratio |' if gpu else ''),
        '|---|---|---|---|---|---|---|---|' + ('---|---|' if gpu else '')
    ]
    for m in summary['methods']:
        r = m['ratio'] or {}
        out.append(
            f"| {m['name']} | {m['base'] or '—'} | {_num(m['cost']['iter_time_s'], 1, 3)} | "
            f"{_x(r.get('iter_time_s'))} | {_num(m['cost']['run_s'], 1, 0)} | "
            f"{_x(r.get('run_s'))} | {_num(m['cost']['peak_rss_mib'], 1, 0)} | "
            f"{_x(r.get('peak_rss_mib'))} |" +
            (f" {_num(m['cost']['gpu_mem_mib'], 1, 0)} | {_x(r.get('gpu_mem_mib'))} |"
             if gpu else ''))
    tc = teacher.get('cost') or {}
    if tc:
        out += [
            '', f"The teacher's training took {tc.get('run_s') or 0:.0f} s, "
            f"{tc.get('iter_time_s') or 0:.3f} s per iteration, peak RSS "
            f"{tc.get('peak_rss_mib') or 0:.0f} MiB" +
            ('; this run reused its cached checkpoint.' if teacher.get('cached') else '.')
        ]
    out.append('')

    out += ['## Plots', '']
    if 'map_curve' in images:
        out += [
            f"![mAP vs iteration]({images['map_curve']})", '',
            'AP on the held-out split against training iterations, mean over seeds '
            '(shaded: ± one standard deviation); solid: SoKD variants, dashed: the '
            'others, dotted black: the final teacher.', ''
        ]
    if 'policy' in images:
        out += [
            f"![learned DAFA policy]({images['policy']})", '',
            'The learned DAFA policy of each method with a policy search, mean over '
            'seeds: per op, the expected apply probability and the weighted magnitude.', ''
        ]

    out += diagnosis_lines(summary)
    out += ['## Methods', '', '| method | config | base | what |', '|---|---|---|---|']
    for m in summary['methods']:
        out.append(f"| {m['name']} | `{m['config']}` | {m['base'] or '—'} | {m['about']} |")
    out.append('')
    if summary['failed']:
        out += ['## Failed runs', '']
        out += [f"- {f['method']} seed {f['seed']}: see `{f['log']}`" for f in summary['failed']]
        out.append('')

    if summary['not_run']:
        out += [
            '## Planned runs not on this page', '',
            'The command planned these runs, but they had not finished when the page was '
            'written (`--done-only` reports finished runs only); their state then:', ''
        ]
        out += [f"- {r['method']} seed {r['seed']}: {r['state']}" for r in summary['not_run']]
        out.append('')

    out += [
        '## Machine and command', '',
        f"- CPU: {machine.get('cpu_model', '?')}, {machine.get('usable_cores', '?')} "
        f"usable of {machine.get('logical_cores', '?')} logical cores; OMP_NUM_THREADS="
        f"{machine.get('omp_num_threads') or 'unset'}",
        f"- GPU: {machine.get('gpu') or 'none (the runs trained on the CPU)'}",
        f"- Python {machine.get('python', '?')}, torch {machine.get('torch', '?')}, "
        f"mmengine {machine.get('mmengine', '?')}, mmdet {machine.get('mmdet', '?')}, "
        f"mmrazor {machine.get('mmrazor', '?')}",
        f"- Code: commit {machine.get('commit') or '?'}" +
        (' with uncommitted changes' if machine.get('uncommitted_changes') else ''),
        f"- Finished {machine.get('finished', '?')}", '', '```bash', summary['command'], '```', ''
    ]
    return '\n'.join(out)
