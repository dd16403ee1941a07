"""The learner API, the shared head (any N at test time), training with the shared loop, and bad inputs."""

from __future__ import annotations

import pytest
import torch

from mlbook.data import Episode, SinusoidTasks
from mlbook.models import MLP, Conv4
from mlbook.optimization import (
    ANIL,
    MAML,
    R2D2,
    Learner,
    MetaSGD,
    Reptile,
    functional_forward,
    stack_episodes,
    task_batched_forward,
    task_loss,
    transductive_batchnorm,
)
from mlbook.training import evaluate, train

from .conftest import image_episode, max_abs_diff, tiny_conv, tiny_mlp


def test_clone_adapt_call_matches_episode_loss(sine_episodes):
    maml = MAML(tiny_mlp(), inner_lr=0.05, inner_steps=2)
    e = sine_episodes[0]
    learner = maml.clone()
    for _ in range(2):
        learner.adapt(task_loss(learner(e.support_x), e.support_y))
    assert learner.steps_taken == 2
    manual = task_loss(learner(e.query_x), e.query_y)
    loss, metrics = maml.episode_loss(e)
    assert torch.allclose(manual, loss)
    assert metrics["query_loss"] == pytest.approx(float(loss.detach()))
    branch = learner.clone()
    branch.adapt(task_loss(branch(e.support_x), e.support_y))
    assert learner.steps_taken == 2 and branch.steps_taken == 3


def test_shared_head_adapts_to_any_number_of_classes():
    """Meta-trained on 3-way tasks, the same meta-parameters adapt to 5-way tasks (one-shot benchmark: 20-way)."""
    for cls in (MAML, ANIL, MetaSGD):
        method = cls(tiny_conv(n_way=1), inner_lr=0.3, shared_head=True)
        loss, _ = method.batch_loss([image_episode(0, n_way=3)])
        loss.backward()
        assert method.model.head.weight.grad.shape == (1, method.model.embedding_dim)
        assert method.predict(image_episode(1, n_way=5, k_shot=1)).shape == (10, 5)
        method.batched = True
        assert method.batch_loss([image_episode(2, n_way=4), image_episode(3, n_way=4)])[0].ndim == 0
    reptile = Reptile(tiny_conv(n_way=1), inner_lr=0.1, inner_steps=2, shared_head=True)
    reptile.training_step([image_episode(0)], torch.optim.SGD(reptile.parameters(), lr=1.0))
    assert reptile.predict(image_episode(1, n_way=5, k_shot=1)).shape == (10, 5)


def test_shared_head_rows_start_equal_and_batched_matches_loop(image_episodes):
    maml = MAML(tiny_conv(n_way=1), inner_lr=0.3, inner_steps=2, shared_head=True)
    before = maml.predict(image_episodes[0], steps=0)
    assert torch.allclose(before, before[:, :1].expand_as(before))  # permutation invariant start
    loop = torch.autograd.grad(maml.batch_loss(image_episodes)[0], list(maml.parameters()))
    maml.batched = True
    batched = torch.autograd.grad(maml.batch_loss(image_episodes)[0], list(maml.parameters()))
    assert max_abs_diff(loop, batched) < 1e-10


def test_maml_learns_sinusoids_with_the_shared_loop():
    torch.manual_seed(0)
    maml = MAML(MLP(1, 1, hidden=(40, 40)), inner_lr=0.01, inner_steps=1, batched=True)
    test_tasks = SinusoidTasks(k_shot=10, q_query=10, seed=123)
    before = evaluate(maml, test_tasks, 100, progress=False, device="cpu").mean
    history = train(maml, SinusoidTasks(k_shot=10, seed=0), steps=300, meta_batch=10, lr=3e-3, progress=False,
                    device="cpu")
    after = evaluate(maml, test_tasks, 100, progress=False, device="cpu").mean
    assert len(history["loss"]) == 300
    assert after < 0.7 * before


def test_maml_trains_on_omniglot_episodes(minimal_split1):
    from mlbook.data import EpisodeSampler

    meta_train, meta_test = minimal_split1
    torch.manual_seed(0)
    maml = MAML(Conv4(out_features=1, hidden=16), inner_lr=0.4, inner_steps=1, batched=True, shared_head=True)
    history = train(maml, EpisodeSampler(meta_train, 5, 1, 2, seed=0), steps=3, meta_batch=4, progress=False,
                    device="cpu")
    assert set(history.metrics) == {"loss", "query_loss", "accuracy"}
    result = evaluate(maml, EpisodeSampler(meta_test, 5, 1, 3, seed=1), 5, progress=False, device="cpu")
    assert 0.0 <= result.mean <= 1.0


def test_predict_batch_equals_predict(image_episodes):
    maml = MAML(tiny_conv(), inner_lr=0.3, inner_steps=2)
    batched = maml.predict_batch(image_episodes)
    for t, e in enumerate(image_episodes):
        assert torch.allclose(batched[t], maml.predict(e), atol=1e-10)


def test_task_batched_forward_equals_functional_forward():
    model = tiny_conv("group")
    params = {n: torch.randn(2, *p.shape, dtype=p.dtype) for n, p in model.named_parameters()}
    x = torch.rand(2, 5, 1, 16, 16, dtype=torch.float64)
    out = task_batched_forward(model, params, x)
    for t in range(2):
        expected = functional_forward(model, {n: p[t] for n, p in params.items()}, x[t])
        assert torch.allclose(out[t], expected, atol=1e-12)


# ------------------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"inner_lr": 0.0}, "inner_lr must be a finite number > 0"),
        ({"inner_lr": -1}, "inner_lr must be a finite number > 0"),
        ({"inner_lr": float("nan")}, "inner_lr must be a finite number > 0"),
        ({"inner_lr": float("inf")}, "inner_lr must be a finite number > 0"),
        ({"inner_steps": 0}, "inner_steps must be an int >= 1"),
        ({"test_inner_steps": 0}, "test_inner_steps must be an int >= 1"),
        ({"inner_lr_mode": "adam"}, "inner_lr_mode must be one of"),
        ({"adapt": ["body"]}, "match no parameter"),
        ({"shared_head": True}, "shared_head=True needs"),
    ],
)
def test_maml_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MAML(Conv4(out_features=5, hidden=4), **kwargs)


def test_bad_models_and_episodes():
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        MAML("conv4")
    with pytest.raises(TypeError, match="batched=True cannot run"):
        MAML(torch.nn.Sequential(torch.nn.Linear(1, 4), torch.nn.Dropout(), torch.nn.Linear(4, 1)), batched=True)
    with pytest.raises(TypeError, match="ANIL needs a model with a `features`"):
        ANIL(torch.nn.Linear(3, 2))
    with pytest.raises(ValueError, match="MetaSGD fixes inner_lr_mode"):
        MetaSGD(tiny_mlp(), inner_lr_mode="fixed")
    with pytest.raises(ValueError, match="train_on must be one of"):
        Reptile(tiny_mlp(), train_on="query")
    with pytest.raises(ValueError, match="ridge must be a finite number > 0"):
        R2D2(tiny_mlp(), ridge=0)
    with pytest.raises(ValueError, match="episodes must be equally shaped"):
        stack_episodes([image_episode(0), image_episode(1, k_shot=3)])
    with pytest.raises(ValueError, match="at least one Episode"):
        stack_episodes([])
    maml = MAML(tiny_conv(n_way=1), shared_head=True)
    images = torch.zeros(3, 1, 16, 16, dtype=torch.float64)
    targets = torch.zeros(3, 1, dtype=torch.float64)
    regression = Episode(images, targets, images, targets, None, 3)
    with pytest.raises(ValueError, match="shared_head needs classification episodes"):
        maml.clone()
    with pytest.raises(ValueError, match="shared_head needs classification episodes"):
        maml.predict(regression)
    with pytest.raises(ValueError, match="steps must be an int >= 0"):
        MAML(tiny_mlp()).predict(regression, steps=-1)


def test_learner_rejects_bad_losses_and_names():
    maml = MAML(tiny_mlp(), inner_lr=0.1)
    learner = maml.clone()
    x = torch.zeros(4, 1, dtype=torch.float64)
    with pytest.raises(ValueError, match="scalar loss"):
        learner.adapt(learner(x))
    with pytest.raises(ValueError, match="does not depend on the learner's parameters"):
        learner.adapt(torch.tensor(1.0))
    with pytest.raises(ValueError, match="not among the parameters"):
        Learner(lambda p, x: x, {"w": torch.zeros(1)}, ["v"], lambda s: {"v": 0.1})
    with pytest.raises(ValueError, match="step_weights must have inner_steps=1"):
        maml.step_weights = [0.5, 0.5]
        maml.episode_loss(Episode(x, x.sin(), x, x.sin(), None, 4))


def test_task_batched_forward_rejects_bad_shapes():
    model = transductive_batchnorm(tiny_conv())
    params = {n: p.unsqueeze(0).expand(2, *p.shape) for n, p in model.named_parameters()}
    with pytest.raises(ValueError, match="x must be"):
        task_batched_forward(model, params, torch.zeros(2, 1, 16, 16))
    with pytest.raises(ValueError, match="must have 3 \\(tasks\\) rows first"):
        task_batched_forward(model, params, torch.zeros(3, 4, 1, 16, 16, dtype=torch.float64))
    with pytest.raises(TypeError, match=r"cannot run features\.0\.1 \(BatchNorm2d with running statistics"):
        task_batched_forward(Conv4(hidden=4, image_size=16, depth=3), {}, torch.zeros(1, 2, 1, 16, 16))


def test_evaluate_after_steps_restores_the_method_and_counts_steps():
    from mlbook.optimization import PretrainedFineTune, evaluate_after_steps

    method = PretrainedFineTune(tiny_mlp().float(), inner_lr=0.05, test_inner_steps=7)
    sampler = SinusoidTasks(k_shot=5, q_query=20, seed=4)
    results = evaluate_after_steps(method, sampler, steps=(0, 10), episodes=20)
    assert method.test_inner_steps == 7
    sampler.reset()
    episode = sampler.sample()
    unadapted = float(torch.mean((method.model(episode.query_x).detach() - episode.query_y) ** 2))
    assert results[0].values[0] == pytest.approx(unadapted, rel=1e-6)
    adapted = float(torch.mean((method.predict(episode, steps=10) - episode.query_y) ** 2))
    assert results[10].values[0] == pytest.approx(adapted, rel=1e-6) and adapted != pytest.approx(unadapted)
    with pytest.raises(TypeError, match="no test_inner_steps"):
        evaluate_after_steps(R2D2(tiny_mlp()), sampler)


def test_load_benchmark_result(tmp_path):
    from mlbook.optimization import load_benchmark_result

    (tmp_path / "maml_x.json").write_text('{"a": 1}')
    assert load_benchmark_result("maml_x.json", tmp_path) == {"a": 1}
    with pytest.raises(ValueError, match="file name"):
        load_benchmark_result("../x.json")


def test_evaluate_after_steps_refuses_an_empty_list_of_step_counts():
    from mlbook.optimization import evaluate_after_steps

    with pytest.raises(ValueError, match="steps must contain at least one step count"):
        evaluate_after_steps(MAML(tiny_mlp()), SinusoidTasks(k_shot=5, seed=0), steps=())
