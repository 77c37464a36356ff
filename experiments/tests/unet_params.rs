//! The U-Net's parameter count against the closed form
//! [`plateau_experiments::unet::parameter_count_closed_form`] over the paper's width grids:
//! denoising with 2 pooling layers, widths 16 to 320; MRI with 4, widths 16 to 256 (PAPER.md,
//! "Empirical protocol"). Our restatement gives only the grids' end points, so the widths are
//! the doubling grid between them plus the end point 320; it does not list the published
//! parameter counts either, so none is asserted here (the counts are our network's, checked
//! layer by layer against the formula; the 4-channel, 2-pool count is checked against
//! fastMRI's `Unet` in the unit tests).
//!
//! Cost: the networks are built (about 2 GB of weights for the 256-wide, 4-pool one) one at a
//! time; a few seconds in all.

use plateau_experiments::unet::{parameter_count, parameter_count_closed_form, UNet, UNetConfig};
use tch::{nn, Device};

/// Parameters of a freshly built network of `channels` width, `pools` depth and `image`
/// input/output channels.
fn built(channels: i64, pools: usize, image: i64) -> i64 {
    let vs = nn::VarStore::new(Device::Cpu);
    UNet::with_channels(&vs.root(), UNetConfig { channels, pools }, image);
    parameter_count(&vs)
}

#[test]
fn the_paper_grids_match_the_closed_form() {
    let grids: [(usize, &[i64]); 2] = [
        (2, &[16, 32, 64, 128, 256, 320]),
        (4, &[16, 32, 64, 128, 256]),
    ];
    for (pools, widths) in grids {
        for &c in widths {
            let shape = UNetConfig { channels: c, pools };
            assert_eq!(
                built(c, pools, 1),
                parameter_count_closed_form(shape, 1),
                "width {c}, {pools} pools"
            );
        }
    }
}

#[test]
fn colour_adds_the_first_and_last_convs_extra_weights() {
    for (c, pools) in [(16, 2), (32, 4), (320, 2)] {
        let shape = UNetConfig { channels: c, pools };
        let (grey, colour) = (built(c, pools, 1), built(c, pools, 3));
        // First conv 3x3: 9 C weights per extra input channel; last 1x1 conv: C weights and a
        // bias per extra output channel; two extra channels.
        assert_eq!(
            colour - grey,
            2 * (9 * c + c + 1),
            "width {c}, {pools} pools"
        );
        assert_eq!(colour, parameter_count_closed_form(shape, 3));
    }
}
