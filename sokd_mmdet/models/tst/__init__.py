"""TST ("Teaching What You Should Teach"): a learned, box-consistent image augmenter trained
in turn with the distillation, alone (:class:`TST`) or under SoKD (:class:`TSTSoKD`)."""
from .augmenter import TSTAugmenter
from .image_ops import IMAGE_OPS, build_image_ops
from .tst import TST, TSTMixin
from .tst_sokd import TSTSoKD

__all__ = ['IMAGE_OPS', 'TST', 'TSTAugmenter', 'TSTMixin', 'TSTSoKD', 'build_image_ops']
