//! `cargo xtask bench gemm`: square sgemm and the reference CNN's convolutions.

use ndarray::{Array2, Array3, Array4};
use neurite::tensor::{
    Epilogue, Kernel, MatMut, MatRef, Padding, Rng, Transpose, Window2d, gemm, gemm_serial,
    im2col_batch, im2col_wide, sgemm,
};
use rayon::prelude::*;
use serde_json::json;

use super::{best_time, peak, with_threads};

/// Arguments of `cargo xtask bench gemm`.
#[derive(clap::Args)]
pub struct Args {
    /// Print one JSON object per line instead of tables.
    #[arg(long)]
    json: bool,
    /// Seconds spent timing each configuration.
    #[arg(long, default_value_t = 0.5)]
    budget: f64,
}

const SIZES: [usize; 5] = [64, 128, 256, 512, 1024];
const THREADS: [usize; 2] = [1, 2];

fn random(shape: (usize, usize), seed: u64) -> Array2<f32> {
    let mut rng = Rng::new(seed);
    Array2::from_shape_simple_fn(shape, || rng.uniform(-1.0, 1.0) as f32)
}

/// Runs the benchmark and prints the figures.
pub fn run(args: Args) -> anyhow::Result<()> {
    let peaks = [peak::measure(1)?, peak::measure(2)?];
    let kernel = Kernel::best();
    if !args.json {
        println!(
            "f32 peak: a loop of independent {} FMAs on every thread",
            peaks[0].isa
        );
        for (threads, p) in THREADS.iter().zip(&peaks) {
            println!("  {threads} thread(s): {:.1} GFLOP/s", p.measured_gflops);
        }
        println!();
        println!(
            "square sgemm: neurite ({kernel:?} kernel) and matrixmultiply, GFLOP/s and % of peak"
        );
        println!(
            "{:>6} {:>12} {:>12} {:>12} {:>12} {:>9} {:>9}",
            "n", "ours 1 thr", "ours 2 thr", "mm 1 thr", "mm 2 thr", "ours %pk", "mm %pk"
        );
    }
    for n in SIZES {
        let a = random((n, n), 1);
        let b = random((n, n), 2);
        let mut c = Array2::<f32>::zeros((n, n));
        let mut ours = [0.0; 2];
        let mut mm = [0.0; 2];
        let flops = 2.0 * (n as f64).powi(3);
        for (slot, &threads) in THREADS.iter().enumerate() {
            let t = with_threads(threads, || {
                best_time(args.budget, 3, || {
                    let (a, b) = (MatRef::new(a.view()), MatRef::new(b.view()));
                    sgemm(a, b, MatMut::new(c.view_mut()), Epilogue::default())
                        .expect("square shapes agree");
                })
            })?;
            ours[slot] = flops / t / 1e9;
            let t = with_threads(threads, || {
                best_time(args.budget, 3, || matrixmultiply_parallel(&a, &b, &mut c))
            })?;
            mm[slot] = flops / t / 1e9;
            if args.json {
                for (name, g) in [("sgemm", ours[slot]), ("sgemm_matrixmultiply", mm[slot])] {
                    println!(
                        "{}",
                        json!({"bench": name, "n": n, "threads": threads, "gflops": g,
                        "fraction_of_peak": g / peaks[slot].measured_gflops})
                    );
                }
            }
        }
        if !args.json {
            println!(
                "{n:>6} {:>12.1} {:>12.1} {:>12.1} {:>12.1} {:>8.0}% {:>8.0}%",
                ours[0],
                ours[1],
                mm[0],
                mm[1],
                100.0 * ours[1] / peaks[1].measured_gflops,
                100.0 * mm[1] / peaks[1].measured_gflops
            );
        }
    }
    mlp_shapes(&args)?;
    conv_layers(&args, &peaks)
}

/// The three convolutions of the reference CNN at batch 64, two ways: im2col + one GEMM per
/// sample (samples spread over the threads), and one wide im2col + a single GEMM for the batch.
fn conv_layers(args: &Args, peaks: &[peak::Peak; 2]) -> anyhow::Result<()> {
    const BATCH: usize = 64;
    // (name, channels, input size, filters); kernels are 3x3, valid padding, stride 1.
    let layers = [
        ("conv2d_1", 1, 28, 32),
        ("conv2d_2", 32, 13, 64),
        ("conv2d_3", 64, 5, 64),
    ];
    if !args.json {
        println!();
        println!(
            "reference CNN convolution forwards, batch {BATCH}: one GEMM per sample, or one wide GEMM"
        );
        println!(
            "{:>10} {:>11} {:>14} {:>14} {:>9} {:>12}",
            "layer", "layout", "1 thr GFLOP/s", "2 thr GFLOP/s", "speed-up", "2 thr %peak"
        );
    }
    for (name, channels, size, filters) in layers {
        let win = Window2d::new((size, size), (3, 3), (1, 1), Padding::Valid)?;
        let rows = channels * win.kernel_len();
        let mut rng = Rng::new(3);
        let x = Array4::from_shape_simple_fn((BATCH, channels, size, size), || rng.next_f32());
        let weight = random((filters, rows), 4);
        let mut cols = Array3::<f32>::zeros((BATCH, rows, win.out_len()));
        let mut out = Array3::<f32>::zeros((BATCH, filters, win.out_len()));
        let flops = 2.0 * (BATCH * filters * rows * win.out_len()) as f64;
        let mut gflops = [0.0; 2];
        let mut wide_gflops = [0.0; 2];
        for (slot, &threads) in THREADS.iter().enumerate() {
            let t = with_threads(threads, || {
                best_time(args.budget, 3, || {
                    im2col_batch(x.view(), &win, cols.view_mut()).expect("shapes agree");
                    cols.outer_iter()
                        .into_par_iter()
                        .zip(out.outer_iter_mut())
                        .for_each(|(col, o)| {
                            gemm_serial(
                                1.0,
                                weight.view(),
                                Transpose::No,
                                col,
                                Transpose::No,
                                0.0,
                                o,
                            )
                            .expect("shapes agree");
                        });
                })
            })?;
            gflops[slot] = flops / t / 1e9;
            let mut wide_cols = Array2::<f32>::zeros((rows, BATCH * win.out_len()));
            let mut wide_out = Array2::<f32>::zeros((filters, BATCH * win.out_len()));
            let t_wide = with_threads(threads, || {
                best_time(args.budget, 3, || {
                    im2col_wide(x.view(), &win, wide_cols.view_mut()).expect("shapes agree");
                    let (w, c) = (weight.view(), wide_cols.view());
                    gemm(
                        1.0,
                        w,
                        Transpose::No,
                        c,
                        Transpose::No,
                        0.0,
                        wide_out.view_mut(),
                    )
                    .expect("shapes agree");
                })
            })?;
            wide_gflops[slot] = flops / t_wide / 1e9;
            if args.json {
                for (layout, g) in [("per_sample", gflops[slot]), ("wide", wide_gflops[slot])] {
                    let fraction = g / peaks[slot].measured_gflops;
                    println!(
                        "{}",
                        json!({"bench": format!("conv_{name}_{layout}"), "n": BATCH,
                            "threads": threads, "gflops": g, "fraction_of_peak": fraction})
                    );
                }
            }
        }
        if !args.json {
            for (how, g) in [("per sample", gflops), ("wide", wide_gflops)] {
                println!(
                    "{name:>10} {how:>11} {:>14.1} {:>14.1} {:>8.2}x {:>11.0}%",
                    g[0],
                    g[1],
                    g[1] / g[0],
                    100.0 * g[1] / peaks[1].measured_gflops
                );
            }
        }
    }
    Ok(())
}

/// The reference MLP's products at batch 32: Dense(128) forward `[32, 784] x [784, 128]`
/// (weight stored `[128, 784]`), its weight gradient `[128, 32] x [32, 784]`, and the output layer.
fn mlp_shapes(args: &Args) -> anyhow::Result<()> {
    // (name, m, k, n, transpose A, transpose B)
    let shapes = [
        ("dense fwd", 32, 784, 128, Transpose::No, Transpose::Yes),
        ("dense dW", 128, 32, 784, Transpose::Yes, Transpose::No),
        ("dense_1 fwd", 32, 128, 10, Transpose::No, Transpose::Yes),
    ];
    if !args.json {
        println!();
        println!("reference MLP products, batch 32:");
        println!(
            "{:>12} {:>14} {:>14}",
            "product", "1 thr GFLOP/s", "2 thr GFLOP/s"
        );
    }
    for (name, m, k, n, ta, tb) in shapes {
        let a = if ta == Transpose::Yes {
            random((k, m), 5)
        } else {
            random((m, k), 5)
        };
        let b = if tb == Transpose::Yes {
            random((n, k), 6)
        } else {
            random((k, n), 6)
        };
        let mut c = Array2::<f32>::zeros((m, n));
        let mut gflops = [0.0; 2];
        for (slot, &threads) in THREADS.iter().enumerate() {
            let t = with_threads(threads, || {
                best_time(args.budget, 50, || {
                    gemm(1.0, a.view(), ta, b.view(), tb, 0.0, c.view_mut()).expect("shapes agree");
                })
            })?;
            gflops[slot] = 2.0 * (m * k * n) as f64 / t / 1e9;
            if args.json {
                let bench = format!("mlp_{}", name.replace(' ', "_"));
                println!(
                    "{}",
                    json!({"bench": bench, "n": m, "threads": threads, "gflops": gflops[slot]})
                );
            }
        }
        if !args.json {
            println!("{name:>12} {:>14.1} {:>14.1}", gflops[0], gflops[1]);
        }
    }
    Ok(())
}

/// matrixmultiply's sgemm (the reference the kernels are tested against), rows of C split over
/// the pool's threads as `gemm` splits them.
fn matrixmultiply_parallel(a: &Array2<f32>, b: &Array2<f32>, c: &mut Array2<f32>) {
    let (m, k) = a.dim();
    let n = b.ncols();
    let chunk = m.div_ceil(rayon::current_num_threads()).max(8);
    a.axis_chunks_iter(ndarray::Axis(0), chunk)
        .into_par_iter()
        .zip(c.axis_chunks_iter_mut(ndarray::Axis(0), chunk))
        .for_each(|(a, mut c)| {
            let rows = a.nrows();
            // SAFETY: standard-layout rows x k, k x n and rows x n blocks.
            unsafe {
                matrixmultiply::sgemm(
                    rows,
                    k,
                    n,
                    1.0,
                    a.as_ptr(),
                    k as isize,
                    1,
                    b.as_ptr(),
                    n as isize,
                    1,
                    0.0,
                    c.as_mut_ptr(),
                    n as isize,
                    1,
                );
            }
        });
}
