//! The reference CNN's convolution products as the layer runs them: the input read in place
//! through its unfolded view (forward and weight gradient), the output written as NCHW planes,
//! and the input gradient folded back (col2im) as it leaves the registers. Next to the plain
//! products of `conv_layers`, the difference is what the layouts cost.

use ndarray::{Array2, Array3, Array4};
use neurite::tensor::{Epilogue, MatMut, MatRef, Padding, Rng, Window2d, sgemm};

use super::gemm::Args;
use super::{best_time, peak, with_threads};

const BATCH: usize = 64;

fn random4(shape: (usize, usize, usize, usize), seed: u64) -> Array4<f32> {
    let mut rng = Rng::new(seed);
    Array4::from_shape_simple_fn(shape, || rng.uniform(-1.0, 1.0) as f32)
}

/// Prints GFLOP/s on 1 and 2 threads of each pass of each convolution, read and written in
/// place.
pub fn run(args: &Args, peaks: &[peak::Peak; 2]) -> anyhow::Result<()> {
    // (name, channels, input side, filters); 3x3 windows, stride 1, no padding.
    let layers = [
        ("conv2d", 1, 28, 32),
        ("conv2d_1", 32, 13, 64),
        ("conv2d_2", 64, 5, 64),
    ];
    println!();
    println!("the same products in place (unfolded input, NCHW output, col2im), batch {BATCH}:");
    println!(
        "{:>10} {:>6} {:>11} {:>11} {:>9}",
        "layer", "pass", "1 thr", "2 thr", "2 thr %pk"
    );
    for (name, c, side, f) in layers {
        let win = Window2d::new((side, side), (3, 3), (1, 1), Padding::Valid)?;
        let (ckk, p) = (c * 9, win.out_len());
        let x = random4((BATCH, c, side, side), 1);
        let weight = super::gemm::random((f, ckk), 2);
        let w_t = super::gemm::random((ckk, f), 3);
        let d_z = super::gemm::random((f, BATCH * p), 4);
        let mut y = Array3::<f32>::zeros((BATCH, f, p));
        let mut d_w = Array2::<f32>::zeros((f, ckk));
        let mut d_x = Array4::<f32>::zeros((BATCH, c, side, side));
        let flops = 2.0 * (f * ckk * BATCH * p) as f64;
        let rates = |pass: &str, mut product: Box<dyn FnMut() + Send + '_>| -> anyhow::Result<()> {
            let mut gflops = [0.0; 2];
            for (slot, threads) in [1, 2].into_iter().enumerate() {
                let t = with_threads(threads, || best_time(args.budget, 3, &mut *product))?;
                gflops[slot] = flops / t / 1e9;
            }
            println!(
                "{name:>10} {pass:>6} {:>11.1} {:>11.1} {:>8.0}%",
                gflops[0],
                gflops[1],
                100.0 * gflops[1] / peaks[1].measured_gflops
            );
            Ok(())
        };
        let add = Epilogue::default().beta(1.0);
        rates(
            "fwd",
            Box::new(|| {
                let cols = MatRef::im2col(x.view(), &win).expect("unpadded");
                let out = MatMut::wide(y.view_mut());
                sgemm(MatRef::new(weight.view()), cols, out, Epilogue::default()).expect("agree");
            }),
        )?;
        // The layer's orientation of the weight gradient: d_W's short side on the kernel's rows.
        rates(
            "dW",
            Box::new(|| {
                let cols = MatRef::im2col(x.view(), &win).expect("unpadded");
                let d_z = MatRef::new(d_z.view());
                let done = match ckk < f {
                    true => sgemm(
                        cols,
                        d_z.t(),
                        MatMut::new(d_w.view_mut().reversed_axes()),
                        add,
                    ),
                    false => sgemm(d_z, cols.t(), MatMut::new(d_w.view_mut()), add),
                };
                done.expect("agree");
            }),
        )?;
        let w_t = MatRef::new(w_t.view());
        rates(
            "dX",
            Box::new(|| {
                let out = MatMut::col2im(d_x.view_mut(), &win).expect("unpadded");
                sgemm(w_t, MatRef::new(d_z.view()), out, add).expect("agree");
            }),
        )?;
    }
    Ok(())
}
