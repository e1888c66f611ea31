//! What `fit`, `evaluate` and `predict` accept: any ndarray array or view of samples, and for
//! targets also integer class labels (arrays, views, slices or vectors of `u8` ... `usize`).
//!
//! Samples are read where they lie: an owned array, a view, or a slice of a larger array
//! (`x.slice(s![..1000, .., .., ..])`) goes in without a copy of the data set.

use ndarray::{ArrayBase, ArrayView1, ArrayViewD, CowArray, Data, Dimension, IxDyn};
use neurite_tensor::Float;

/// Samples `[N, ..per-sample shape]` for a model of element type `F`: any ndarray array or
/// view of `F`, of any rank (the model checks the shape).
///
/// ```
/// use ndarray::{Array2, s};
/// use neurite_train::AsSamples;
/// let x = Array2::<f32>::zeros((100, 3));
/// let first_ten = x.slice(s![..10, ..]);
/// assert_eq!(first_ten.samples().shape(), &[10, 3]);
/// assert_eq!(AsSamples::<f32>::samples(&x).as_ptr(), x.as_ptr()); // no copy
/// ```
pub trait AsSamples<F: Float> {
    /// The samples as a dynamic-rank view.
    fn samples(&self) -> ArrayViewD<'_, F>;
}

impl<F: Float, S: Data<Elem = F>, D: Dimension> AsSamples<F> for ArrayBase<S, D> {
    fn samples(&self) -> ArrayViewD<'_, F> {
        self.view().into_dyn()
    }
}

/// An element of a target array: the model's float type itself (one-hot rows, regression
/// values, float labels), or an integer class label (`u8`, `u16`, `u32`, `usize`) for the
/// sparse losses and metrics.
pub trait TargetElement<F: Float>: Copy {
    /// The targets as floats: borrowed when they already are, converted (one value per
    /// label, exact for any class count below 2^24) when they are integers.
    fn as_float(targets: ArrayViewD<'_, Self>) -> CowArray<'_, F, IxDyn>;
}

impl TargetElement<f32> for f32 {
    fn as_float(targets: ArrayViewD<'_, f32>) -> CowArray<'_, f32, IxDyn> {
        targets.into()
    }
}

impl TargetElement<f64> for f64 {
    fn as_float(targets: ArrayViewD<'_, f64>) -> CowArray<'_, f64, IxDyn> {
        targets.into()
    }
}

macro_rules! integer_labels {
    ($($t:ty),*) => {$(
        impl<F: Float> TargetElement<F> for $t {
            fn as_float(targets: ArrayViewD<'_, $t>) -> CowArray<'_, F, IxDyn> {
                targets.mapv(|v| F::from_f64(v as f64)).into()
            }
        }
    )*};
}

integer_labels!(u8, u16, u32, usize);

/// Targets `[N, ..]` for a model of element type `F`: float arrays or views (one-hot rows,
/// values), or integer class labels `[N]` as an array, a view, a slice or a `Vec`.
///
/// ```
/// use ndarray::array;
/// use neurite_train::AsTargets;
/// let labels: Vec<u8> = vec![3, 0, 9];
/// let y = AsTargets::<f32>::targets(&labels);
/// assert_eq!(y.as_slice().unwrap(), &[3.0, 0.0, 9.0]);
/// let one_hot = array![[0.0f32, 1.0], [1.0, 0.0]];
/// assert_eq!(one_hot.targets().as_ptr(), one_hot.as_ptr()); // floats are borrowed
/// ```
pub trait AsTargets<F: Float> {
    /// The targets as a float array, borrowed when possible.
    fn targets(&self) -> CowArray<'_, F, IxDyn>;
}

impl<F: Float, S: Data, D: Dimension> AsTargets<F> for ArrayBase<S, D>
where
    S::Elem: TargetElement<F>,
{
    fn targets(&self) -> CowArray<'_, F, IxDyn> {
        S::Elem::as_float(self.view().into_dyn())
    }
}

impl<F: Float, T: TargetElement<F>> AsTargets<F> for [T] {
    fn targets(&self) -> CowArray<'_, F, IxDyn> {
        T::as_float(ArrayView1::from(self).into_dyn())
    }
}

impl<F: Float, T: TargetElement<F>> AsTargets<F> for Vec<T> {
    fn targets(&self) -> CowArray<'_, F, IxDyn> {
        self.as_slice().targets()
    }
}
