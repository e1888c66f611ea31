//! Measures how long loading the Fashion-MNIST training set takes (run with `--release`):
//! the raw IDX read, the verified load through the resolver, and the conversion to f32.
//!
//! `cargo run --release -p neurite-data --example load_time [ROOT]`; ROOT defaults to
//! `/usr/share/datasets` (Debian's `dataset-fashion-mnist`).

use std::path::PathBuf;
use std::time::Instant;

use neurite_data::{FASHION_MNIST, Resolver, Split, read_idx_as};

fn main() -> Result<(), neurite_data::DataError> {
    let root = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| "/usr/share/datasets".into());
    let images = root
        .join(FASHION_MNIST.name)
        .join("train-images-idx3-ubyte.gz");

    for run in 1..=3 {
        let t = Instant::now();
        let raw = read_idx_as::<u8>(&images)?;
        let read = t.elapsed();

        let t = Instant::now();
        let train = Resolver::new()
            .root(&root)
            .offline()
            .load(&FASHION_MNIST, Split::Train)?;
        let load = t.elapsed();

        let t = Instant::now();
        let x = train.images_f32();
        let to_f32 = t.elapsed();
        println!(
            "run {run}: read_idx {:?} {:.1} ms | Resolver::load (images+labels, SHA-256 {}) {:.1} ms | images_f32 {:?} {:.1} ms",
            raw.shape(),
            read.as_secs_f64() * 1e3,
            if run == 1 { "computed" } else { "cached" },
            load.as_secs_f64() * 1e3,
            x.shape(),
            to_f32.as_secs_f64() * 1e3,
        );
    }
    Ok(())
}
