"""The PyTorch peer of bench/throughput.py: the same networks, batch, optimizer, loss and step, eager on the CPU.

Two recipes, as ours (core/recipes.py): ``seed`` (Adam 2e-4, one D and one G update) and ``tuned`` (larger
learning rates, a moving average of G, the mode-seeking term, and for lenet5 the translation of D's inputs, D's
groups of 8 and two G updates), written as a skilled PyTorch user would: the fastest Adam this torch has (fused,
else foreach), the moving average with foreach ops, and G run once per G update.

Runs in a virtual environment of its own (gluoncv refuses to import beside torch >= 2);
bench/throughput.py creates it and calls this file. Prints one JSON object.
"""
import argparse
import json
import time

import torch
from torch import nn


def _deconv_bn_relu(cin, cout, k, s, p, op=0):
    return [nn.ConvTranspose2d(cin, cout, k, s, p, output_padding=op, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


class View(nn.Module):
    def __init__(self, *shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.view(x.shape[0], *self.shape)


class MinibatchStddev(nn.Module):
    """core.networks.layers.MinibatchStddev: one channel of group standard deviations joined on."""

    def __init__(self, group):
        super().__init__()
        self.group = group

    def forward(self, x):
        n, c, h, w = x.shape
        groups = x.view(n // self.group, self.group, c, h, w)
        std = torch.sqrt(groups.var(dim=1, unbiased=False) + 1e-8).mean(dim=(1, 2, 3))
        return torch.cat([x, std.repeat_interleave(self.group).view(n, 1, 1, 1).expand(n, 1, h, w)], dim=1)


def lenet5(group=32):
    g = nn.Sequential(nn.Linear(100, 1024, bias=False), nn.BatchNorm1d(1024), nn.ReLU(),
                      nn.Linear(1024, 128 * 8 * 8, bias=False), View(128, 8, 8), nn.BatchNorm2d(128), nn.ReLU(),
                      *_deconv_bn_relu(128, 64, 5, 2, 2, 1), *_deconv_bn_relu(64, 32, 5, 2, 2, 1),
                      nn.ConvTranspose2d(32, 1, 5, 2, 2, output_padding=1), nn.Tanh())
    d = nn.Sequential(nn.Conv2d(1, 32, 5), nn.LeakyReLU(0.2), nn.MaxPool2d(2),
                      nn.Conv2d(32, 64, 5), nn.LeakyReLU(0.2), nn.MaxPool2d(2),
                      nn.Conv2d(64, 128, 5), nn.LeakyReLU(0.2), nn.MaxPool2d(2), MinibatchStddev(group),
                      nn.Flatten(), nn.Linear(129 * 16, 1024), nn.LeakyReLU(0.2), nn.Linear(1024, 1))
    return g, d, 64


def deep_convolution():
    g = nn.Sequential(View(100, 1, 1), *_deconv_bn_relu(100, 1024, 4, 1, 0), *_deconv_bn_relu(1024, 512, 4, 2, 1),
                      *_deconv_bn_relu(512, 256, 4, 2, 1), *_deconv_bn_relu(256, 128, 4, 2, 1),
                      nn.ConvTranspose2d(128, 1, 4, 2, 1), nn.Tanh())
    layers = [nn.Conv2d(1, 128, 4, 2, 1), nn.LeakyReLU(0.2)]
    for cin, cout in ((128, 256), (256, 512), (512, 1024)):
        layers += [nn.Conv2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2)]
    d = nn.Sequential(*layers, nn.Conv2d(1024, 1, 4, 1, 0), nn.Flatten())
    return g, d, 64


class ConditionalG(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(View(110, 1, 1), *_deconv_bn_relu(110, 256, 7, 1, 0),
                                 *_deconv_bn_relu(256, 128, 5, 2, 2, 1),
                                 nn.ConvTranspose2d(128, 1, 5, 2, 2, output_padding=1), nn.Tanh())

    def forward(self, z, y):
        return self.net(torch.cat([z, nn.functional.one_hot(y, 10).float()], 1))


class ConditionalD(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(11, 128, 5, 2, 2), nn.LeakyReLU(0.2),
                                 nn.Conv2d(128, 256, 5, 2, 2, bias=False), nn.BatchNorm2d(256), nn.LeakyReLU(0.2),
                                 nn.Flatten(), nn.Linear(256 * 7 * 7, 1))

    def forward(self, x, y):
        planes = nn.functional.one_hot(y, 10).float()[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
        return self.net(torch.cat([x, planes], 1))


def cgan():
    return ConditionalG(), ConditionalD(), 28


def dcgan_init(module):
    """Weights from N(0, 0.02) and zero biases, as ours; BatchNorm keeps gamma 1 and beta 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)


# The tuned recipe's settings per network (core/recipes.py): G's and D's learning rates, the mode-seeking weight,
# the translation of D's inputs (fraction of the size), G updates per D update, and lenet5's D groups.
TUNED = {'lenet5': dict(lr_g=8e-4, lr_d=5e-4, mode_seeking=2.0, translate=0.125, g_steps=2, group=8),
         'deep_convolution': dict(lr_g=5e-4, lr_d=5e-4, mode_seeking=1.0, translate=0.0, g_steps=1),
         'cgan': dict(lr_g=5e-4, lr_d=5e-4, mode_seeking=1.0, translate=0.0, g_steps=1)}
EMA_DECAY = 0.999


def fastest_adam(params, lr):
    """Adam with beta1 0.5, fused where this torch has it on the CPU, else foreach."""
    try:
        return torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999), fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999), foreach=True)


def translate(x, dy, dx, fill=-1.0):
    """``x`` moved by (dy, dx) pixels, the uncovered strip ``fill``: ours (core/training/augment.py)."""
    if not dy and not dx:
        return x
    pad = max(abs(dy), abs(dx))
    padded = nn.functional.pad(x, (pad, pad, pad, pad), value=fill)
    top, left = pad - dy, pad - dx
    return padded[:, :, top:top + x.shape[2], left:left + x.shape[3]]


def mode_seeking_penalty(images, noise, eps=1e-5):
    half = images.shape[0] // 2
    image_gap = (images[:half] - images[half:2 * half]).abs().mean()
    return (noise[:half] - noise[half:2 * half]).abs().mean() / (image_gap + eps)


class MovingAverage:
    """G's moving average with ours' warm-up, in foreach ops over the weights and BatchNorm's float buffers."""

    def __init__(self, g, average):
        self.live = [t for t in list(g.parameters()) + list(g.buffers()) if t.is_floating_point()]
        self.average = [t for t in list(average.parameters()) + list(average.buffers()) if t.is_floating_point()]
        self.updates = 0

    @torch.no_grad()
    def update(self):
        decay = min(EMA_DECAY, (1.0 + self.updates) / (10.0 + self.updates))
        torch._foreach_lerp_(self.average, self.live, 1.0 - decay)
        self.updates += 1


def networks(name, recipe):
    """(g, d, image size) of model ``name``, initialised as ours; lenet5's D compares groups of the recipe's size."""
    if name == 'lenet5':
        g, d, size = lenet5(TUNED['lenet5']['group'] if recipe == 'tuned' else 32)
    else:
        g, d, size = {'deep_convolution': deep_convolution, 'cgan': cgan}[name]()
    g.apply(dcgan_init), d.apply(dcgan_init)
    return g, d, size


def gan_step(name, batch, recipe='seed'):
    """(g, d, image size, conditional, step): ``step(real, cond)`` is one iteration of ``recipe``, as ours."""
    if recipe == 'tuned':
        return _tuned_step(name, batch)
    g, d, size = networks(name, recipe)
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    loss = nn.BCEWithLogitsLoss()
    ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)

    def step(real, cond):
        z = torch.rand(batch, 100) * 2 - 1
        with torch.no_grad():  # as ours: G in training mode, not recorded, for D's update
            fake = g(z, *cond)
        opt_d.zero_grad(set_to_none=True)
        (loss(d(real, *cond), ones) + loss(d(fake, *cond), zeros)).backward()
        opt_d.step()
        opt_g.zero_grad(set_to_none=True)
        loss(d(g(z, *cond), *cond), ones).backward()
        opt_g.step()

    step.optimizers = (opt_g, opt_d)
    return g, d, size, name == 'cgan', step


def _tuned_step(name, batch):
    import copy
    import random
    settings = TUNED[name]
    g, d, size = networks(name, 'tuned')
    average = copy.deepcopy(g)
    ema = MovingAverage(g, average)
    opt_g, opt_d = fastest_adam(g.parameters(), settings['lr_g']), fastest_adam(d.parameters(), settings['lr_d'])
    loss = nn.BCEWithLogitsLoss()
    ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)
    limit = int(round(settings['translate'] * size))
    shifts = random.Random(0)

    def step(real, cond):
        dy, dx = shifts.randint(-limit, limit), shifts.randint(-limit, limit)  # one shift per iteration, as ours
        z = torch.rand(batch, 100) * 2 - 1
        fake = g(z, *cond)  # recorded once: D's update reads it detached, G's first update backpropagates through it
        opt_d.zero_grad(set_to_none=True)
        (loss(d(translate(real, dy, dx), *cond), ones) +
         loss(d(translate(fake.detach(), dy, dx), *cond), zeros)).backward()
        opt_d.step()
        for update in range(settings['g_steps']):
            if update:  # --g-steps: each later G update on fresh noise
                z = torch.rand(batch, 100) * 2 - 1
                fake = g(z, *cond)
            opt_g.zero_grad(set_to_none=True)
            (loss(d(translate(fake, dy, dx), *cond), ones) +
             settings['mode_seeking'] * mode_seeking_penalty(fake, z)).backward()
            opt_g.step()
            ema.update()

    step.optimizers = (opt_g, opt_d)
    step.adam = 'fused' if opt_g.defaults.get('fused') else 'foreach'
    return g, d, size, name == 'cgan', step


def measure(name, batch, iterations, warmup, recipe='seed'):
    g, d, size, conditional, gan_update = gan_step(name, batch, recipe)
    real = torch.rand(batch, 1, size, size) * 2 - 1
    cond = (torch.randint(0, 10, (batch,)),) if conditional else ()

    def step():
        gan_update(real, cond)

    g.train(), d.train()
    for _ in range(warmup):
        step()
    start = time.perf_counter()
    for _ in range(iterations):
        step()
    train = batch * iterations / (time.perf_counter() - start)

    g.eval()
    sample_batch, rounds = 256, 5
    z = torch.rand(sample_batch, 100) * 2 - 1
    sample_cond = (torch.randint(0, 10, (sample_batch,)),) if conditional else ()
    with torch.no_grad():
        g(z, *sample_cond)
        start = time.perf_counter()
        for _ in range(rounds):
            g(z, *sample_cond)
    sampling = sample_batch * rounds / (time.perf_counter() - start)
    return {'train_images_per_s': train, 'sample_images_per_s': sampling, 'recipe': recipe,
            'adam': getattr(gan_update, 'adam', 'plain')}


def _samples(g, conditional, count=10000):
    """``count`` samples in eval mode (BatchNorm on running statistics, as ours), classes in turn, as uint8."""
    import numpy as np
    g.eval()
    with torch.no_grad():
        z = torch.rand(count, 100) * 2 - 1
        requested = torch.arange(count) % 10
        out = torch.cat([g(z[i:i + 500], *((requested[i:i + 500],) if conditional else ()))
                         for i in range(0, count, 500)])
    g.train()
    return np.rint((out.numpy() + 1) * 127.5).clip(0, 255).astype(np.uint8)


def train_curve(name, batch, data_file, out_dir, epochs, points_per_epoch):
    """Train ``epochs`` epochs, the seed's way; at ``points_per_epoch`` even points of each epoch save
    10,000 samples and the training seconds so far (sampling time excluded) to ``out_dir/point-NN.npz``."""
    import os
    import numpy as np
    g, d, _, conditional, step = gan_step(name, batch)
    schedulers = [torch.optim.lr_scheduler.StepLR(o, 500, 0.95) for o in step.optimizers] if conditional else []
    data = np.load(data_file)
    images = torch.from_numpy(data['images'])
    labels = torch.from_numpy(data['labels'])
    per_epoch = len(labels) // batch
    marks = {round(per_epoch * k / points_per_epoch) for k in range(1, points_per_epoch + 1)}
    g.train(), d.train()
    seconds, point, iteration = 0.0, 0, 0
    for epoch in range(epochs):
        order = torch.randperm(len(labels))
        for i in range(per_epoch):
            start = time.perf_counter()
            index = order[i * batch:(i + 1) * batch]
            step((images[index].float() * (2 / 255) - 1)[:, None], (labels[index],) if conditional else ())
            for scheduler in schedulers:
                scheduler.step()
            seconds += time.perf_counter() - start
            iteration += 1
            if i + 1 in marks:
                point += 1
                np.savez(os.path.join(out_dir, f'point-{point:02d}.npz'), samples=_samples(g, conditional),
                         seconds=seconds, iteration=iteration)
    return {'seconds': seconds, 'iterations': iteration, 'points': point}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--model', required=True)
    parser.add_argument('--batch', type=int, required=True)
    parser.add_argument('--iterations', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--recipe', default='seed', choices=['seed', 'tuned'])
    parser.add_argument('--train-curve', nargs=2, metavar=('DATA_NPZ', 'OUT_DIR'),
                        help='train on DATA_NPZ, saving 10,000 samples at --points even points of each epoch')
    parser.add_argument('--epochs', type=int, default=2)
    parser.add_argument('--points', type=int, default=4, help='sample points per epoch')
    args = parser.parse_args()
    torch.manual_seed(0)
    if args.train_curve:
        result = train_curve(args.model, args.batch, *args.train_curve, args.epochs, args.points)
    else:
        result = measure(args.model, args.batch, args.iterations, args.warmup, args.recipe)
    result.update(torch=torch.__version__, threads=torch.get_num_threads())
    print(json.dumps(result))


if __name__ == '__main__':
    main()
