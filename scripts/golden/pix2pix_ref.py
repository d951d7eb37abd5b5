"""Compact PyTorch definitions of the pix2pix networks that models/pix2pix.h builds: the
U-Net generator (nested skip blocks) and the PatchGAN discriminator, both with batch norm,
plus pix2pix's 'normal' initialisation. Other scripts import this module to compute
reference values for the engine.

Module names mirror the engine's, so state_dict() keys equal maskoff's named_parameters()
and named_buffers() names ("model.model.1.model.1.weight", ...), and parameters() comes in
the same order. PyTorch adds one buffer the engine does not keep, each batch norm's
num_batches_tracked; engine_buffers() leaves it out.

The activations here are not in place. pix2pix's own blocks use in-place LeakyReLU/ReLU,
which turns the skip tensor x into LeakyReLU(x) before the concatenation; every
concatenation is followed by a ReLU, and ReLU(LeakyReLU(x)) = ReLU(x), so values and
gradients are the same either way.
"""
import torch
import torch.nn as nn


class SkipBlock(nn.Module):
    """One U-Net level: down (conv k4 s2 p1), the inner block, up (transposed conv k4 s2 p1);
    every level but the outermost returns cat([x, up(...)], channels)."""

    def __init__(self, outer_nc, inner_nc, input_nc=None, submodule=None, outermost=False,
                 innermost=False, dropout=False):
        super().__init__()
        self.outermost = outermost
        input_nc = outer_nc if input_nc is None else input_nc
        # With batch norm, pix2pix's convs have no bias except the outermost up conv.
        down_conv = nn.Conv2d(input_nc, inner_nc, 4, 2, 1, bias=False)
        if outermost:
            layers = [down_conv, submodule, nn.ReLU(),
                      nn.ConvTranspose2d(inner_nc * 2, outer_nc, 4, 2, 1, bias=True), nn.Tanh()]
        elif innermost:
            layers = [nn.LeakyReLU(0.2), down_conv, nn.ReLU(),
                      nn.ConvTranspose2d(inner_nc, outer_nc, 4, 2, 1, bias=False),
                      nn.BatchNorm2d(outer_nc)]
        else:
            layers = [nn.LeakyReLU(0.2), down_conv, nn.BatchNorm2d(inner_nc), submodule, nn.ReLU(),
                      nn.ConvTranspose2d(inner_nc * 2, outer_nc, 4, 2, 1, bias=False),
                      nn.BatchNorm2d(outer_nc)]
            if dropout:
                layers.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        y = self.model(x)
        return y if self.outermost else torch.cat([x, y], 1)


class UNetGenerator(nn.Module):
    """pix2pix's UnetGenerator(input_nc, output_nc, num_downs, ngf, BatchNorm2d, use_dropout)."""

    def __init__(self, in_channels=3, out_channels=3, num_downs=8, ngf=64, dropout=True):
        super().__init__()
        assert num_downs >= 5, "num_downs must be at least 5"
        block = SkipBlock(ngf * 8, ngf * 8, innermost=True)
        for _ in range(num_downs - 5):
            block = SkipBlock(ngf * 8, ngf * 8, submodule=block, dropout=dropout)
        block = SkipBlock(ngf * 4, ngf * 8, submodule=block)
        block = SkipBlock(ngf * 2, ngf * 4, submodule=block)
        block = SkipBlock(ngf, ngf * 2, submodule=block)
        self.model = SkipBlock(out_channels, ngf, input_nc=in_channels, submodule=block,
                               outermost=True)

    def forward(self, x):
        return self.model(x)


class PatchGANDiscriminator(nn.Module):
    """pix2pix's NLayerDiscriminator(input_nc, ndf, n_layers, BatchNorm2d)."""

    def __init__(self, in_channels=6, ndf=64, n_layers=3):
        super().__init__()
        layers = [nn.Conv2d(in_channels, ndf, 4, 2, 1, bias=True), nn.LeakyReLU(0.2)]
        mult = 1
        for n in range(1, n_layers):
            prev, mult = mult, min(2 ** n, 8)
            layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(ndf * mult), nn.LeakyReLU(0.2)]
        prev, mult = mult, min(2 ** n_layers, 8)
        layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, 1, 1, bias=False),
                   nn.BatchNorm2d(ndf * mult), nn.LeakyReLU(0.2),
                   nn.Conv2d(ndf * mult, 1, 4, 1, 1, bias=True)]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


def init_pix2pix_weights(net, gain=0.02):
    """pix2pix's init_weights(net, 'normal', 0.02): conv and transposed-conv weights
    N(0, gain), BN weights N(1, gain), all biases 0, drawn in module order."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, gain)
            nn.init.zeros_(m.bias)


def engine_buffers(net):
    """(name, tensor) of the buffers the engine keeps, in its order (no num_batches_tracked)."""
    return [(n, b) for n, b in net.named_buffers() if not n.endswith("num_batches_tracked")]


def num_dropout_layers(net):
    return sum(isinstance(m, nn.Dropout) for m in net.modules())
