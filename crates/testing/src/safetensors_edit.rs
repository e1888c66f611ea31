//! [`with_metadata`]: a safetensors file with its header metadata edited, for tests that feed
//! readers damaged, older or foreign files.

use std::collections::HashMap;

use safetensors::tensor::{SafeTensors, TensorView};

/// The safetensors file `bytes` written again with `edit` applied to its metadata map (the
/// tensors unchanged). Panics on bytes that are not a safetensors file: it is for tests.
///
/// ```
/// use std::collections::HashMap;
/// let meta = HashMap::from([(String::from("a"), String::from("1"))]);
/// let file = safetensors::serialize(Vec::<(&str, safetensors::tensor::TensorView<'_>)>::new(), Some(meta)).unwrap();
/// let edited = neurite_testing::safetensors_edit::with_metadata(&file, |m| {
///     m.insert(String::from("b"), String::from("2"));
/// });
/// let (_, header) = safetensors::SafeTensors::read_metadata(&edited).unwrap();
/// assert_eq!(header.metadata().as_ref().unwrap().len(), 2);
/// ```
pub fn with_metadata(bytes: &[u8], edit: impl FnOnce(&mut HashMap<String, String>)) -> Vec<u8> {
    let file = SafeTensors::deserialize(bytes).expect("a safetensors file");
    let (_, header) = SafeTensors::read_metadata(bytes).expect("a safetensors header");
    let mut meta = header.metadata().clone().unwrap_or_default();
    edit(&mut meta);
    let views: Vec<_> = file
        .tensors()
        .into_iter()
        .map(|(name, v)| {
            let view = TensorView::new(v.dtype(), v.shape().to_vec(), v.data())
                .expect("the tensor as it was");
            (name, view)
        })
        .collect();
    safetensors::serialize(views, Some(meta)).expect("serializable")
}
