//! The machinery every optimizer shares: learning rate and step count, gradient clipping, L2 and
//! decoupled weight decay, per-parameter slots kept by name, and state export/import.
//!
//! An optimizer contributes only its [`Rule`]: which slots it keeps and the elementwise update.

use std::collections::HashMap;

use neurite_tensor::{Float, Param, Tensor};

use crate::clip::{Clip, global_norm_scale, norm_ratio};
use crate::error::{OptimError, Result, check_non_negative};
use crate::kernel::sum_squares;
use crate::schedule::{LearningRate, LearningRateSchedule};
use crate::state::OptimizerState;

/// The update rule of one optimizer.
pub(crate) trait Rule<F: Float> {
    /// Scalars computed once per step (rate, bias corrections), cast to `F`.
    type Coeffs: Copy + Send + Sync;

    /// The slots kept per parameter, in the order `update` receives them.
    fn slot_names(&self) -> &'static [&'static str];

    /// The value slots start from (Adagrad's initial accumulator; zero otherwise).
    fn slot_init(&self) -> f64 {
        0.0
    }

    /// The per-step scalars for rate `lr` at step `t` (1 for the first update).
    fn coefficients(&self, lr: f64, t: u64) -> Self::Coeffs;

    /// Updates `w` in place from `g`, passing each gradient element through `pre` first.
    fn update<P: Pre<F>>(
        &self,
        c: Self::Coeffs,
        pre: P,
        w: &mut [F],
        g: &[F],
        slots: &mut [Tensor<F>],
    );
}

/// What happens to a gradient element before the rule sees it (and to its weight: decay).
pub(crate) trait Pre<F: Float>: Copy + Send + Sync {
    /// Returns the effective gradient for weight `w`; may shrink `w` (decoupled weight decay).
    fn apply(self, w: &mut F, g: F) -> F;
}

/// No clipping, no L2, no weight decay: the gradient as it is.
#[derive(Clone, Copy)]
pub(crate) struct Plain;

impl<F: Float> Pre<F> for Plain {
    #[inline(always)]
    fn apply(self, _w: &mut F, g: F) -> F {
        g
    }
}

/// `clamp((g + l2 * w) * mul / div, -limit, limit)`, then `w -= w * decay` (Keras applies weight
/// decay to the variable just before the update, with the gradient already computed). Norm
/// clipping sets `mul`/`div`: Keras scales per tensor by `c / max(norm, c)` written as
/// `g * c / max(norm, c)`, and globally by one factor (`div` = 1, exact).
///
/// `DIV` is false when `div` is 1: a division per element costs as much as Adam's own.
#[derive(Clone, Copy)]
pub(crate) struct Shaped<F, const DIV: bool> {
    l2: F,
    mul: F,
    div: F,
    limit: F,
    decay: F,
}

impl<F: Float, const DIV: bool> Pre<F> for Shaped<F, DIV> {
    #[inline(always)]
    fn apply(self, w: &mut F, g: F) -> F {
        let mut g = (g + self.l2 * *w) * self.mul;
        if DIV {
            g /= self.div;
        }
        // Comparisons, not min/max, so that a NaN gradient stays NaN.
        let g = if g > self.limit {
            self.limit
        } else if g < -self.limit {
            -self.limit
        } else {
            g
        };
        *w -= *w * self.decay;
        g
    }
}

/// The settings every optimizer config carries.
pub(crate) struct Common<'a> {
    pub learning_rate: &'a LearningRate,
    pub weight_decay: f64,
    pub l2: f64,
    pub clip: Clip,
}

impl Common<'_> {
    pub(crate) fn validate(&self, optimizer: &'static str) -> Result<()> {
        self.learning_rate.validate(optimizer)?;
        check_non_negative(optimizer, "weight_decay", self.weight_decay, false)?;
        check_non_negative(optimizer, "l2", self.l2, false)?;
        self.clip.validate(optimizer)
    }
}

#[derive(Clone, Debug)]
struct Entry<F: Float> {
    /// One tensor per slot name, each of the parameter's shape, in standard layout.
    tensors: Vec<Tensor<F>>,
    /// The step call that last saw this parameter (catches duplicate names within one call).
    visit: u64,
}

/// The shared part of every optimizer.
#[derive(Clone, Debug)]
pub(crate) struct Core<F: Float> {
    name: &'static str,
    slot_names: &'static [&'static str],
    slot_init: F,
    learning_rate: LearningRate,
    weight_decay: f64,
    l2: f64,
    clip: Clip,
    iterations: u64,
    slots: HashMap<String, Entry<F>>,
    visit: u64,
}

impl<F: Float> Core<F> {
    pub(crate) fn new<R: Rule<F>>(
        name: &'static str,
        rule: &R,
        common: Common<'_>,
    ) -> Result<Self> {
        common.validate(name)?;
        Ok(Self::unchecked(name, rule, common))
    }

    /// [`Core::new`] without the checks, for the builder setters (the checks run at compile and
    /// at every step).
    pub(crate) fn unchecked<R: Rule<F>>(name: &'static str, rule: &R, common: Common<'_>) -> Self {
        Core {
            name,
            slot_names: rule.slot_names(),
            slot_init: F::from_f64(rule.slot_init()),
            learning_rate: common.learning_rate.clone(),
            weight_decay: common.weight_decay,
            l2: common.l2,
            clip: common.clip,
            iterations: 0,
            slots: HashMap::new(),
            visit: 0,
        }
    }

    pub(crate) fn live_learning_rate(&self) -> &LearningRate {
        &self.learning_rate
    }

    pub(crate) fn iterations(&self) -> u64 {
        self.iterations
    }

    pub(crate) fn learning_rate(&self) -> f64 {
        self.learning_rate.at(self.iterations)
    }

    pub(crate) fn set_learning_rate(&mut self, lr: f64) -> Result<()> {
        match &self.learning_rate {
            LearningRate::Schedule(s) => Err(OptimError::ScheduledLearningRate {
                optimizer: self.name,
                schedule: s.name(),
            }),
            LearningRate::Constant(_) => {
                check_non_negative(self.name, "learning_rate", lr, false)?;
                self.learning_rate = LearningRate::Constant(lr);
                Ok(())
            }
        }
    }

    /// One update of every trainable parameter. Everything is checked before any value changes.
    pub(crate) fn step<R: Rule<F>>(
        &mut self,
        rule: &R,
        params: &mut [&mut Param<F>],
    ) -> Result<()> {
        let lr = self.checked_rate()?;
        self.prepare(params)?;

        let l2 = self.l2;
        let global_scale = match self.clip {
            Clip::GlobalNorm(c) => {
                let total: f64 = params
                    .iter()
                    .filter(|p| p.is_trainable())
                    .map(|p| sum_squares(contiguous(p.grad()), contiguous(p.value()), l2))
                    .sum();
                global_norm_scale(total.sqrt(), c)
            }
            _ => 1.0,
        };
        let limit = match self.clip {
            Clip::Value(c) => F::from_f64(c),
            _ => F::infinity(),
        };
        let coeffs = rule.coefficients(lr, self.iterations + 1);
        let decay = self.weight_decay * lr;

        for p in params.iter_mut().filter(|p| p.is_trainable()) {
            let Some(entry) = self.slots.get_mut(p.name()) else {
                continue; // `prepare` created an entry for every trainable parameter
            };
            let (value, grad) = p.value_and_grad_mut();
            let w = contiguous_mut(value);
            let g = contiguous(grad);
            let (mul, div) = match self.clip {
                Clip::Norm(c) => norm_ratio(sum_squares(g, w, l2).sqrt(), c),
                _ => (global_scale, 1.0),
            };
            if mul == div && l2 == 0.0 && decay == 0.0 && limit == F::infinity() {
                rule.update(coeffs, Plain, w, g, &mut entry.tensors);
            } else if div == 1.0 {
                let pre = Shaped::<F, false> {
                    l2: F::from_f64(l2),
                    mul: F::from_f64(mul),
                    div: F::one(),
                    limit,
                    decay: F::from_f64(decay),
                };
                rule.update(coeffs, pre, w, g, &mut entry.tensors);
            } else {
                let pre = Shaped::<F, true> {
                    l2: F::from_f64(l2),
                    mul: F::from_f64(mul),
                    div: F::from_f64(div),
                    limit,
                    decay: F::from_f64(decay),
                };
                rule.update(coeffs, pre, w, g, &mut entry.tensors);
            }
        }
        self.iterations += 1;
        Ok(())
    }

    fn checked_rate(&self) -> Result<f64> {
        let lr = self.learning_rate();
        if lr.is_finite() && lr >= 0.0 {
            return Ok(lr);
        }
        let schedule = match &self.learning_rate {
            LearningRate::Schedule(s) => s.name(),
            LearningRate::Constant(_) => "Constant".into(),
        };
        Err(OptimError::BadScheduledRate {
            optimizer: self.name,
            schedule,
            step: self.iterations,
            value: lr,
        })
    }

    /// Checks shapes and names, brings values and gradients to standard layout (a copy only for
    /// unusual layouts, once) and creates missing slots (the only allocation, on first sight).
    fn prepare(&mut self, params: &mut [&mut Param<F>]) -> Result<()> {
        self.visit = self.visit.wrapping_add(1);
        for p in params.iter_mut().filter(|p| p.is_trainable()) {
            if p.value().shape() != p.grad().shape() {
                return Err(OptimError::GradShape {
                    optimizer: self.name,
                    param: p.name().to_string(),
                    value: p.value().shape().to_vec(),
                    grad: p.grad().shape().to_vec(),
                });
            }
            match self.slots.get_mut(p.name()) {
                Some(entry) => {
                    if entry.visit == self.visit {
                        return Err(OptimError::DuplicateParam {
                            optimizer: self.name,
                            param: p.name().to_string(),
                        });
                    }
                    for (slot, t) in self.slot_names.iter().zip(&entry.tensors) {
                        if t.shape() != p.value().shape() {
                            return Err(OptimError::StateShape {
                                optimizer: self.name,
                                param: p.name().to_string(),
                                slot,
                                state: t.shape().to_vec(),
                                param_shape: p.value().shape().to_vec(),
                            });
                        }
                    }
                    entry.visit = self.visit;
                }
                None => {
                    let shape = p.value().raw_dim();
                    let tensors = self
                        .slot_names
                        .iter()
                        .map(|_| Tensor::from_elem(shape.clone(), self.slot_init))
                        .collect();
                    self.slots.insert(
                        p.name().to_string(),
                        Entry {
                            tensors,
                            visit: self.visit,
                        },
                    );
                }
            }
            let (value, grad) = p.value_and_grad_mut();
            standardize(value);
            standardize(grad);
        }
        Ok(())
    }

    pub(crate) fn state(&self) -> OptimizerState<F> {
        let mut tensors: Vec<(String, Tensor<F>)> = self
            .slots
            .iter()
            .flat_map(|(param, entry)| {
                self.slot_names
                    .iter()
                    .zip(&entry.tensors)
                    .map(move |(slot, t)| (format!("{param}/{slot}"), t.clone()))
            })
            .collect();
        tensors.sort_by(|a, b| a.0.cmp(&b.0));
        OptimizerState {
            optimizer: self.name.to_string(),
            iterations: self.iterations,
            learning_rate: self.learning_rate(),
            tensors,
        }
    }

    /// Replaces the whole state, or changes nothing if anything in `state` does not fit.
    pub(crate) fn load_state(&mut self, state: OptimizerState<F>) -> Result<()> {
        if state.optimizer != self.name {
            return Err(OptimError::StateKind {
                optimizer: self.name,
                saved: state.optimizer,
                hint: format!("build a {} optimizer to resume from this state", self.name),
            });
        }
        let is_constant = matches!(self.learning_rate, LearningRate::Constant(_));
        if is_constant {
            check_non_negative(self.name, "learning_rate", state.learning_rate, false)?;
        }
        let n = self.slot_names.len();
        let mut grouped: HashMap<String, Vec<Option<Tensor<F>>>> = HashMap::new();
        for (name, tensor) in state.tensors {
            let slot_index = name.rsplit_once('/').and_then(|(param, slot)| {
                let i = self.slot_names.iter().position(|s| *s == slot)?;
                Some((param.to_string(), i))
            });
            let Some((param, i)) = slot_index else {
                return Err(OptimError::UnknownStateTensor {
                    optimizer: self.name,
                    tensor: name,
                    slots: self.slot_names.to_vec(),
                });
            };
            let entry = grouped
                .entry(param.clone())
                .or_insert_with(|| vec![None; n]);
            if entry[i].is_some() {
                return Err(OptimError::InconsistentState {
                    optimizer: self.name,
                    param,
                    detail: format!("slot `{}` appears twice", self.slot_names[i]),
                });
            }
            entry[i] = Some(tensor.as_standard_layout().into_owned());
        }
        let mut slots = HashMap::with_capacity(grouped.len());
        for (param, tensors) in grouped {
            let mut complete = Vec::with_capacity(n);
            for (slot, t) in self.slot_names.iter().zip(tensors) {
                let Some(t) = t else {
                    return Err(OptimError::InconsistentState {
                        optimizer: self.name,
                        param,
                        detail: format!("slot `{slot}` is missing"),
                    });
                };
                if let Some(first) = complete.first().map(|f: &Tensor<F>| f.shape().to_vec())
                    && first != t.shape()
                {
                    return Err(OptimError::InconsistentState {
                        optimizer: self.name,
                        param,
                        detail: format!(
                            "slot `{slot}` has shape {:?} but `{}` has shape {first:?}",
                            t.shape(),
                            self.slot_names[0]
                        ),
                    });
                }
                complete.push(t);
            }
            slots.insert(
                param,
                Entry {
                    tensors: complete,
                    visit: 0,
                },
            );
        }
        self.slots = slots;
        self.visit = 0;
        self.iterations = state.iterations;
        if is_constant {
            self.learning_rate = LearningRate::Constant(state.learning_rate);
        }
        Ok(())
    }
}

/// Replaces a tensor that is not in standard (row-major, contiguous) layout by a copy that is.
fn standardize<F: Float>(t: &mut Tensor<F>) {
    if !t.is_standard_layout() {
        *t = t.as_standard_layout().into_owned();
    }
}

fn contiguous<F: Float>(t: &Tensor<F>) -> &[F] {
    t.as_slice()
        .expect("`prepare` brought every trainable tensor to standard layout")
}

fn contiguous_mut<F: Float>(t: &mut Tensor<F>) -> &mut [F] {
    t.as_slice_mut()
        .expect("`prepare` brought every trainable tensor to standard layout")
}

/// The first `N` slot tensors as slices (slots are created in standard layout).
pub(crate) fn slot_slices<F: Float, const N: usize>(slots: &mut [Tensor<F>]) -> [&mut [F]; N] {
    debug_assert_eq!(
        slots.len(),
        N,
        "a rule got a different number of slots than it declared"
    );
    let mut it = slots.iter_mut();
    std::array::from_fn(|_| {
        it.next()
            .map(|t| {
                t.as_slice_mut()
                    .expect("slots are created in standard layout")
            })
            .unwrap_or_default()
    })
}
