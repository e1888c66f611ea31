//! What a dataset is made of: its files, their checksums, the image shape, the class names and
//! where to download it from.

/// The training or the test part of a dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Split {
    /// The training set (60,000 samples for MNIST and Fashion-MNIST).
    Train,
    /// The test set (10,000 samples for MNIST and Fashion-MNIST).
    Test,
}

/// Whether a file holds images or labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// `u8` images, IDX shape `[N, H, W]`.
    Images,
    /// `u8` class labels, IDX shape `[N]`.
    Labels,
}

/// One file of a dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileInfo {
    /// File name, the same in every mirror and local directory.
    pub name: &'static str,
    /// Which split it belongs to.
    pub split: Split,
    /// What it holds.
    pub kind: FileKind,
    /// Number of samples it holds.
    pub samples: usize,
    /// SHA-256 digests (lowercase hex) of the known good copies. More than one is accepted
    /// because repackagers recompress: Debian's files carry the same IDX bytes as upstream but
    /// omit the file name from the gzip header.
    pub sha256: &'static [&'static str],
}

/// A dataset of 8-bit images with one class label each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DatasetInfo {
    /// Short name, also the name of its directory (`data/<name>/`, `/usr/share/datasets/<name>/`).
    pub name: &'static str,
    /// The four files: train images and labels, test images and labels.
    pub files: &'static [FileInfo],
    /// Shape of one image, `[C, H, W]`.
    pub image_shape: [usize; 3],
    /// Class names, indexed by label.
    pub class_names: &'static [&'static str],
    /// Base URLs (ending in `/`) that serve every file by name, tried in order.
    pub mirrors: &'static [&'static str],
    /// Other ways to get the files, shown when they cannot be found or downloaded.
    pub manual_hint: &'static str,
}

impl DatasetInfo {
    /// The file holding `kind` for `split` (`None` only for an incomplete custom descriptor).
    ///
    /// ```
    /// use neurite_data::{FileKind, MNIST, Split};
    /// assert_eq!(MNIST.file(Split::Test, FileKind::Labels).unwrap().name, "t10k-labels-idx1-ubyte.gz");
    /// ```
    pub fn file(&self, split: Split, kind: FileKind) -> Option<&'static FileInfo> {
        let files: &'static [FileInfo] = self.files;
        files.iter().find(|f| f.split == split && f.kind == kind)
    }

    /// Number of classes.
    pub fn num_classes(&self) -> usize {
        self.class_names.len()
    }

    /// The file with this name, if it belongs to the dataset.
    pub fn file_named(&self, name: &str) -> Option<&'static FileInfo> {
        let files: &'static [FileInfo] = self.files;
        files.iter().find(|f| f.name == name)
    }
}

/// The MNIST handwritten digits (LeCun, Cortes, Burges), as the four canonical gzip files.
pub const MNIST: DatasetInfo = DatasetInfo {
    name: "mnist",
    files: &[
        FileInfo {
            name: "train-images-idx3-ubyte.gz",
            split: Split::Train,
            kind: FileKind::Images,
            samples: 60_000,
            sha256: &["440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"],
        },
        FileInfo {
            name: "train-labels-idx1-ubyte.gz",
            split: Split::Train,
            kind: FileKind::Labels,
            samples: 60_000,
            sha256: &["3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"],
        },
        FileInfo {
            name: "t10k-images-idx3-ubyte.gz",
            split: Split::Test,
            kind: FileKind::Images,
            samples: 10_000,
            sha256: &["8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"],
        },
        FileInfo {
            name: "t10k-labels-idx1-ubyte.gz",
            split: Split::Test,
            kind: FileKind::Labels,
            samples: 10_000,
            sha256: &["f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"],
        },
    ],
    image_shape: [1, 28, 28],
    class_names: &["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
    mirrors: &[
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ],
    manual_hint: "To supply the files by hand, copy the four MNIST .gz files (train-images-idx3-ubyte.gz, \
                  train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) into \
                  data/mnist/ or into $NEURITE_DATA/mnist/",
};

/// Fashion-MNIST (Xiao, Rasul, Vollgraf, Zalando Research): 28x28 grey images of clothing in ten
/// classes, a drop-in replacement for MNIST.
pub const FASHION_MNIST: DatasetInfo = DatasetInfo {
    name: "fashion-mnist",
    files: &[
        FileInfo {
            name: "train-images-idx3-ubyte.gz",
            split: Split::Train,
            kind: FileKind::Images,
            samples: 60_000,
            sha256: &[
                "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
            ],
        },
        FileInfo {
            name: "train-labels-idx1-ubyte.gz",
            split: Split::Train,
            kind: FileKind::Labels,
            samples: 60_000,
            sha256: &[
                "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
            ],
        },
        FileInfo {
            name: "t10k-images-idx3-ubyte.gz",
            split: Split::Test,
            kind: FileKind::Images,
            samples: 10_000,
            sha256: &[
                "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
            ],
        },
        FileInfo {
            name: "t10k-labels-idx1-ubyte.gz",
            split: Split::Test,
            kind: FileKind::Labels,
            samples: 10_000,
            sha256: &[
                "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
                "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
            ],
        },
    ],
    image_shape: [1, 28, 28],
    class_names: &[
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ],
    mirrors: &[
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
    ],
    manual_hint: "Fashion-MNIST is also packaged by Debian: `apt-get install dataset-fashion-mnist` puts the \
                  files in /usr/share/datasets/fashion-mnist/, where neurite finds them. Or copy the four .gz \
                  files into data/fashion-mnist/ or into $NEURITE_DATA/fashion-mnist/",
};

/// The built-in datasets.
pub const DATASETS: [&DatasetInfo; 2] = [&MNIST, &FASHION_MNIST];

/// The built-in dataset called `name` (`"mnist"` or `"fashion-mnist"`).
///
/// ```
/// assert_eq!(neurite_data::dataset_named("fashion-mnist").unwrap().num_classes(), 10);
/// assert!(neurite_data::dataset_named("cifar").is_none());
/// ```
pub fn dataset_named(name: &str) -> Option<&'static DatasetInfo> {
    DATASETS.into_iter().find(|d| d.name == name)
}
