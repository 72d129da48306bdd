"""op_target_shift: the base loss against clean and op-augmented targets."""
import pytest
import torch

from sokd_mmdet.analysis.dafa_target_shift import op_target_shift
from sokd_mmdet.models.sokd.dafa import FEATURE_OPS


def mse(a, b):
    return ((a - b)**2).mean()


def test_channel_drop_moves_the_target_by_the_dropped_fraction():
    # ChannelDrop at m = 1 zeroes round(0.5 * 8) = 4 of 8 channels: on an all-ones map the
    # squared error to the clean target is exactly 4 / 8
    t = torch.ones(2, 8, 3, 3)
    s = torch.full_like(t, 0.5)  # gap 0.25 per element
    r = op_target_shift(
        mse,
        s,
        t,
        FEATURE_OPS['ChannelDrop'],
        1.0,
        draws=3,
        generator=torch.Generator().manual_seed(0))
    assert r['clean'] == pytest.approx(0.25)
    assert r['target_move'] == pytest.approx(0.5)
    # the student's error: 0.25 on the kept channels, 0.5^2 = 0.25 on the dropped ones
    assert r['augmented'] == pytest.approx(0.25)


def test_translate_moves_a_peak_and_noise_barely_moves_anything():
    t = torch.zeros(1, 1, 9, 9)
    t[..., 4, 4] = 1.0
    gen = torch.Generator().manual_seed(0)
    shift = op_target_shift(mse, t, t, FEATURE_OPS['TranslateX'], 1.0, draws=4, generator=gen)
    # a student equal to the teacher has no gap; the shifted peak leaves its cell
    assert shift['clean'] == 0.0
    assert shift['target_move'] == pytest.approx(shift['augmented']) and \
        shift['target_move'] > 1.0 / 81
    noise = op_target_shift(mse, t, t, FEATURE_OPS['Noise'], 0.1, draws=4, generator=gen)
    assert 0 < noise['target_move'] < 1e-3 * shift['target_move']


@pytest.mark.parametrize('name', sorted(FEATURE_OPS))
def test_magnitude_zero_leaves_the_target_in_place(name):
    gen = torch.Generator().manual_seed(1)
    t, s = torch.randn(2, 6, 8, 8, generator=gen), torch.randn(2, 6, 8, 8, generator=gen)
    r = op_target_shift(mse, s, t, FEATURE_OPS[name], 0.0, draws=2, generator=gen)
    assert r['target_move'] == pytest.approx(0.0, abs=1e-10)
    assert r['augmented'] == pytest.approx(r['clean'], rel=1e-6)


def test_argument_errors():
    op = FEATURE_OPS['Noise']
    with pytest.raises(ValueError, match='differ in shape: map the student'):
        op_target_shift(mse, torch.zeros(1, 4, 2, 2), torch.zeros(1, 8, 2, 2), op, 0.5)
    with pytest.raises(ValueError, match='draws must be >= 1'):
        op_target_shift(mse, torch.zeros(1, 4, 2, 2), torch.zeros(1, 4, 2, 2), op, 0.5, 0)
