"""WGAN-GP on a toy 2-D data set: a gradient penalty through autograd.grad(create_graph=True).

    python examples/gradient_penalty.py --steps 300 --seed 0

A generator maps noise to points in the plane; a critic scores points, and is
trained to score real points high and generated ones low while its gradient on
random interpolates between the two is pushed to norm 1 (Gulrajani et al.,
"Improved Training of Wasserstein GANs", 2017):

    critic loss = E[D(fake)] - E[D(real)] + lambda * E[(||grad_x D(x_hat)||_2 - 1)^2]

The penalty is a function of a gradient, so its own gradient needs a second
derivative: autograd.grad(..., create_graph=True) records the first one.
The script is written as for PyTorch; only the imports differ
(``import torch; from torch import nn, autograd, optim`` runs it unchanged).
The critic uses LayerNorm: batch norm would mix the samples of a batch, and the
penalty is on each sample's own gradient.
"""
import argparse
import time

import numpy as np

import tinygrad_bn as torch
from tinygrad_bn import autograd, nn, optim

NOISE_DIM = 2
HIDDEN = 128


# the 8 modes: a circle of radius 2, scaled by 1/sqrt(2) (the WGAN-GP paper's toy set)
CENTRES = 2.0 * np.stack([np.cos(np.arange(8) * np.pi / 4), np.sin(np.arange(8) * np.pi / 4)], axis=1) / np.sqrt(2)


def eight_gaussians(n, rng):
    """n points drawn around the 8 CENTRES with std 0.02 / sqrt(2)."""
    centres = CENTRES[rng.integers(0, 8, n)]
    points = centres + 0.02 / np.sqrt(2) * rng.standard_normal((n, 2))
    return torch.from_numpy(points.astype(np.float32))


def distance_to_nearest_mode(points):
    """Mean distance from each point to its nearest centre: near 0 once the generator has learned the modes."""
    gaps = np.linalg.norm(points.numpy()[:, None, :] - CENTRES[None, :, :], axis=2)
    return float(gaps.min(axis=1).mean())


def make_generator():
    return nn.Sequential(
        nn.Linear(NOISE_DIM, HIDDEN), nn.ReLU(),
        nn.Linear(HIDDEN, HIDDEN), nn.ReLU(),
        nn.Linear(HIDDEN, 2),
    )


def make_critic():
    # LayerNorm, not BatchNorm: the penalty is on each sample's gradient alone
    return nn.Sequential(
        nn.Linear(2, HIDDEN), nn.LayerNorm(HIDDEN), nn.LeakyReLU(0.2),
        nn.Linear(HIDDEN, HIDDEN), nn.LayerNorm(HIDDEN), nn.LeakyReLU(0.2),
        nn.Linear(HIDDEN, 1),
    )


def critic_gradient_norms(critic, real, fake, create_graph):
    """||grad_x D(x_hat)||_2 for each x_hat on a random segment between a real and a fake point."""
    alpha = torch.rand(real.size(0), 1)
    x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    scores = critic(x_hat)
    (grads,) = autograd.grad(outputs=scores, inputs=x_hat, grad_outputs=torch.ones_like(scores),
                             create_graph=create_graph, retain_graph=create_graph)
    return grads.norm(2, dim=1)


def critic_step(critic, generator, opt_c, real, gp_lambda):
    """One critic update; returns (Wasserstein estimate, penalty, mean gradient norm) of the batch."""
    noise = torch.randn(real.size(0), NOISE_DIM)
    fake = generator(noise).detach()
    norms = critic_gradient_norms(critic, real, fake, create_graph=True)
    penalty = ((norms - 1) ** 2).mean()
    wasserstein = critic(real).mean() - critic(fake).mean()
    loss = -wasserstein + gp_lambda * penalty
    opt_c.zero_grad()
    loss.backward()
    opt_c.step()
    return wasserstein.item(), penalty.item(), norms.mean().item()


def generator_step(critic, generator, opt_g, batch_size):
    noise = torch.randn(batch_size, NOISE_DIM)
    loss = -critic(generator(noise)).mean()
    opt_g.zero_grad()
    loss.backward()
    opt_g.step()
    return loss.item()


def evaluate(critic, generator, rng, n=2048):
    """On a fresh batch: the mean critic gradient norm on interpolates, E[D(real)] - E[D(fake)],
    and the generated points' mean distance to the nearest mode."""
    real = eight_gaussians(n, rng)
    with torch.no_grad():
        fake = generator(torch.randn(n, NOISE_DIM))
        wasserstein = (critic(real).mean() - critic(fake).mean()).item()
    norms = critic_gradient_norms(critic, real, fake, create_graph=False)
    return norms.mean().item(), wasserstein, distance_to_nearest_mode(fake)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=300, help="generator steps")
    ap.add_argument("--critic-iters", type=int, default=5, help="critic steps per generator step")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--gp-lambda", type=float, default=10.0, help="penalty weight (the paper's 10)")
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.steps < 1:
        ap.error("--steps must be at least 1")

    torch.manual_seed(args.seed)
    data_rng = np.random.default_rng(args.seed)
    eval_rng = np.random.default_rng(args.seed + 1)
    generator, critic = make_generator(), make_critic()
    # the WGAN-GP paper's Adam settings
    opt_g = optim.Adam(generator.parameters(), lr=args.lr, betas=(0.5, 0.9))
    opt_c = optim.Adam(critic.parameters(), lr=args.lr, betas=(0.5, 0.9))

    start_norm, start_w, start_gap = evaluate(critic, generator, eval_rng)
    print(f"before training: critic gradient norm on interpolates {start_norm:.4f}, "
          f"Wasserstein estimate {start_w:.4f}, distance to nearest mode {start_gap:.4f}")
    print(f"{'step':>6} {'W estimate':>11} {'penalty':>9} {'grad norm':>10} {'G loss':>9}")
    report_every = max(1, args.steps // 10)
    t0 = time.perf_counter()
    for step in range(1, args.steps + 1):
        for _ in range(args.critic_iters):
            w, penalty, norm = critic_step(critic, generator, opt_c, eight_gaussians(args.batch_size, data_rng),
                                           args.gp_lambda)
        g_loss = generator_step(critic, generator, opt_g, args.batch_size)
        if step % report_every == 0 or step == args.steps:
            print(f"{step:>6} {w:>11.4f} {penalty:>9.4f} {norm:>10.4f} {g_loss:>9.4f}")
    seconds = time.perf_counter() - t0

    end_norm, end_w, end_gap = evaluate(critic, generator, eval_rng)
    print(f"trained {args.steps} steps ({args.critic_iters} critic steps each) in {seconds:.1f} s")
    print(f"mean critic gradient norm on interpolates: {end_norm:.4f} (start {start_norm:.4f})")
    print(f"Wasserstein estimate: {end_w:.4f} (start {start_w:.4f})")
    print(f"generated points' mean distance to the nearest mode: {end_gap:.4f} (start {start_gap:.4f})")


if __name__ == "__main__":
    main()
