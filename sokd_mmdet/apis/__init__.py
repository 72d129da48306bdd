"""Entry points shared by ``tools/train.py`` and ``tools/test.py`` (and the tests)."""
from .config import ConfigError, check_config, check_resume, init_cpu_distributed, load_config
from .export import export_student, student_state_dict

__all__ = [
    'ConfigError', 'check_config', 'check_resume', 'init_cpu_distributed', 'load_config',
    'export_student', 'student_state_dict'
]
