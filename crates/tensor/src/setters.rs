//! `builder_setters!`: the builder methods that only store their argument, written once for
//! every configuration type in the workspace.

/// Builder setters that store their argument in the field of the same name and return `self`.
///
/// Inside an `impl` block, `builder_setters! { /// Sets the seed. seed: u64 }` gives
/// `pub fn seed(mut self, seed: u64) -> Self`; with `in cfg;` first, the fields are those of
/// `self.cfg`. Setters that check, convert or do more are written out by hand.
///
/// ```
/// struct Config {
///     seed: u64,
/// }
/// impl Config {
///     neurite_tensor::builder_setters! {
///         /// Sets the seed.
///         seed: u64,
///     }
/// }
/// assert_eq!(Config { seed: 0 }.seed(7).seed, 7);
/// ```
#[doc(hidden)]
#[macro_export]
macro_rules! builder_setters {
    (in $inner:ident; $($(#[$doc:meta])* $field:ident: $t:ty),* $(,)?) => {
        $(
            $(#[$doc])*
            pub fn $field(mut self, $field: $t) -> Self {
                self.$inner.$field = $field;
                self
            }
        )*
    };
    ($($(#[$doc:meta])* $field:ident: $t:ty),* $(,)?) => {
        $(
            $(#[$doc])*
            pub fn $field(mut self, $field: $t) -> Self {
                self.$field = $field;
                self
            }
        )*
    };
}
