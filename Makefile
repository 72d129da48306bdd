# The two commands of the README. Both set up .venv first (idempotent, seconds when done).
# `make lint` and `make format` are for changes to the code (.ci/run runs lint, then test).
.PHONY: setup demo test lint format

# what flake8, isort and yapf look at (settings in setup.cfg, versions in requirements/lint.txt);
# the configs are included: MMEngine's `{{_base_.x}}` parses as Python
LINT_PATHS = setup.py sokd_mmdet benchmark tools tests configs

setup:
	bash tools/setup_env.sh

# the demo on the built-in data: student alone, CWD and SoKD from the shipped weights, COCO mAP
demo: setup
	.venv/bin/python tools/quickstart.py

# the test suite (no GPU, no network)
test: setup
	.venv/bin/python -m pytest tests -q -p no:cacheprovider

# check only, changes nothing: all three run, and it fails if any of them complains
lint: setup
	@status=0; \
	echo '[lint] flake8'; .venv/bin/flake8 $(LINT_PATHS) || status=1; \
	echo '[lint] isort --check-only'; .venv/bin/isort --check-only --diff $(LINT_PATHS) || status=1; \
	echo '[lint] yapf --diff'; .venv/bin/yapf --diff --recursive $(LINT_PATHS) || status=1; \
	if [ $$status != 0 ]; then echo '[lint] failed; `make format` fixes the isort and yapf part'; fi; \
	exit $$status

# rewrite in place. isort first: yapf first can move a `# noqa` of a wrapped import to another
# line, and isort then splits the import so that the noqa no longer covers it
format: setup
	.venv/bin/isort $(LINT_PATHS)
	.venv/bin/yapf --in-place --recursive $(LINT_PATHS)
