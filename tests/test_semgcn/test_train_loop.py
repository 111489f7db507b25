"""The training loop's fine-tuning and flip distillation (``semgcn.train_loop``), on small synthetic data."""
from __future__ import annotations

import numpy as np
import torch

from semgcn.checkpoint import load_checkpoint, save_checkpoint
from semgcn.models import build_model
from semgcn.losses import pose_loss
from semgcn.train_loop import TrainOptions, _batch_loss, flip_predict_torch, predict, train


def _inputs(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, 0.3, size=(n, 16, 2)).astype(np.float32)


def test_flip_predict_torch_is_the_lifters_flip_average():
    torch.manual_seed(0)
    model = build_model("semgcn", hidden=32).eval()
    x = _inputs(8, 1)
    with torch.no_grad():
        ours = flip_predict_torch(model, torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours, predict(model, x, flip=True), atol=1e-6)
    # and it is not the plain prediction: the untrained network is far from mirror-symmetric
    assert np.abs(ours - predict(model, x)).max() > 1e-3


def test_the_distillation_loss_mixes_truth_and_the_teachers_flip_prediction():
    torch.manual_seed(0)
    student, teacher = build_model("semgcn", hidden=32).eval(), build_model("semgcn", hidden=32).eval()
    x = torch.from_numpy(_inputs(16, 2))
    y = torch.randn(16, 16, 3)
    opt = TrainOptions(distill_weight=0.3)
    with torch.no_grad():
        expected = 0.7 * pose_loss(student(x), y) + 0.3 * pose_loss(student(x), flip_predict_torch(teacher, x))
        assert torch.isclose(_batch_loss(opt, student, teacher, x, y), expected)
        assert torch.isclose(_batch_loss(opt, student, None, x, y), pose_loss(student(x), y))


def test_distillation_learns_the_teachers_target(tmp_path):
    """With weight 1 the truth (random, unlearnable here) plays no part: the loss falls only because the
    student learns the teacher's flip prediction, starting from the teacher's own weights."""
    torch.manual_seed(0)
    x = _inputs(256, 2)
    y = np.random.default_rng(3).normal(0.0, 0.3, size=(256, 16, 3)).astype(np.float32)
    teacher = save_checkpoint(tmp_path / "teacher.pt", build_model("semgcn", hidden=32))
    opt = TrainOptions(epochs=6, batch_size=32, lr=1e-3, init_checkpoint=str(teacher),
                       teacher_checkpoint=str(teacher), distill_weight=1.0)
    history = train(opt, lambda epoch: (x, y), {}, tmp_path / "run", progress=False).history
    losses = [h["train_loss"] for h in history]
    assert losses[-1] < 0.5 * losses[0], losses


def test_fine_tuning_starts_from_the_given_weights(tmp_path):
    torch.manual_seed(0)
    start = save_checkpoint(tmp_path / "start.pt", build_model("semgcn", hidden=32))
    x, y = _inputs(64, 4), np.zeros((64, 16, 3), np.float32)
    opt = TrainOptions(model="fc", epochs=1, batch_size=32, lr=1e-9, init_checkpoint=str(start))
    result = train(opt, lambda epoch: (x, y), {}, tmp_path / "run", progress=False)
    before, _ = load_checkpoint(start)
    after, _ = load_checkpoint(result.last_checkpoint)
    # a learning rate of 1e-9 leaves the weights where they started (a fresh network would differ a lot;
    # batch norm's running statistics do move, so only the parameters are compared)
    for (name, a), (_, b) in zip(after.named_parameters(), before.named_parameters()):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-6, err_msg=name)
