"""TST's augmented data under SoKD's refined feature distillation."""
from typing import Dict

from mmrazor.registry import MODELS
from torch import Tensor

from ..sokd import SoKD
from .tst import TSTMixin


@MODELS.register_module()
class TSTSoKD(TSTMixin, SoKD):
    """TST + SoKD: the student learns from SoKD's refined knowledge (DAFA + DAM, with the
    policy search) on the original batch plus TST's augmented one.

    The two methods act on different things and compose in sequence: TST chooses *which
    images* the knowledge is transferred on (:class:`TSTMixin`'s augmenter step, then the
    concatenated batch), SoKD refines *what knowledge* the teacher gives on them
    (:meth:`SoKD.train_step_preprocessed` on that batch, policy step included). The
    augmenter is outside SoKD's student side (no virtual step, no student optimiser).

    ``optim_wrapper`` needs ``student``, ``policy`` and ``augmenter`` entries.

    Args:
        augmenter (dict): a :class:`TSTAugmenter` config.
        augment_interval (int): see :class:`TSTMixin`. Defaults to 1.
        student_weight (float): see :class:`TSTMixin`. Defaults to 1.0.
        **kwargs: :class:`SoKD`'s arguments.
    """

    def student_side_parameters(self) -> Dict[str, Tensor]:
        """SoKD's ``theta`` without the augmenter's parameters."""
        return {
            n: p
            for n, p in super().student_side_parameters().items() if not n.startswith('augmenter.')
        }
