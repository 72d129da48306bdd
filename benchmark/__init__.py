"""The distillation benchmark on the built-in data set (``tools/benchmark.py``).

Development tooling, kept out of the installed ``sokd_mmdet`` package (``setup.py`` leaves
it out, as MMDetection does with ``.dev_scripts/``); ``tools/benchmark.py`` puts this
checkout on ``sys.path``. One concept per module:

- what is run: :mod:`.methods` (the rows, each naming its config), :mod:`.settings` (the
  full, ``--quick`` and ``--large`` settings), :mod:`.model_size` (the ResNet pair);
- how one run is set up: :mod:`.run_config` (the per-run config file), :mod:`.options`
  (its ``--cfg-options``), :mod:`.image_size` (``Resize`` found by type), :mod:`.run_key`;
- running: :mod:`.planning` (jobs, work dirs, states, the dry run), :mod:`.training` (the
  training process and its work dir), :mod:`.scalars` (what the logs say), :mod:`.runs`
  (the cached teacher, each method's run), :mod:`.pretraining` (the backbones, pretrained
  once per key on the built-in classification data), :mod:`.locks` and :mod:`.process` (several
  benchmark processes, signals), :mod:`.progress`, :mod:`.machine`, :mod:`.runner`;
- what outlives the machine: :mod:`.archive` (each finished run's record, committed under
  ``benchmark/records/``);
- the page from ``results.json``: :mod:`.report`, :mod:`.summary`, :mod:`.regime` (teacher
  against students, convergence, noise), :mod:`.sentences`,
  :mod:`.markdown`, :mod:`.plots`, :mod:`.classification`, :mod:`.page`.

No module of the package is imported here, so that :mod:`.locks` and :mod:`.process` load
without torch.
"""
import os.path as osp

# the checkout the benchmark runs: its configs, tools/train.py and its git commit
REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
