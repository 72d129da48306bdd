"""The page's sentences: whether a method beats its base, and how busy the machine was."""
from typing import Optional


def verdict_sentence(c: dict) -> str:
    """One plain sentence: does ``c['method']`` beat ``c['base']`` in this run?"""
    head = (f"**{c['method']}** vs **{c['base']}**: mean AP {100 * c['mean']:.1f} vs "
            f"{100 * c['base_mean']:.1f} ({100 * c['delta']:+.2f} points, {c['n']} vs "
            f"{c['base_n']} seeds). ")
    if c['outcome'] == 'tie':
        result = f"{c['method']} does not beat {c['base']} in this run: the means are equal."
    elif c['within_std'] is None:
        what = 'higher' if c['outcome'] == 'better' else 'lower'
        result = (f"{c['method']} scores {what} than {c['base']} in this run, but with a "
                  'single seed the seed-to-seed spread is unknown, so this does not show '
                  f"that {c['method']} {'beats' if what == 'higher' else 'is worse than'} "
                  f"{c['base']}.")
    elif c['outcome'] == 'better' and not c['within_std']:
        result = (f"{c['method']} beats {c['base']} in this run: the difference is larger "
                  f"than the seed standard deviation ({100 * c['spread']:.2f} points).")
    elif c['outcome'] == 'better':
        result = (f"{c['method']} scores higher than {c['base']} on average, but the "
                  'difference is within the seed standard deviation '
                  f"({100 * c['spread']:.2f} points), so this run does not show that "
                  f"{c['method']} beats {c['base']}.")
    elif c['within_std']:
        result = (f"{c['method']} does not beat {c['base']} in this run: it scores lower on "
                  'average, within the seed standard deviation '
                  f"({100 * c['spread']:.2f} points).")
    else:
        result = (f"{c['method']} does not beat {c['base']} in this run: it scores lower by "
                  'more than the seed standard deviation '
                  f"({100 * c['spread']:.2f} points).")
    return head + result


def load_sentence(load: Optional[dict], cores) -> str:
    """How busy the machine was: runs slow down when they share the cores."""
    if load is None:
        return 'The machine load was not recorded.'
    text = (f"The machine's 5-minute load average at the end of each run was "
            f"{load['min']:.1f}-{load['max']:.1f} ({load['n']} runs" +
            (f"; {load['unknown']} runs made before it was recorded" if load['unknown'] else '') +
            f') on {cores} usable cores')
    if cores and load['max'] > cores + 0.5:
        return text + ': some runs shared the cores, and their times are inflated.'
    return text + '.'
