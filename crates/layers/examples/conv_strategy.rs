//! Compares the two ways to run a convolution forward pass on the reference CNN's shapes:
//! one GEMM per sample (in parallel, writing NCHW directly) versus one wide GEMM for the whole
//! batch followed by a scatter to NCHW (what `Conv2D` does). Run with
//! `cargo run --release -p neurite-layers --example conv_strategy`.

use std::time::Instant;

use ndarray::{Array2, Array3, Array4, Axis, Zip};
use neurite_tensor::{
    Padding, Rng, Transpose, Window2d, gemm, gemm_serial, im2col_batch, im2col_wide,
};

fn per_sample(
    x: &Array4<f32>,
    w: &Array2<f32>,
    win: &Window2d,
    cols: &mut Array3<f32>,
    out: &mut Array3<f32>,
) {
    im2col_batch(x.view(), win, cols.view_mut()).unwrap();
    Zip::from(cols.outer_iter())
        .and(out.outer_iter_mut())
        .par_for_each(|c, o| {
            gemm_serial(1.0, w.view(), Transpose::No, c, Transpose::No, 0.0, o).unwrap();
        });
}

fn wide(
    x: &Array4<f32>,
    w: &Array2<f32>,
    win: &Window2d,
    cols: &mut Array2<f32>,
    tmp: &mut Array2<f32>,
    out: &mut Array3<f32>,
) {
    im2col_wide(x.view(), win, cols.view_mut()).unwrap();
    gemm(
        1.0,
        w.view(),
        Transpose::No,
        cols.view(),
        Transpose::No,
        0.0,
        tmp.view_mut(),
    )
    .unwrap();
    let (n, f, p) = out.dim();
    let t = tmp
        .view()
        .into_shape_with_order((f, n, p))
        .unwrap()
        .permuted_axes([1, 0, 2]);
    Zip::from(out.view_mut())
        .and(&t)
        .par_for_each(|o, &v| *o = v);
}

fn main() {
    let mut rng = Rng::new(0);
    for (name, n, c, h, f) in [
        ("conv2d", 64, 1, 28, 32),
        ("conv2d_1", 64, 32, 13, 64),
        ("conv2d_2", 64, 64, 5, 64),
    ] {
        let win = Window2d::new((h, h), (3, 3), (1, 1), Padding::Valid).unwrap();
        let (ckk, p) = (c * 9, win.out_len());
        let x = Array4::from_shape_simple_fn((n, c, h, h), || rng.next_f32());
        let w = Array2::from_shape_simple_fn((f, ckk), || rng.next_f32());
        let mut cols3 = Array3::zeros((n, ckk, p));
        let mut cols2 = Array2::zeros((ckk, n * p));
        let mut tmp = Array2::zeros((f, n * p));
        let mut out = Array3::zeros((n, f, p));
        let reps = 30;
        let (mut a, mut b) = (f64::MAX, f64::MAX);
        // Interleave the two so machine load affects both alike; keep the best of each.
        for _ in 0..reps {
            let t = Instant::now();
            per_sample(&x, &w, &win, &mut cols3, &mut out);
            a = a.min(t.elapsed().as_secs_f64());
            let t = Instant::now();
            wide(&x, &w, &win, &mut cols2, &mut tmp, &mut out);
            b = b.min(t.elapsed().as_secs_f64());
        }
        let check = out.index_axis(Axis(0), 0).sum();
        println!(
            "{name} [N={n}, C={c}, {h}x{h}] -> F={f}: per-sample {:.3} ms, wide {:.3} ms (best of {reps}, threads {}, checksum {check:.1})",
            a * 1e3,
            b * 1e3,
            rayon::current_num_threads()
        );
    }
}
