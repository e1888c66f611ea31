//! The batch iterator: coverage, pairing, determinism per seed, drop-last, early stop.

use ndarray::{ArrayD, IxDyn, ShapeBuilder};
use neurite_data::{BatchConfig, Batcher, DataError, Dataset, batches_of};

/// x row i is [i, i + 0.5]; y is i as u32, so pairing is checkable.
fn data(n: usize) -> (ArrayD<f32>, ArrayD<u32>) {
    let x = ArrayD::from_shape_fn(IxDyn(&[n, 2]), |ix| ix[0] as f32 + 0.5 * ix[1] as f32);
    let y = ArrayD::from_shape_fn(IxDyn(&[n]), |ix| ix[0] as u32);
    (x, y)
}

fn epoch_labels(b: &Batcher<f32, u32>, epoch: u64) -> Vec<Vec<u32>> {
    b.epoch(epoch)
        .map(|(_, y)| y.iter().copied().collect())
        .collect()
}

#[test]
fn every_sample_once_per_epoch_with_its_label() {
    let (x, y) = data(103);
    let b = Batcher::new(x, y, BatchConfig::new(10).seed(3)).unwrap();
    assert_eq!(b.num_batches(), 11);
    let mut seen = Vec::new();
    let mut batches = b.epoch(0);
    assert_eq!(batches.len(), 11);
    let mut sizes = Vec::new();
    for (xb, yb) in &mut batches {
        assert_eq!(xb.shape(), [yb.len(), 2]);
        for (row, &label) in xb.outer_iter().zip(yb.iter()) {
            assert_eq!(
                row.iter().copied().collect::<Vec<_>>(),
                [label as f32, label as f32 + 0.5]
            );
        }
        sizes.push(yb.len());
        seen.extend(yb.iter().copied());
    }
    assert_eq!(batches.len(), 0);
    assert_eq!(sizes, [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 3]);
    let shuffled = seen.clone();
    seen.sort();
    assert_eq!(seen, (0..103).collect::<Vec<_>>());
    assert_ne!(shuffled, seen, "shuffled");
}

#[test]
fn same_seed_same_order_other_seed_or_epoch_other_order() {
    let (x, y) = data(50);
    let a = Batcher::new(x.clone(), y.clone(), BatchConfig::new(8).seed(42)).unwrap();
    let b = Batcher::new(
        x.clone(),
        y.clone(),
        BatchConfig::new(8).seed(42).prefetch(5),
    )
    .unwrap();
    let c = Batcher::new(x, y, BatchConfig::new(8).seed(43)).unwrap();
    assert_eq!(epoch_labels(&a, 0), epoch_labels(&b, 0));
    assert_eq!(epoch_labels(&a, 1), epoch_labels(&b, 1));
    assert_ne!(epoch_labels(&a, 0), epoch_labels(&a, 1));
    assert_ne!(epoch_labels(&a, 0), epoch_labels(&c, 0));
    // The order is pinned: it comes from the portable xoshiro256++ stream and must not change
    // between machines or releases (a change here breaks reproducibility of training runs).
    assert_eq!(a.order(0)[..8], PINNED);
    assert_eq!(epoch_labels(&a, 0)[0], PINNED.map(|i| i as u32));
}

/// First 8 of the epoch-0 order for seed 42 over 50 samples, recorded from this implementation.
const PINNED: [usize; 8] = [19, 35, 34, 45, 29, 42, 3, 46];

#[test]
fn no_shuffle_keeps_the_order_and_drop_last_drops_the_rest() {
    let (x, y) = data(10);
    let b = Batcher::new(x, y, BatchConfig::new(4).shuffle(false).drop_last(true)).unwrap();
    assert_eq!(b.num_batches(), 2);
    assert_eq!(epoch_labels(&b, 5), [vec![0, 1, 2, 3], vec![4, 5, 6, 7]]);
}

#[test]
fn stopping_early_ends_the_producer() {
    let (x, y) = data(10_000);
    let b = Batcher::new(x, y, BatchConfig::new(1).prefetch(1)).unwrap();
    let mut it = b.epoch(0);
    assert!(it.next().is_some());
    drop(it); // must not hang waiting for the producer
    assert_eq!(b.epoch(0).take(3).count(), 3);
}

#[test]
fn bad_arguments_are_errors() {
    let (x, y) = data(4);
    let err = Batcher::new(x.clone(), y.clone(), BatchConfig::new(0)).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::InvalidArgument {
                arg: "batch_size",
                ..
            }
        ),
        "{err}"
    );
    let err = Batcher::new(x.clone(), y.clone(), BatchConfig::new(2).prefetch(0)).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::InvalidArgument {
                arg: "prefetch",
                ..
            }
        ),
        "{err}"
    );
    let (_, y5) = data(5);
    let err = Batcher::new(x, y5, BatchConfig::new(2)).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::CountMismatch {
                images: 4,
                labels: 5
            }
        ),
        "{err}"
    );
}

#[test]
fn empty_data_gives_no_batches() {
    let x = ArrayD::<f32>::zeros(IxDyn(&[0, 3]));
    let y = ArrayD::<u8>::zeros(IxDyn(&[0]));
    let b = Batcher::new(x, y, BatchConfig::new(4)).unwrap();
    assert_eq!(b.epoch(0).count(), 0);
}

#[test]
fn non_contiguous_inputs_are_gathered_correctly() {
    let (x, y) = data(6);
    let xt = x.t().to_owned(); // [2, 6] standard, then transposed view back to [6, 2]
    let x_view = xt.t().to_owned(); // owned, but copy of a transposed view keeps a layout
    let b = Batcher::new(x_view, y, BatchConfig::new(6).shuffle(false)).unwrap();
    let (xb, _) = b.epoch(0).next().unwrap();
    assert_eq!(xb, x);
    let fortran =
        ArrayD::from_shape_vec(IxDyn(&[6, 2]).f(), (0..12).map(|v| v as f32).collect()).unwrap();
    let b = Batcher::new(
        fortran.clone(),
        ArrayD::<u8>::zeros(IxDyn(&[6])),
        BatchConfig::new(4).shuffle(false),
    )
    .unwrap();
    let first: Vec<ArrayD<f32>> = b.epoch(0).map(|(x, _)| x).collect();
    assert_eq!(first[0], fortran.slice(ndarray::s![0..4, ..]).into_dyn());
    assert_eq!(first[1], fortran.slice(ndarray::s![4..6, ..]).into_dyn());
}

#[test]
fn dataset_splits() {
    let images = ndarray::Array4::from_shape_fn((10, 1, 2, 2), |(n, _, _, _)| n as u8);
    let labels = ndarray::Array1::from_shape_fn(10, |n| (n % 3) as u8);
    let d = Dataset::new(images, labels, 3).unwrap();
    let (train, val) = d.split_validation(0.2).unwrap();
    assert_eq!(val.labels().to_vec(), [2, 0]);
    assert_eq!(train.images_u8()[[7, 0, 1, 1]], 7);

    let (t1, v1) = d.split_validation_shuffled(0.3, 9).unwrap();
    let (t2, v2) = d.split_validation_shuffled(0.3, 9).unwrap();
    assert_eq!((&t1, &v1), (&t2, &v2));
    assert_eq!((t1.len(), v1.len()), (7, 3));
    let mut ids: Vec<u8> = t1
        .images_u8()
        .outer_iter()
        .chain(v1.images_u8().outer_iter())
        .map(|im| im[[0, 0, 0]])
        .collect();
    ids.sort();
    assert_eq!(ids, (0..10).collect::<Vec<u8>>());
    // Labels moved together with their images.
    for part in [&t1, &v1] {
        for (im, &l) in part.images_u8().outer_iter().zip(part.labels()) {
            assert_eq!(im[[0, 0, 0]] % 3, l);
        }
    }
    assert!(d.split_validation(1.5).is_err());
    assert!(d.split_validation(f64::NAN).is_err());
    assert!(d.split_at(11).is_err());
    assert!(d.select(&[10]).is_err());
    let err = Dataset::new(
        ndarray::Array4::zeros((2, 1, 1, 1)),
        ndarray::Array1::from(vec![0u8, 3]),
        3,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            DataError::LabelOutOfRange {
                index: 1,
                label: 3,
                classes: 3
            }
        ),
        "{err}"
    );
    assert!(neurite_data::one_hot(&[0, 5], 3).is_err());
}

/// Batches gathered from views are the batcher's batches, in the same order, for every setting.
#[test]
fn borrowed_batches_equal_the_batchers() {
    let x = ArrayD::from_shape_vec(IxDyn(&[23, 3]), (0..69).map(|v| v as f32).collect()).unwrap();
    let y = ArrayD::from_shape_vec(IxDyn(&[23]), (0..23u32).collect()).unwrap();
    for (shuffle, drop_last, batch) in [
        (true, false, 5),
        (false, false, 4),
        (true, true, 6),
        (true, false, 30),
    ] {
        let config = BatchConfig::new(batch)
            .seed(3)
            .shuffle(shuffle)
            .drop_last(drop_last);
        let batcher = Batcher::new(x.clone(), y.clone(), config).unwrap();
        for epoch in 0..3 {
            let owned: Vec<_> = batcher.epoch(epoch).collect();
            let borrowed: Vec<_> = batches_of(x.view(), y.view(), config, epoch)
                .unwrap()
                .collect();
            assert_eq!(
                owned, borrowed,
                "shuffle {shuffle}, drop_last {drop_last}, batch {batch}"
            );
        }
    }
    // A strided view (every second row) gathers the right rows too.
    let every_other = x.slice_axis(ndarray::Axis(0), ndarray::Slice::new(0, None, 2));
    let labels = y.slice_axis(ndarray::Axis(0), ndarray::Slice::new(0, None, 2));
    let config = BatchConfig::new(4).shuffle(false);
    let first = batches_of(every_other, labels, config, 0)
        .unwrap()
        .next()
        .unwrap();
    assert_eq!(first.1.as_slice().unwrap(), &[0, 2, 4, 6]);
    assert_eq!(first.0[[1, 0]], 6.0);
}
