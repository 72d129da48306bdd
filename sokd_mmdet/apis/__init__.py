"""Entry points shared by ``tools/train.py`` and ``tools/test.py`` (and the tests)."""
from .config import ConfigError, check_config, load_config

__all__ = ['ConfigError', 'check_config', 'load_config']
