//! sgemm (neurite's own f32 kernels) against an f64 triple loop and against matrixmultiply:
//! every kernel this CPU runs, plain, transposed and wide (NCHW planes) operands, every
//! epilogue, K large enough to need several blocks, and bit-identical results for any split.

use crate::common;

use common::random;
use ndarray::{Array2, Array3, ArrayView2, Ix2};
use neurite_tensor::{
    Bias, Epilogue, Kernel, MatMut, MatRef, Padding, Window2d, im2col_wide, sgemm_matrixmultiply,
    sgemm_with,
};
use proptest::prelude::*;

/// How an operand of logical shape `[rows, G * P]` is stored.
#[derive(Clone, Copy, Debug)]
enum Store {
    /// Row-major `[rows, cols]`.
    Plain,
    /// Row-major `[cols, rows]`, read transposed.
    Transposed,
    /// `[G, rows, P]` planes, read as `[rows, G * P]`.
    Wide,
}

fn store() -> impl Strategy<Value = Store> {
    prop_oneof![
        Just(Store::Plain),
        Just(Store::Transposed),
        Just(Store::Wide)
    ]
}

/// A matrix kept in the storage `how`, with its logical f64 values.
struct Operand {
    how: Store,
    plain: Array2<f32>,
    transposed: Array2<f32>,
    wide: Array3<f32>,
}

impl Operand {
    fn new(how: Store, values: Array2<f32>, groups: usize, plane: usize) -> Self {
        let rows = values.nrows();
        let wide = Array3::from_shape_fn((groups, rows, plane), |(g, r, p)| {
            values[(r, g * plane + p)]
        });
        Operand {
            how,
            transposed: values.t().as_standard_layout().into_owned(),
            plain: values,
            wide,
        }
    }

    fn as_ref(&self) -> MatRef<'_> {
        match self.how {
            Store::Plain => MatRef::new(self.plain.view()),
            Store::Transposed => MatRef::new(self.transposed.t()),
            Store::Wide => MatRef::wide(self.wide.view()),
        }
    }

    /// Runs `f` on a writable view in this storage, then copies the result back to `plain`.
    fn write(&mut self, f: impl FnOnce(MatMut<'_>)) {
        let plane = self.wide.shape()[2];
        match self.how {
            Store::Plain => f(MatMut::new(self.plain.view_mut())),
            Store::Transposed => {
                f(MatMut::new(self.transposed.view_mut().reversed_axes()));
                self.plain = self.transposed.t().to_owned();
            }
            Store::Wide => {
                f(MatMut::wide(self.wide.view_mut()));
                for ((g, r, p), &v) in self.wide.indexed_iter() {
                    self.plain[(r, g * plane + p)] = v;
                }
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Case {
    m: usize,
    /// K = k_groups * k_plane, N = n_groups * n_plane (the groups matter for wide operands).
    k_groups: usize,
    k_plane: usize,
    n_groups: usize,
    n_plane: usize,
    a: Store,
    b: Store,
    c: Store,
    alpha: f32,
    beta: f32,
    bias: u8,
    relu: bool,
    seed: u64,
}

fn case(max_m: usize, max_k_plane: usize) -> impl Strategy<Value = Case> {
    (
        (
            1..=max_m,
            1..=4usize,
            0..=max_k_plane,
            1..=4usize,
            1..=40usize,
        ),
        (store(), store(), store()),
        (
            prop_oneof![Just(1.0f32), -2.0..2.0f32],
            prop_oneof![Just(0.0f32), Just(1.0), -1.0..1.0f32],
            0..3u8,
            any::<bool>(),
            any::<u64>(),
        ),
    )
        .prop_map(
            |(
                (m, k_groups, k_plane, n_groups, n_plane),
                (a, b, c),
                (alpha, beta, bias, relu, seed),
            )| Case {
                m,
                k_groups,
                k_plane,
                n_groups,
                n_plane,
                a,
                b,
                c,
                alpha,
                beta,
                bias,
                relu,
                seed,
            },
        )
}

fn matrix(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
    random::<f32>(&[rows, cols], seed)
        .into_dimensionality::<Ix2>()
        .unwrap()
}

/// The f64 reference of the whole epilogue.
fn reference(
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    c0: &Array2<f32>,
    case: &Case,
    bias: &[f32],
) -> (Array2<f64>, Array2<f64>) {
    let (m, k) = a.dim();
    let n = b.ncols();
    let mut want = Array2::zeros((m, n));
    let mut scale = Array2::zeros((m, n));
    for i in 0..m {
        for j in 0..n {
            let (mut dot, mut abs) = (0.0f64, 0.0f64);
            for p in 0..k {
                let t = a[(i, p)] as f64 * b[(p, j)] as f64;
                dot += t;
                abs += t.abs();
            }
            let old = if case.beta == 0.0 {
                0.0
            } else {
                case.beta as f64 * c0[(i, j)] as f64
            };
            let bias = match case.bias {
                1 => bias[i] as f64,
                2 => bias[j] as f64,
                _ => 0.0,
            };
            let v = case.alpha as f64 * dot + old + bias;
            want[(i, j)] = if case.relu && v <= 0.0 { 0.0 } else { v };
            scale[(i, j)] = case.alpha.abs() as f64 * abs + old.abs() + bias.abs() + 1.0;
        }
    }
    (want, scale)
}

fn run(kernel: Kernel, parallel: bool, case: &Case) -> (Array2<f32>, Array2<f64>, Array2<f64>) {
    let (m, k, n) = (
        case.m,
        case.k_groups * case.k_plane,
        case.n_groups * case.n_plane,
    );
    let a_values = matrix(m, k, case.seed);
    let b_values = matrix(k, n, case.seed ^ 1);
    let mut c_values = matrix(m, n, case.seed ^ 2);
    if case.beta == 0.0 {
        // beta = 0 must ignore whatever C holds.
        c_values.fill(f32::NAN);
    }
    let bias_len = if case.bias == 1 { m } else { n };
    let bias: Vec<f32> = matrix(1, bias_len, case.seed ^ 3).into_iter().collect();
    let (want, scale) = reference(a_values.view(), b_values.view(), &c_values, case, &bias);
    // A's columns are K, grouped as K; B's and C's columns are N.
    let a = Operand::new(case.a, a_values, case.k_groups, case.k_plane);
    let b = Operand::new(case.b, b_values, case.n_groups, case.n_plane);
    let mut c = Operand::new(case.c, c_values, case.n_groups, case.n_plane);
    let ep = Epilogue::default()
        .alpha(case.alpha)
        .beta(case.beta)
        .relu(case.relu)
        .bias(match case.bias {
            1 => Bias::Rows(&bias),
            2 => Bias::Cols(&bias),
            _ => Bias::None,
        });
    c.write(|out| sgemm_with(kernel, parallel, a.as_ref(), b.as_ref(), out, ep).unwrap());
    (c.plain, want, scale)
}

fn check(case: &Case) {
    for kernel in common::kernels("sgemm") {
        let (got, want, scale) = run(kernel, true, case);
        let k = case.k_groups * case.k_plane;
        let tol = f32::EPSILON as f64 * (k as f64 + 4.0);
        for ((idx, &g), (&w, &s)) in got.indexed_iter().zip(want.iter().zip(&scale)) {
            assert!(
                (g as f64 - w).abs() <= tol * s,
                "{kernel:?} {case:?}: at {idx:?} got {g}, want {w}"
            );
        }
        let (serial, _, _) = run(kernel, false, case);
        assert!(
            serial
                .iter()
                .zip(&got)
                .all(|(s, g)| s.to_bits() == g.to_bits()),
            "{kernel:?} {case:?}: serial and parallel results differ"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn small_products_match_the_reference(case in case(20, 12)) {
        check(&case);
    }

    #[test]
    fn products_with_several_k_blocks_and_tiles(case in case(70, 150)) {
        check(&case);
    }
}

/// Large enough to run in parallel (and with several column blocks), against matrixmultiply.
#[test]
fn agrees_with_matrixmultiply_on_a_convolution_sized_product() {
    let (m, k, n) = (64, 288, 1300);
    let a = matrix(m, k, 7);
    let b = matrix(k, n, 8);
    let want = matrixmultiply_product(a.view(), b.view());
    for kernel in common::kernels("sgemm") {
        let mut got = Array2::<f32>::zeros((m, n));
        sgemm_with(
            kernel,
            true,
            MatRef::new(a.view()),
            MatRef::new(b.view()),
            MatMut::new(got.view_mut()),
            Epilogue::default(),
        )
        .unwrap();
        let worst = got
            .iter()
            .zip(&want)
            .map(|(g, w)| (g - w).abs())
            .fold(0.0f32, f32::max);
        assert!(
            worst < 1e-4,
            "{kernel:?}: differs from matrixmultiply by {worst}"
        );
    }
}

#[test]
fn wide_output_writes_nchw_planes_in_place() {
    // [F, N * P] written into [N, F, P]: sample n's plane f is row f, columns n * P ..
    let (f, k, n, p) = (3, 5, 2, 4);
    let a = matrix(f, k, 1);
    let b = matrix(k, n * p, 2);
    let mut out = Array3::<f32>::zeros((n, f, p));
    sgemm_with(
        Kernel::best(),
        false,
        MatRef::new(a.view()),
        MatRef::new(b.view()),
        MatMut::wide(out.view_mut()),
        Epilogue::default(),
    )
    .unwrap();
    let full = a.dot(&b);
    for ((s, r, q), &v) in out.indexed_iter() {
        assert!((v - full[(r, s * p + q)]).abs() < 1e-5);
    }
}

#[test]
fn mismatched_shapes_and_bias_are_errors() {
    let a = Array2::<f32>::zeros((2, 3));
    let b = Array2::<f32>::zeros((2, 3));
    let mut c = Array2::<f32>::zeros((2, 3));
    assert!(
        sgemm_with(
            Kernel::Portable,
            false,
            MatRef::new(a.view()),
            MatRef::new(b.view()),
            MatMut::new(c.view_mut()),
            Epilogue::default()
        )
        .is_err()
    );
    let b = Array2::<f32>::zeros((3, 3));
    let short = [0.0f32; 2];
    let ep = Epilogue::default().bias(Bias::Cols(&short));
    assert!(
        sgemm_with(
            Kernel::Portable,
            false,
            MatRef::new(a.view()),
            MatRef::new(b.view()),
            MatMut::new(c.view_mut()),
            ep
        )
        .is_err()
    );
}

/// A first convolution's weight gradient, `[32, 43264] x [43264, 9]`: few output tiles and a long
/// K, so the product is split along K (fixed chunks summed in order). Against matrixmultiply, and
/// the same bits serially and in parallel.
#[test]
fn split_k_products_match_and_do_not_depend_on_the_split() {
    let (m, k, n) = (32, 43264, 9);
    let a = matrix(m, k, 11);
    let b_stored = matrix(n, k, 12); // used transposed, as the im2col columns are
    let b = b_stored.t();
    let want = matrixmultiply_product(a.view(), b);
    let bias: Vec<f32> = (0..m).map(|i| i as f32 * 0.1 - 1.0).collect();
    for kernel in common::kernels("sgemm") {
        let mut results = Vec::new();
        for parallel in [true, false] {
            let mut c = Array2::<f32>::from_elem((m, n), 2.0);
            let ep = Epilogue::default()
                .beta(0.5)
                .bias(Bias::Rows(&bias))
                .relu(true);
            sgemm_with(
                kernel,
                parallel,
                MatRef::new(a.view()),
                MatRef::new(b),
                MatMut::new(c.view_mut()),
                ep,
            )
            .unwrap();
            for ((i, j), &v) in c.indexed_iter() {
                let w = (want[(i, j)] + 1.0 + bias[i]).max(0.0);
                assert!((v - w).abs() < 2e-3, "{kernel:?} at ({i}, {j}): {v} vs {w}");
            }
            results.push(c);
        }
        assert!(
            results[0]
                .iter()
                .zip(&results[1])
                .all(|(x, y)| x.to_bits() == y.to_bits()),
            "{kernel:?}"
        );
    }
}

/// `a * b` by matrixmultiply's sgemm, the reference: any strides.
fn matrixmultiply_product(a: ArrayView2<'_, f32>, b: ArrayView2<'_, f32>) -> Array2<f32> {
    let mut c = Array2::<f32>::zeros((a.nrows(), b.ncols()));
    sgemm_matrixmultiply(1.0, a, b, 0.0, c.view_mut()).unwrap();
    c
}

/// A convolution's sizes: batch, channels, plane, window, stride, filters, and a seed.
#[derive(Clone, Copy, Debug)]
struct Conv {
    /// Samples, input channels, filters.
    ncf: (usize, usize, usize),
    hw: (usize, usize),
    k: (usize, usize),
    stride: usize,
    seed: u64,
}

impl Conv {
    fn new(
        ncf: (usize, usize, usize),
        hw: (usize, usize),
        k: (usize, usize),
        stride: usize,
        seed: u64,
    ) -> Self {
        let k = (k.0.min(hw.0), k.1.min(hw.1));
        Conv {
            ncf,
            hw,
            k,
            stride,
            seed,
        }
    }

    fn window(&self) -> Window2d {
        Window2d::new(self.hw, self.k, (self.stride, self.stride), Padding::Valid).unwrap()
    }
}

/// Random convolutions of up to `n` samples, `c` channels, planes of `side` and `f` filters.
fn conv(n: usize, c: usize, side: usize, f: usize) -> impl Strategy<Value = Conv> {
    let sizes = (1..=n, 1..=c, (1..=side, 1..=side), (1..4usize, 1..4usize));
    (sizes, 1..3usize, 1..=f, any::<u64>())
        .prop_map(|((n, c, hw, k), stride, f, seed)| Conv::new((n, c, f), hw, k, stride, seed))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The unfolded view of an input, read in place, gives the same bits as the unfolded matrix
    /// written out by `im2col_wide`: as B (a convolution's forward) and transposed (its weight
    /// gradient), for every kernel, strides included, from a slice of a larger array.
    #[test]
    fn unfolded_view_matches_the_unfolded_matrix(conv in conv(3, 4, 11, 19)) {
        check_unfolded_view(conv)?;
    }

    /// `W^T d_Z` folded into an input gradient as it leaves the registers (`MatMut::col2im`)
    /// equals the f64 product folded by hand, adds to what `d_x` held, and gives the same bits
    /// on one thread and split over samples, for every kernel.
    #[test]
    fn col2im_output_folds_the_product_into_the_input_gradient(conv in conv(11, 5, 13, 39)) {
        check_col2im(conv)?;
    }
}

/// The reference CNN's second convolution (and a wider one): whole 32-column panels of the
/// transposed view with output rows longer than 8, which the random cases above rarely reach,
/// so the weight gradient's blocked gather is compared with the unfolded matrix here.
#[test]
fn unfolded_view_of_reference_sized_inputs() {
    check_unfolded_view(Conv::new((3, 32, 64), (13, 13), (3, 3), 1, 7)).unwrap();
    check_unfolded_view(Conv::new((2, 5, 9), (20, 19), (3, 2), 1, 8)).unwrap();
    check_unfolded_view(Conv::new((2, 6, 33), (21, 21), (3, 3), 2, 9)).unwrap();
}

fn check_unfolded_view(conv: Conv) -> Result<(), TestCaseError> {
    let ((n, c, f), seed) = (conv.ncf, conv.seed);
    let ((h, w), (kh, kw)) = (conv.hw, conv.k);
    let win = conv.window();
    let big = random::<f32>(&[n + 1, c + 1, h + 2, w + 1], seed)
        .into_dimensionality::<ndarray::Ix4>()
        .unwrap();
    let x = big.slice(ndarray::s![1.., ..c, 1..h + 1, ..w]);
    let (ckk, np) = (c * kh * kw, n * win.out_len());
    let mut cols = Array2::<f32>::zeros((ckk, np));
    im2col_wide(x, &win, cols.view_mut()).unwrap();
    let weight = matrix(f, ckk, seed ^ 1);
    let d_z = matrix(f, np, seed ^ 2);
    for kernel in common::kernels("sgemm") {
        let product = |a: MatRef<'_>, b: MatRef<'_>, rows: usize, cols: usize| {
            let mut out = Array2::<f32>::zeros((rows, cols));
            sgemm_with(
                kernel,
                true,
                a,
                b,
                MatMut::new(out.view_mut()),
                Epilogue::default(),
            )
            .unwrap();
            out
        };
        let view = MatRef::im2col(x, &win).unwrap();
        prop_assert_eq!(view.dim(), (ckk, np));
        let fwd_view = product(MatRef::new(weight.view()), view, f, np);
        let fwd_cols = product(MatRef::new(weight.view()), MatRef::new(cols.view()), f, np);
        prop_assert_eq!(bits(&fwd_view), bits(&fwd_cols), "{:?} forward", kernel);
        let dw_view = product(MatRef::new(d_z.view()), view.t(), f, ckk);
        let dw_cols = product(MatRef::new(d_z.view()), MatRef::new(cols.t()), f, ckk);
        prop_assert_eq!(
            bits(&dw_view),
            bits(&dw_cols),
            "{:?} weight gradient",
            kernel
        );
        // And both against an independent reference, not only against each other.
        let reference = matrixmultiply_product(d_z.view(), cols.t());
        let close = dw_cols
            .iter()
            .zip(&reference)
            .all(|(a, b)| (a - b).abs() <= 1e-4 * (1.0 + b.abs()));
        prop_assert!(close, "{:?} weight gradient against matrixmultiply", kernel);
    }
    Ok(())
}

fn bits(a: &Array2<f32>) -> Vec<u32> {
    a.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn a_padded_window_has_no_unfolded_view() {
    let x = ndarray::Array4::<f32>::zeros((1, 1, 4, 4));
    let same = Window2d::new((4, 4), (3, 3), (1, 1), Padding::Same).unwrap();
    assert!(MatRef::im2col(x.view(), &same).is_err());
    let other = Window2d::new((5, 4), (3, 3), (1, 1), Padding::Valid).unwrap();
    assert!(MatRef::im2col(x.view(), &other).is_err());
}

/// The reference CNN's second and third convolutions at batch 64: many register tiles, tasks of
/// whole samples, vectors that cross output rows and samples.
#[test]
fn col2im_output_of_reference_sized_gradients() {
    check_col2im(Conv::new((64, 32, 64), (13, 13), (3, 3), 1, 3)).unwrap();
    check_col2im(Conv::new((64, 64, 64), (5, 5), (3, 3), 1, 4)).unwrap();
}

fn check_col2im(conv: Conv) -> Result<(), TestCaseError> {
    let ((n, c, f), seed, stride) = (conv.ncf, conv.seed, conv.stride);
    let ((h, w), (kh, kw)) = (conv.hw, conv.k);
    let win = conv.window();
    let (kk, p) = (kh * kw, win.out_len());
    // Rows of A in the output's order: (ky, kx, c).
    let w_t = matrix(kk * c, f, seed);
    let d_z = matrix(f, n * p, seed ^ 1);
    let start = random::<f32>(&[n, c, h, w], seed ^ 2)
        .into_dimensionality::<ndarray::Ix4>()
        .unwrap();
    let mut want = start.mapv(f64::from);
    for (r, k, ci) in (0..kk * c).map(|r| (r, r / c, r % c)) {
        let (ky, kx) = (k / kw, k % kw);
        for col in 0..n * p {
            let (s, oy, ox) = (col / p, col % p / win.out_w, col % win.out_w);
            let v: f64 = (0..f)
                .map(|q| f64::from(w_t[[r, q]]) * f64::from(d_z[[q, col]]))
                .sum();
            want[[s, ci, oy * stride + ky, ox * stride + kx]] += v;
        }
    }
    let add = Epilogue::default().beta(1.0);
    for kernel in common::kernels("sgemm") {
        let fold = |parallel: bool| {
            let mut d_x = start.clone();
            let out = MatMut::col2im(d_x.view_mut(), &win).unwrap();
            let (a, b) = (MatRef::new(w_t.view()), MatRef::new(d_z.view()));
            sgemm_with(kernel, parallel, a, b, out, add).unwrap();
            d_x
        };
        let serial = fold(false);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let split = pool.install(|| fold(true));
        let same = serial
            .iter()
            .zip(&split)
            .all(|(a, b)| a.to_bits() == b.to_bits());
        prop_assert!(same, "{:?}: one thread and two differ", kernel);
        for (got, want) in serial.iter().zip(&want) {
            let tol = 1e-5 * (f as f64 + 1.0) * (1.0 + want.abs());
            prop_assert!(
                (f64::from(*got) - want).abs() <= tol,
                "{:?}: {} vs {}",
                kernel,
                got,
                want
            );
        }
    }
    Ok(())
}

#[test]
fn col2im_output_only_adds() {
    let win = Window2d::new((3, 3), (2, 2), (1, 1), Padding::Valid).unwrap();
    let (a, b) = (Array2::<f32>::ones((4, 1)), Array2::<f32>::ones((1, 4)));
    let mut d_x = ndarray::Array4::<f32>::zeros((1, 1, 3, 3));
    for ep in [
        Epilogue::default(),
        Epilogue::default().beta(1.0).relu(true),
    ] {
        let out = MatMut::col2im(d_x.view_mut(), &win).unwrap();
        let got = sgemm_with(
            Kernel::Portable,
            false,
            MatRef::new(a.view()),
            MatRef::new(b.view()),
            out,
            ep,
        );
        assert!(got.is_err(), "{ep:?} accepted");
    }
    let padded = Window2d::new((3, 3), (2, 2), (1, 1), Padding::Same).unwrap();
    assert!(MatMut::col2im(d_x.view_mut(), &padded).is_err());
}

/// `Window2d`'s fields are public, so a caller can build or edit a window whose output size or
/// kernel does not follow from its input. The unfolded views address `x` through those fields:
/// such a window must be an error, not a view whose columns reach past `x` (before `check_plane`
/// checked the window, these views were built and sgemm read and wrote out of bounds).
#[test]
fn a_hand_edited_window_has_no_unfolded_view() {
    let win = Window2d::new((5, 5), (3, 3), (1, 1), Padding::Valid).unwrap();
    let x = ndarray::Array4::<f32>::zeros((1, 1, 5, 5));
    let mut d_x = x.clone();
    assert!(MatRef::im2col(x.view(), &win).is_ok());
    let bad = [
        // Windows starting on rows 3..9 of a 5-row input.
        Window2d { out_h: 9, ..win },
        // Taps one column past the last window's reach.
        Window2d { kernel_w: 4, ..win },
        // Every window on the same rows.
        Window2d { stride_h: 0, ..win },
    ];
    for bad in bad {
        assert!(MatRef::im2col(x.view(), &bad).is_err(), "{bad:?}");
        assert!(MatMut::col2im(d_x.view_mut(), &bad).is_err(), "{bad:?}");
    }
}

/// An empty C with a K long enough to be split (a first convolution's weight gradient on an
/// empty batch, say) is nothing to compute.
#[test]
fn empty_outputs_with_a_long_k() {
    let k = 8 * 2048;
    for kernel in common::kernels("sgemm") {
        for (m, n) in [(0, 9), (32, 0)] {
            let a = Array2::<f32>::zeros((m, k));
            let b = Array2::<f32>::zeros((k, n));
            let mut c = Array2::<f32>::zeros((m, n));
            for parallel in [true, false] {
                sgemm_with(
                    kernel,
                    parallel,
                    MatRef::new(a.view()),
                    MatRef::new(b.view()),
                    MatMut::new(c.view_mut()),
                    Epilogue::default(),
                )
                .unwrap();
            }
        }
    }
}
