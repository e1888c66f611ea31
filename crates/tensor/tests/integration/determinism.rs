//! GEMM and convolution give bit-identical results with 1 and 2 rayon threads.

use crate::common;

use ndarray::{Array2, Array3, Array4};
use neurite_tensor::{Padding, Rng, Transpose, Window2d, gemm, im2col_batch, max_pool2d};

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

fn random2(m: usize, n: usize, seed: u64) -> Array2<f32> {
    let mut rng = Rng::new(seed);
    Array2::from_shape_simple_fn((m, n), || rng.uniform(-1.0, 1.0) as f32)
}

#[test]
fn gemm_is_bit_identical_across_thread_counts() {
    common::best_kernel("gemm (f32)");
    for (m, k, n) in [(257, 300, 129), (32, 784, 128), (64, 1000, 700)] {
        let a = random2(m, k, 1);
        let b = random2(n, k, 2);
        let run = |threads| {
            let mut c = random2(m, n, 3);
            pool(threads).install(|| {
                gemm(
                    0.7,
                    a.view(),
                    Transpose::No,
                    b.view(),
                    Transpose::Yes,
                    0.3,
                    c.view_mut(),
                )
                .unwrap()
            });
            c
        };
        let (one, two, four) = (run(1), run(2), run(4));
        assert!(
            one.iter()
                .zip(&two)
                .all(|(x, y)| x.to_bits() == y.to_bits()),
            "{m}x{k}x{n}: 1 vs 2 threads"
        );
        assert!(
            one.iter()
                .zip(&four)
                .all(|(x, y)| x.to_bits() == y.to_bits()),
            "{m}x{k}x{n}: 1 vs 4 threads"
        );
    }
}

#[test]
fn conv_is_bit_identical_across_thread_counts() {
    common::best_kernel("gemm (f32)");
    let mut rng = Rng::new(4);
    let x = Array4::from_shape_simple_fn((16, 8, 13, 13), || rng.uniform(0.0, 1.0) as f32);
    let weight = random2(16, 8 * 9, 5);
    let win = Window2d::new((13, 13), (3, 3), (1, 1), Padding::Same).unwrap();
    let run = |threads| {
        pool(threads).install(|| {
            let mut cols = Array3::<f32>::zeros((16, 72, win.out_len()));
            im2col_batch(x.view(), &win, cols.view_mut()).unwrap();
            let mut out = Array3::<f32>::zeros((16, 16, win.out_len()));
            for (col, o) in cols.outer_iter().zip(out.outer_iter_mut()) {
                gemm(
                    1.0,
                    weight.view(),
                    Transpose::No,
                    col,
                    Transpose::No,
                    0.0,
                    o,
                )
                .unwrap();
            }
            let out = out.into_shape_with_order((16, 16, 13, 13)).unwrap();
            let pw = Window2d::new((13, 13), (2, 2), (2, 2), Padding::Valid).unwrap();
            let mut pooled = Array4::<f32>::zeros((16, 16, 6, 6));
            let mut arg = Array4::<u32>::zeros((16, 16, 6, 6));
            max_pool2d(out.view(), &pw, pooled.view_mut(), Some(arg.view_mut())).unwrap();
            (out, pooled)
        })
    };
    let (a, b) = (run(1), run(2));
    assert!(
        a.0.iter()
            .zip(&b.0)
            .all(|(x, y)| x.to_bits() == y.to_bits())
    );
    assert!(
        a.1.iter()
            .zip(&b.1)
            .all(|(x, y)| x.to_bits() == y.to_bits())
    );
}
