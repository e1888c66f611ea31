//! The score types metrics accept: `f32` and `f64`.

use std::fmt::Debug;

/// A floating-point score or probability: implemented for `f32` and `f64`.
///
/// Metrics read scores through this trait and compute in `f64`, so `f32` model outputs give the
/// same result as the same values stored in `f64`.
pub trait Score: num_traits::Float + Into<f64> + Debug + Send + Sync + 'static {}

impl Score for f32 {}
impl Score for f64 {}
