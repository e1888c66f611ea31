//! An in-memory image classification dataset: `u8` images `[N, C, H, W]` and `u8` labels `[N]`.

use ndarray::{Array1, Array2, Array4, Axis};
use neurite_tensor::{Rng, Tensor};

use crate::error::{DataError, Result};

/// The random stream used by shuffled splits, apart from the batch shuffler's streams.
const SPLIT_STREAM: u64 = 0x5EED_5B17;

/// Images with one class label each, kept as the bytes the files hold; convert on demand.
///
/// ```
/// use ndarray::{Array1, Array4};
/// use neurite_data::Dataset;
/// let images = Array4::<u8>::from_elem((4, 1, 2, 2), 255);
/// let data = Dataset::new(images, Array1::from(vec![0u8, 1, 1, 2]), 3)?;
/// assert_eq!(data.label_histogram(), vec![1, 2, 1]);
/// assert_eq!(data.images_f32()[[3, 0, 1, 1]], 1.0);
/// assert_eq!(data.labels_one_hot().row(2).to_vec(), vec![0.0, 1.0, 0.0]);
/// let (train, val) = data.split_validation(0.25)?;
/// assert_eq!((train.len(), val.len()), (3, 1));
/// # Ok::<(), neurite_data::DataError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    images: Array4<u8>,
    labels: Array1<u8>,
    num_classes: usize,
}

impl Dataset {
    /// A dataset from images `[N, C, H, W]` and labels `[N]` in `0..num_classes`.
    pub fn new(images: Array4<u8>, labels: Array1<u8>, num_classes: usize) -> Result<Self> {
        if images.len_of(Axis(0)) != labels.len() {
            return Err(DataError::CountMismatch {
                images: images.len_of(Axis(0)),
                labels: labels.len(),
            });
        }
        if let Some((index, &label)) = labels
            .iter()
            .enumerate()
            .find(|(_, l)| usize::from(**l) >= num_classes)
        {
            return Err(DataError::LabelOutOfRange {
                index,
                label,
                classes: num_classes,
            });
        }
        Ok(Dataset {
            images,
            labels,
            num_classes,
        })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Number of classes.
    pub fn num_classes(&self) -> usize {
        self.num_classes
    }

    /// Shape of one image, `[C, H, W]`.
    pub fn image_shape(&self) -> [usize; 3] {
        let s = self.images.shape();
        [s[1], s[2], s[3]]
    }

    /// The raw images, `[N, C, H, W]`, values 0..=255.
    pub fn images_u8(&self) -> &Array4<u8> {
        &self.images
    }

    /// The labels, `[N]`.
    pub fn labels(&self) -> &Array1<u8> {
        &self.labels
    }

    /// The images as `f32` in `[0, 1]` (byte / 255), shape `[N, C, H, W]`.
    pub fn images_f32(&self) -> Tensor<f32> {
        self.images
            .mapv(|b| f32::from(b) * (1.0 / 255.0))
            .into_dyn()
    }

    /// The labels as `f32` class indices, shape `[N]` (for sparse categorical losses).
    pub fn labels_f32(&self) -> Tensor<f32> {
        self.labels.mapv(f32::from).into_dyn()
    }

    /// The labels one-hot encoded, shape `[N, num_classes]`.
    pub fn labels_one_hot(&self) -> Array2<f32> {
        let mut out = Array2::zeros((self.len(), self.num_classes));
        for (mut row, &label) in out.rows_mut().into_iter().zip(&self.labels) {
            // Labels were checked against num_classes in `new`.
            if let Some(slot) = row.get_mut(usize::from(label)) {
                *slot = 1.0;
            }
        }
        out
    }

    /// How many samples each class has.
    pub fn label_histogram(&self) -> Vec<usize> {
        let mut counts = vec![0; self.num_classes];
        for &label in &self.labels {
            if let Some(c) = counts.get_mut(usize::from(label)) {
                *c += 1;
            }
        }
        counts
    }

    /// The samples at `indices`, in that order (repeats allowed).
    pub fn select(&self, indices: &[usize]) -> Result<Dataset> {
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.len()) {
            return Err(DataError::arg(
                "Dataset::select",
                "indices",
                format!("index {bad} out of range for {} samples", self.len()),
            ));
        }
        Ok(Dataset {
            images: self.images.select(Axis(0), indices),
            labels: self.labels.select(Axis(0), indices),
            num_classes: self.num_classes,
        })
    }

    /// The first `n` samples and the rest.
    pub fn split_at(&self, n: usize) -> Result<(Dataset, Dataset)> {
        if n > self.len() {
            return Err(DataError::arg(
                "Dataset::split_at",
                "n",
                format!("{n} is more than the {} samples", self.len()),
            ));
        }
        let (a, b) = self.images.view().split_at(Axis(0), n);
        let (la, lb) = self.labels.view().split_at(Axis(0), n);
        Ok((
            Dataset {
                images: a.to_owned(),
                labels: la.to_owned(),
                num_classes: self.num_classes,
            },
            Dataset {
                images: b.to_owned(),
                labels: lb.to_owned(),
                num_classes: self.num_classes,
            },
        ))
    }

    /// Splits off the last `fraction` of the samples (rounded) as validation data, without
    /// shuffling, as Keras' `validation_split` does. Returns `(train, validation)`.
    pub fn split_validation(&self, fraction: f64) -> Result<(Dataset, Dataset)> {
        let n_val = validation_count(fraction, self.len(), "Dataset::split_validation")?;
        self.split_at(self.len() - n_val)
    }

    /// Shuffles with `seed`, then splits off `fraction` of the samples as validation data.
    /// The same seed gives the same split on every machine. Returns `(train, validation)`.
    pub fn split_validation_shuffled(
        &self,
        fraction: f64,
        seed: u64,
    ) -> Result<(Dataset, Dataset)> {
        let n_val = validation_count(fraction, self.len(), "Dataset::split_validation_shuffled")?;
        let order = Rng::with_stream(seed, SPLIT_STREAM).permutation(self.len());
        let (train, val) = order.split_at(self.len() - n_val);
        Ok((self.select(train)?, self.select(val)?))
    }
}

fn validation_count(fraction: f64, len: usize, op: &'static str) -> Result<usize> {
    if !(0.0..=1.0).contains(&fraction) {
        return Err(DataError::arg(
            op,
            "fraction",
            format!("{fraction} is not in [0, 1]"),
        ));
    }
    Ok(((len as f64) * fraction).round() as usize)
}

/// One-hot encodes class labels: shape `[labels.len(), num_classes]`.
///
/// ```
/// let y = neurite_data::one_hot(&[2, 0], 3)?;
/// assert_eq!(y, ndarray::arr2(&[[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]));
/// # Ok::<(), neurite_data::DataError>(())
/// ```
pub fn one_hot(labels: &[u8], num_classes: usize) -> Result<Array2<f32>> {
    let mut out = Array2::zeros((labels.len(), num_classes));
    for (index, (&label, mut row)) in labels.iter().zip(out.rows_mut()).enumerate() {
        match row.get_mut(usize::from(label)) {
            Some(slot) => *slot = 1.0,
            None => {
                return Err(DataError::LabelOutOfRange {
                    index,
                    label,
                    classes: num_classes,
                });
            }
        }
    }
    Ok(out)
}
