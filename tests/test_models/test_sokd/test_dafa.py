"""The registered DAFA module (sokd_mmdet/models/sokd/dafa/dafa.py)."""
import io
import itertools

import pytest
import torch

import sokd_mmdet  # noqa: F401  (compatibility layer before mmrazor)

# isort: split
from mmrazor.registry import MODELS

from sokd_mmdet.models.sokd.dafa.dafa import DAFA, DEFAULT_OPS
from sokd_mmdet.models.sokd.dafa.policy import relax_gradient

SHAPES = [(2, 8, 32, 32), (2, 8, 16, 16), (2, 8, 8, 8), (2, 8, 4, 4), (2, 8, 2, 2)]
NO_NOISE = ('ShearX', 'TranslateY', 'Rotate', 'Cutout', 'ChannelShuffle', 'ChannelDrop')


def levels(shapes=SHAPES, seed=0):
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(*s, generator=g) for s in shapes)


def force(dafa, k=None, prob=None):
    """Make sub-policy ``k`` certain and/or set every apply probability to ``prob``."""
    with torch.no_grad():
        if k is not None:
            dafa.weights.fill_(-50.0)
            dafa.weights[k] = 50.0
        if prob is not None:
            dafa.probs.fill_(prob)


def reference(dafa, feats):
    """Apply the drawn sub-policy image by image with the ops themselves (no Noise)."""
    index, flags = dafa.last_draw
    outs = []
    for x in feats:
        n, c = x.shape[:2]
        params = dafa.op_params(n, c, x.device)
        images = []
        for j in range(n):  # the slow reference loops over images on purpose
            k = int(index[0] if dafa.draw == 'batch' else index[j])
            row = flags[0 if dafa.draw == 'batch' else j]
            y = x[j:j + 1]
            for i, op_index in enumerate(dafa.sub_policies[k].tolist()):
                if row[i]:
                    op = dafa.feature_ops[op_index]
                    p = {key: t[j:j + 1] for key, t in params[op.name].items()}
                    y = op.apply(y, dafa.magnitudes[k, i], p)
            images.append(y)
        outs.append(torch.cat(images))
    return outs


def test_registry_build_and_defaults():
    dafa = MODELS.build(dict(_scope_='mmrazor', type='DAFA'))
    assert isinstance(dafa, DAFA)
    assert dafa.op_names == DEFAULT_OPS and dafa.num_sub_policies == 36
    assert dafa.sub_policies.shape == (36, 2)
    assert torch.equal(dafa.weights.data, torch.zeros(36))
    assert torch.equal(dafa.probs.data, torch.full((36, 2), 0.5))
    assert torch.equal(dafa.magnitudes.data, torch.full((36, 2), 0.5))
    assert [p.shape for p in dafa.control_variate.parameters()] == [(64, 36 * 4), (64, ), (1, 64),
                                                                    (1, )]
    assert dafa.policy_parameters() == (dafa.weights, dafa.probs, dafa.magnitudes)
    assert dafa.enabled and dafa.draw == 'batch' and dafa.temperature == 0.5
    # Only the policy and the control variate are parameters; the sub-policy table is
    # derived from the config and not saved.
    assert {k
            for k in dafa.state_dict() if not k.startswith('control_variate')
            } == {'weights', 'probs', 'magnitudes', '_extra_state'}
    small = DAFA(
        ops=('Rotate', 'Cutout', 'Noise'),
        num_ops=2,
        estimator='reinforce',
        init_prob=0.3,
        init_magnitude=0.1)
    assert small.num_sub_policies == 3 and small.control_variate is None
    assert small.sub_policy_name(1) == 'Rotate+Noise'
    assert torch.equal(small.probs.data, torch.full((3, 2), 0.3))


@pytest.mark.parametrize('kwargs,match', [
    (dict(ops=('Rotate', 'Solarize')), r"unknown DAFA feature op\(s\) \['Solarize'\]"),
    (dict(estimator='gumbel'), r"'gumbel' is not implemented.*'relax', 'reinforce'"),
    (dict(draw='level'), 'draw must be one of'),
    (dict(ops=('Rotate', 'Cutout'), num_ops=3), 'num_ops'),
    (dict(init_prob=1.0), 'init_prob'),
    (dict(init_magnitude=1.5), 'init_magnitude'),
])
def test_config_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DAFA(**kwargs)


def test_forward_shapes_and_identities():
    dafa = DAFA()
    feats = levels()
    with pytest.raises(RuntimeError, match='resample'):
        dafa(feats)
    force(dafa, prob=1.0)
    dafa.resample(2)
    out = dafa(feats)
    assert isinstance(out, tuple) and [o.shape for o in out] == [f.shape for f in feats]
    assert not any(torch.equal(o, f) for o, f in zip(out, feats))

    dafa.enabled = False
    assert all(o is f for o, f in zip(dafa(list(feats)), feats))
    dafa.enabled = True

    force(dafa, prob=0.0)  # no flag can be drawn: every op is skipped
    for _ in range(5):
        dafa.resample(2)
        assert not dafa.last_draw[1].any()
        assert all(o is f for o, f in zip(dafa(feats), feats))


@pytest.mark.parametrize('draw', ['batch', 'image'])
def test_forward_matches_the_ops_applied_image_by_image(draw):
    dafa = DAFA(ops=NO_NOISE, draw=draw, seed=3)
    with torch.no_grad():
        dafa.weights.copy_(
            torch.randn(dafa.num_sub_policies, generator=torch.Generator().manual_seed(1)))
        dafa.magnitudes.uniform_(0.2, 1.0)
    n = 6
    feats = levels([(n, 8, 16, 12), (n, 8, 8, 6)])
    for _ in range(4):
        dafa.resample(n)
        for got, expected in zip(dafa(feats), reference(dafa, feats)):
            torch.testing.assert_close(got, expected)
    if draw == 'image':
        assert dafa.last_draw[0].shape == (n, ) and len(set(dafa.last_draw[0].tolist())) > 1
        with pytest.raises(ValueError, match='resample'):
            dafa(levels([(3, 8, 4, 4)]))


def test_op_params_are_shared_by_levels_of_any_channel_count():
    dafa = DAFA(ops=('ChannelDrop', 'Rotate', 'Cutout'))
    dafa.resample(3)
    narrow, wide = dafa.op_params(3, 4, 'cpu'), dafa.op_params(3, 16, 'cpu')
    assert narrow['ChannelDrop']['scores'].shape == (3, 4)
    assert wide['ChannelDrop']['scores'].shape == (3, 16)
    assert torch.equal(narrow['Rotate']['sign'], wide['Rotate']['sign'])
    assert torch.equal(narrow['Cutout']['centre'], wide['Cutout']['centre'])
    assert dafa.op_params(3, 4, 'cpu') is narrow  # cached until the next draw
    dafa.resample(3)
    assert not torch.equal(
        dafa.op_params(3, 4, 'cpu')['Cutout']['centre'], narrow['Cutout']['centre'])


def test_forward_is_deterministic_within_a_draw_and_noise_differs_per_level():
    dafa = DAFA()
    cutout, noise = dafa.op_names.index('Cutout'), dafa.op_names.index('Noise')
    row = dafa.sub_policies.tolist().index([cutout, noise])
    force(dafa, k=row)
    with torch.no_grad():
        dafa.probs[row] = torch.tensor([0.0, 1.0])  # Noise only
        dafa.magnitudes[row, 1] = 0.8
    dafa.resample(2)
    x = levels([(2, 8, 16, 16)])[0]
    feats = (x, x.clone())
    first, second = dafa(feats), dafa(feats)
    for a, b in zip(first, second):  # repeated forwards see the same augmentation
        torch.testing.assert_close(a, b, atol=0, rtol=0)
    field0, field1 = first[0] - x, first[1] - x
    assert not torch.allclose(field0, field1)  # each level draws its own field
    ratio = field0.flatten(1).std(dim=1) / x.flatten(1).std(dim=1)
    torch.testing.assert_close(ratio, torch.full((2, ), 0.08), atol=0.008, rtol=0)
    dafa.resample(2)
    assert not torch.allclose(dafa(feats)[0], first[0])  # a new draw, new noise


def test_gradient_reaches_only_the_drawn_applied_magnitudes():
    dafa = DAFA()
    force(dafa, k=20)
    with torch.no_grad():
        dafa.probs[20] = torch.tensor([1.0, 0.0])  # first op applied, second never
    dafa.resample(2)
    index, flags = dafa.last_draw
    assert index.tolist() == [20] and flags.tolist() == [[True, False]]
    feats = levels()
    loss = sum((o * torch.randn_like(o)).sum() for o in dafa(feats))
    loss.backward()
    nonzero = (dafa.magnitudes.grad != 0).nonzero().tolist()
    assert nonzero == [[20, 0]]
    assert dafa.weights.grad is None and dafa.probs.grad is None

    # Per-image draws: exactly the (k, i) entries applied to some image get a gradient.
    dafa = DAFA(draw='image', seed=5)
    n = 8
    dafa.resample(n)
    loss = sum((o * torch.randn_like(o)).sum() for o in dafa(levels([(n, 8, 8, 8)])))
    loss.backward()
    index, flags = dafa.last_draw
    expected = sorted({(int(index[j]), i) for j in range(n) for i in range(2) if flags[j, i]})
    assert [tuple(e) for e in (dafa.magnitudes.grad != 0).nonzero().tolist()] == expected


def test_relax_grads_fill_and_accumulate():
    dafa = DAFA()
    dafa.resample(2)
    dafa.relax_grads(torch.tensor(0.8))
    assert dafa.weights.grad.shape == (36, ) and dafa.probs.grad.shape == (36, 2)
    assert dafa.weights.grad.abs().sum() > 0 and dafa.probs.grad.abs().sum() > 0
    assert all(q.grad is not None and q.grad.abs().sum() > 0
               for q in dafa.control_variate.parameters())
    assert dafa.magnitudes.grad is None
    # It is the estimator of the draw (recomputed from the module's own state).
    draw = dafa._draw
    g_w, g_p, cv_grads = relax_gradient(0.8, dafa.weights, dafa.probs, draw.noise, draw.outcome,
                                        dafa.control_variate, 0.5)
    torch.testing.assert_close(dafa.weights.grad, g_w)
    torch.testing.assert_close(dafa.probs.grad, g_p)
    # A second call accumulates.
    first = [
        q.grad.clone() for q in [dafa.weights, dafa.probs, *dafa.control_variate.parameters()]
    ]
    dafa.relax_grads(0.8)
    for q, g in zip([dafa.weights, dafa.probs, *dafa.control_variate.parameters()], first):
        torch.testing.assert_close(q.grad, 2 * g)

    plain = DAFA(estimator='reinforce')
    plain.resample(2)
    plain.relax_grads(1.0)
    # REINFORCE: f * d log p(b); for the uniform choice d log pi_k / d w = onehot(k) - 1/S.
    k = int(plain.last_draw[0][0])
    expected = -torch.full((36, ), 1 / 36)
    expected[k] += 1
    torch.testing.assert_close(plain.weights.grad, expected)


def test_clamp():
    dafa = DAFA(prob_eps=0.01)
    with torch.no_grad():
        dafa.probs[0] = torch.tensor([-1.0, 2.0])
        dafa.magnitudes[0] = torch.tensor([-0.5, 1.5])
        dafa.magnitudes[1] = torch.tensor([0.3, 0.7])
    dafa.clamp_()
    assert dafa.probs[0].tolist() == pytest.approx([0.01, 0.99])
    assert dafa.magnitudes[0].tolist() == [0.0, 1.0]
    assert dafa.magnitudes[1].tolist() == pytest.approx([0.3, 0.7])


def draws(dafa, count, batch=2):
    seq = []
    for _ in range(count):
        dafa.resample(batch)
        index, flags = dafa.last_draw
        seq.append((index.tolist(), flags.tolist(), dafa.op_params(batch, 8, 'cpu')))
    return seq


def same_draws(a, b):
    return all(x[0] == y[0] and x[1] == y[1] and all(
        torch.equal(x[2][op][key], y[2][op][key]) for op in x[2] for key in x[2][op])
               for x, y in zip(a, b))


def test_state_dict_restores_the_generator():
    dafa = DAFA(draw='image')
    draws(dafa, 3, batch=4)
    buffer = io.BytesIO()
    torch.save(dafa.state_dict(), buffer)
    expected = draws(dafa, 5, batch=4)

    assert dafa.state_dict()['_extra_state'].dtype == torch.uint8
    other = DAFA(draw='image', seed=123)
    buffer.seek(0)
    other.load_state_dict(torch.load(buffer, weights_only=True))
    assert same_draws(draws(other, 5, batch=4), expected)


def test_same_seed_same_sequence():
    a, b, c = DAFA(seed=7), DAFA(seed=7), DAFA(seed=8)
    seq_a, seq_b, seq_c = draws(a, 10), draws(b, 10), draws(c, 10)
    assert same_draws(seq_a, seq_b)
    assert [s[0] for s in seq_a] != [s[0] for s in seq_c]


def test_policy_summary_at_init_and_in_general():
    dafa = DAFA()
    summary = dafa.policy_summary(topk=5)
    s = 36
    for op in DEFAULT_OPS:
        j = DEFAULT_OPS.index(op)
        containing = sum(j in pair for pair in itertools.combinations(range(9), 2))
        assert containing == 8
        # pi_k = 1/S, p = 0.5: P(apply op) = 0.5 * (#sub-policies containing it) / S = 1/9.
        assert summary['apply_prob'][op] == pytest.approx(0.5 * containing / s)
        assert summary['magnitude'][op] == pytest.approx(0.5)
    assert len(summary['top_sub_policies']) == 5
    names = {dafa.sub_policy_name(k) for k in range(s)}
    for name, pi in summary['top_sub_policies']:
        assert name in names and pi == pytest.approx(1 / s)

    # General values against a loop over the sub-policies.
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        dafa.weights.copy_(torch.randn(s, generator=g) * 2)
        dafa.probs.copy_(torch.rand(s, 2, generator=g))
        dafa.magnitudes.copy_(torch.rand(s, 2, generator=g))
    summary = dafa.policy_summary(topk=3)
    pi = torch.softmax(dafa.weights.detach().double(), 0)
    probs, mags = dafa.probs.detach(), dafa.magnitudes.detach()
    for j, op in enumerate(DEFAULT_OPS):
        prob = mag = 0.0
        for k, pair in enumerate(dafa.sub_policies.tolist()):
            for i, o in enumerate(pair):
                if o == j:
                    prob += float(pi[k] * probs[k, i])
                    mag += float(pi[k] * probs[k, i] * mags[k, i])
        assert summary['apply_prob'][op] == pytest.approx(prob)
        assert summary['magnitude'][op] == pytest.approx(mag / prob)
    best = int(pi.argmax())
    assert summary['top_sub_policies'][0] == (dafa.sub_policy_name(best),
                                              pytest.approx(float(pi[best])))
    assert [v for _, v in summary['top_sub_policies']
            ] == sorted([v for _, v in summary['top_sub_policies']], reverse=True)


def test_clamp_refuses_a_non_finite_policy():
    dafa = DAFA()
    with torch.no_grad():
        dafa.magnitudes[3, 1] = float('nan')
    with pytest.raises(FloatingPointError, match='DAFA.magnitudes holds a non-finite value'):
        dafa.clamp_()
    dafa = DAFA()
    with torch.no_grad():
        dafa.probs[0, 0], dafa.magnitudes[0, 0] = 2.0, -1.0
    dafa.clamp_()
    assert dafa.probs[0, 0] == 1 - dafa.prob_eps and dafa.magnitudes[0, 0] == 0
