"""The named optimisers of an algorithm that trains more than the student."""
from mmengine.optim import OptimWrapper, OptimWrapperDict


def optim_entry(optim_wrapper,
                name: str,
                algorithm: str,
                example: str,
                why: str = '') -> OptimWrapper:
    """``optim_wrapper[name]``, or a ``KeyError`` that shows the entry to add.

    Args:
        optim_wrapper: what the runner passes to ``train_step``.
        name (str): the entry (``'student'``, ``'policy'``, ``'teacher'``, ``'augmenter'``).
        algorithm (str): the algorithm's name, for the message.
        example (str): a config snippet of the missing entry, for the message.
        why (str): optional reason the algorithm needs it, for the message.
    """
    if not isinstance(optim_wrapper, OptimWrapperDict) or name not in optim_wrapper:
        raise KeyError(f'{algorithm} needs an optim_wrapper entry named "{name}"{why}: use '
                       "constructor='mmrazor.DistillOptimWrapperConstructor' with "
                       f'{example}')
    return optim_wrapper[name]
