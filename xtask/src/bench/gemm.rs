//! `cargo xtask bench gemm`: square sgemm and the reference CNN's convolutions.

use ndarray::ArrayView2;
use ndarray::{Array2, Array4};
use neurite::tensor::{
    Epilogue, Kernel, MatMut, MatRef, Padding, Rng, Transpose, Window2d, col2im_wide, gemm,
    im2col_wide, sgemm,
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
    pub budget: f64,
    /// Only the convolution products as the layer runs them (in place), after the peak.
    #[arg(long)]
    in_place_only: bool,
}

const SIZES: [usize; 5] = [64, 128, 256, 512, 1024];
const THREADS: [usize; 2] = [1, 2];

pub(crate) fn random(shape: (usize, usize), seed: u64) -> Array2<f32> {
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
    }
    if args.in_place_only {
        return super::conv_in_place::run(&args, &peaks);
    }
    if !args.json {
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
                best_time(args.budget, 3, || {
                    let (no, a, b) = (Transpose::No, a.view(), b.view());
                    gemm_matrixmultiply(a, no, b, no, c.view_mut());
                })
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
    conv_layers(&args, &peaks)?;
    if !args.json {
        super::conv_in_place::run(&args, &peaks)?;
    }
    unfold(&args)
}

/// The three products of each convolution of the reference CNN at batch 64 (forward, weight
/// gradient, input gradient before col2im), neurite's kernels next to matrixmultiply.
fn conv_layers(args: &Args, peaks: &[peak::Peak; 2]) -> anyhow::Result<()> {
    const BATCH: usize = 64;
    // (name, channels, output positions per plane, filters); kernels are 3x3.
    let layers = [
        ("conv2d", 1, 26 * 26, 32),
        ("conv2d_1", 32, 11 * 11, 64),
        ("conv2d_2", 64, 3 * 3, 64),
    ];
    if !args.json {
        println!();
        println!("reference CNN convolution products, batch {BATCH} ([M, K] x [K, N]):");
        println!(
            "{:>10} {:>6} {:>22} {:>11} {:>11} {:>11} {:>11} {:>9}",
            "layer",
            "pass",
            "shape",
            "ours 1 thr",
            "ours 2 thr",
            "mm 1 thr",
            "mm 2 thr",
            "ours %pk"
        );
    }
    for (name, channels, positions, filters) in layers {
        let ckk = channels * 9;
        let np = BATCH * positions;
        // (pass, M, K, N, A transposed, B transposed)
        let passes = [
            ("fwd", filters, ckk, np, false, false),
            ("dW", filters, np, ckk, false, true),
            ("dX", ckk, filters, np, true, false),
        ];
        for (pass, m, k, n, ta, tb) in passes {
            let a = if ta {
                random((k, m), 5)
            } else {
                random((m, k), 5)
            };
            let b = if tb {
                random((n, k), 6)
            } else {
                random((k, n), 6)
            };
            let a_view = if ta { a.t() } else { a.view() };
            let b_view = if tb { b.t() } else { b.view() };
            let mut c = Array2::<f32>::zeros((m, n));
            let flops = 2.0 * (m * k * n) as f64;
            let mut ours = [0.0; 2];
            let mut mm = [0.0; 2];
            for (slot, &threads) in THREADS.iter().enumerate() {
                let t = with_threads(threads, || {
                    best_time(args.budget, 3, || {
                        let (a, b) = (MatRef::new(a_view), MatRef::new(b_view));
                        sgemm(a, b, MatMut::new(c.view_mut()), Epilogue::default())
                            .expect("shapes agree");
                    })
                })?;
                ours[slot] = flops / t / 1e9;
                let t = with_threads(threads, || {
                    best_time(args.budget, 3, || {
                        let (ta, tb) = (transpose(ta), transpose(tb));
                        gemm_matrixmultiply(a.view(), ta, b.view(), tb, c.view_mut());
                    })
                })?;
                mm[slot] = flops / t / 1e9;
                if args.json {
                    println!(
                        "{}",
                        json!({"bench": format!("conv_{name}_{pass}"), "threads": threads,
                            "gflops": ours[slot], "matrixmultiply_gflops": mm[slot],
                            "fraction_of_peak": ours[slot] / peaks[slot].measured_gflops})
                    );
                }
            }
            if !args.json {
                println!(
                    "{name:>10} {pass:>6} {:>22} {:>11.1} {:>11.1} {:>11.1} {:>11.1} {:>8.0}%",
                    format!("[{m}, {k}] x [{k}, {n}]"),
                    ours[0],
                    ours[1],
                    mm[0],
                    mm[1],
                    100.0 * ours[1] / peaks[1].measured_gflops
                );
            }
        }
    }
    Ok(())
}

fn transpose(yes: bool) -> Transpose {
    if yes { Transpose::Yes } else { Transpose::No }
}

/// matrixmultiply's sgemm (the reference the kernels are tested against) on (possibly
/// transposed) operands, columns of C split over the pool's threads.
fn gemm_matrixmultiply(
    a: ArrayView2<'_, f32>,
    ta: Transpose,
    b: ArrayView2<'_, f32>,
    tb: Transpose,
    mut c: ndarray::ArrayViewMut2<'_, f32>,
) {
    let (a, b) = (ta.apply(a), tb.apply(b));
    let chunk = b.ncols().div_ceil(rayon::current_num_threads()).max(16);
    b.axis_chunks_iter(ndarray::Axis(1), chunk)
        .into_par_iter()
        .zip(c.axis_chunks_iter_mut(ndarray::Axis(1), chunk))
        .for_each(|(b, c)| {
            neurite::tensor::sgemm_matrixmultiply(1.0, a, b, 0.0, c).expect("shapes fit")
        });
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

/// im2col and col2im of the reference CNN's convolutions at batch 64, in GB/s of the column
/// matrix written (im2col) or read (col2im).
fn unfold(args: &Args) -> anyhow::Result<()> {
    const BATCH: usize = 64;
    let layers = [("conv2d", 1, 28), ("conv2d_1", 32, 13), ("conv2d_2", 64, 5)];
    if !args.json {
        println!();
        println!("im2col / col2im, batch {BATCH}, GB/s of the column matrix:");
        println!(
            "{:>10} {:>14} {:>14} {:>14} {:>14}",
            "layer", "im2col 1 thr", "im2col 2 thr", "col2im 1 thr", "col2im 2 thr"
        );
    }
    for (name, channels, size) in layers {
        let win = Window2d::new((size, size), (3, 3), (1, 1), Padding::Valid)?;
        let mut rng = Rng::new(3);
        let x = Array4::from_shape_simple_fn((BATCH, channels, size, size), || rng.next_f32());
        let mut cols = Array2::<f32>::zeros((channels * 9, BATCH * win.out_len()));
        let mut d_x = Array4::<f32>::zeros((BATCH, channels, size, size));
        let bytes = (cols.len() * 4) as f64;
        let mut rates = [0.0; 4];
        for (slot, &threads) in THREADS.iter().enumerate() {
            let t = with_threads(threads, || {
                best_time(args.budget, 3, || {
                    im2col_wide(x.view(), &win, cols.view_mut()).expect("shapes agree");
                })
            })?;
            rates[slot] = bytes / t / 1e9;
            let t = with_threads(threads, || {
                best_time(args.budget, 3, || {
                    col2im_wide(cols.view(), &win, d_x.view_mut()).expect("shapes agree");
                })
            })?;
            rates[2 + slot] = bytes / t / 1e9;
        }
        if args.json {
            println!(
                "{}",
                json!({"bench": format!("unfold_{name}"), "im2col_gbps": [rates[0], rates[1]],
                    "col2im_gbps": [rates[2], rates[3]]})
            );
        } else {
            println!(
                "{name:>10} {:>14.1} {:>14.1} {:>14.1} {:>14.1}",
                rates[0], rates[1], rates[2], rates[3]
            );
        }
    }
    Ok(())
}
