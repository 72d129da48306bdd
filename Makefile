# The two commands of the README. Both set up .venv first (idempotent, seconds when done).
.PHONY: setup demo test

setup:
	bash tools/setup_env.sh

# the main job on the built-in data set: data, teacher, SoKD student, COCO mAP
demo: setup
	.venv/bin/python tools/quickstart.py

# the test suite (no GPU, no network)
test: setup
	.venv/bin/python -m pytest tests -q -p no:cacheprovider
