"""tools/analysis_tools/update_cost.py: each student-update lever timed against its absence."""
import importlib.util
import os.path as osp

from conftest import ROOT

spec = importlib.util.spec_from_file_location(
    'update_cost', osp.join(ROOT, 'tools', 'analysis_tools', 'update_cost.py'))
update_cost = importlib.util.module_from_spec(spec)
spec.loader.exec_module(update_cost)


def test_the_swapped_steps_are_the_steps_without_the_levers(tiny_data):
    from sokd_mmdet.models.sokd import sokd as sokd_module
    from sokd_mmdet.models.sokd.policy_step import PolicyStepMixin
    cost = update_cost.cost
    reused = []
    surrogate = sokd_module.gradient_surrogate
    sokd_module.gradient_surrogate = lambda p, g: reused.append(1) or surrogate(p, g)
    try:
        model, optim, batches = cost.build('sokd_cwd', tiny_data, 64, 2, 'cpu', True)
        policy_gradient = PolicyStepMixin._policy_gradient
        with update_cost.second_backward():
            cost.time_steps((model, optim, batches), 1, 'cpu')
        assert reused == [] and PolicyStepMixin._policy_gradient is policy_gradient
        cost.time_steps((model, optim, batches), 1, 'cpu')
        assert reused == [1]  # the lever is back after the block
    finally:
        sokd_module.gradient_surrogate = surrogate
    model, optim, batches = cost.build('sokd_cwd', tiny_data, 64, 2, 'cpu', False)
    dafa = model.distiller.dafa
    with update_cost.backward_to_every_leaf():
        with _applied(dafa):
            cost.time_steps((model, optim, batches), 1, 'cpu')
    assert any(p.grad is not None for p in dafa.parameters())  # the policy's leaves reached
    for p in dafa.parameters():
        p.grad = None
    with _applied(dafa):
        cost.time_steps((model, optim, batches), 1, 'cpu')
    assert all(p.grad is None for p in dafa.parameters())


class _applied:
    """Every op of one sub-policy applied, so that the graph reaches the magnitudes."""

    def __init__(self, dafa):
        self.dafa = dafa

    def __enter__(self):
        import torch
        with torch.no_grad():
            self.dafa.weights.fill_(-30.0)
            self.dafa.weights[0] = 30.0
            self.dafa.probs.fill_(1 - self.dafa.prob_eps)
        return self

    def __exit__(self, *exc):
        return False


def test_update_cost_prints_each_entry_against_the_base(tiny_data, capsys, tmp_path):
    out = tmp_path / 'update_cost.json'
    result = update_cost.main([
        '--data-root', tiny_data, '--img-size', '64', '--batch-size', '2', '--rounds', '2',
        '--steps', '1', '--warmup', '0', '--out',
        str(out)
    ])
    import json
    assert json.loads(out.read_text())['entries'] == result
    assert set(result) == {
        'cwd', 'search', 'search, second backward', 'normal', 'normal, backward to every leaf'
    }
    assert result['cwd']['ratio_to_base'] == 1.0
    for entry in result.values():
        assert entry['mean'] > 0 and entry['std'] >= 0
    assert '"base": "cwd"' in capsys.readouterr().out
