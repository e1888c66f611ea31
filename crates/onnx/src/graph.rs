//! A small builder for ONNX graphs: nodes, initializers, and typed inputs and outputs.
//!
//! It keeps every value name unique (a graph with two producers of one name is invalid ONNX)
//! and turns tensors into little-endian `raw_data` initializers.

use std::collections::HashSet;

use crate::proto::{
    AttributeProto, DATA_TYPE_FLOAT, DATA_TYPE_INT64, GraphProto, NodeProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto, attribute_type, tensor_shape_proto, type_proto,
};
use crate::{OnnxError, Result};

/// One dimension of a graph input or output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dim {
    /// A size known when the graph is written.
    Fixed(usize),
    /// A size chosen by the caller at run time, named (`"N"` for the batch).
    Symbolic(String),
}

/// Collects nodes and initializers, then produces a [`GraphProto`].
///
/// ```
/// use neurite_onnx::graph::{Dim, GraphBuilder};
/// let mut g = GraphBuilder::new("tiny");
/// let batch = Dim::Symbolic("N".into());
/// g.input("x", &[batch.clone(), Dim::Fixed(3)]).unwrap();
/// g.node("Relu", "relu", &["x"], &["y"], Vec::new()).unwrap();
/// g.output("y", &[batch, Dim::Fixed(3)]).unwrap();
/// let graph = g.finish();
/// assert_eq!(graph.node[0].op_type, "Relu");
/// ```
#[derive(Debug, Default)]
pub struct GraphBuilder {
    graph: GraphProto,
    /// Every value name defined so far (inputs, initializers, node outputs).
    values: HashSet<String>,
    node_names: HashSet<String>,
}

impl GraphBuilder {
    /// An empty graph called `name`.
    pub fn new(name: &str) -> Self {
        GraphBuilder {
            graph: GraphProto {
                name: name.to_string(),
                ..GraphProto::default()
            },
            ..GraphBuilder::default()
        }
    }

    fn define(&mut self, name: &str) -> Result<()> {
        if name.is_empty() {
            return Err(OnnxError::Option {
                option: "value name",
                value: String::new(),
                reason: "ONNX value names must not be empty",
            });
        }
        if !self.values.insert(name.to_string()) {
            return Err(OnnxError::DuplicateName {
                name: name.to_string(),
                hint: "rename the layer or choose another input/output name",
            });
        }
        Ok(())
    }

    /// Declares a float graph input.
    ///
    /// # Errors
    /// [`OnnxError::DuplicateName`] if the name is taken.
    pub fn input(&mut self, name: &str, dims: &[Dim]) -> Result<()> {
        self.define(name)?;
        self.graph.input.push(value_info(name, dims));
        Ok(())
    }

    /// Declares a float graph output (the value must be produced by a node).
    ///
    /// # Errors
    /// [`OnnxError::Option`] if no node or input defines `name`.
    pub fn output(&mut self, name: &str, dims: &[Dim]) -> Result<()> {
        if !self.values.contains(name) {
            return Err(OnnxError::Option {
                option: "output name",
                value: name.to_string(),
                reason: "no node produces a value of this name",
            });
        }
        self.graph.output.push(value_info(name, dims));
        Ok(())
    }

    /// Adds a float constant of shape `dims` (row-major `values`) and returns its name.
    ///
    /// # Errors
    /// [`OnnxError::DuplicateName`], [`OnnxError::NotFinite`] for a value that is not a finite
    /// `f32`, or [`OnnxError::Param`] when `values` does not hold `dims`' element count.
    pub fn initializer_f32(
        &mut self,
        name: &str,
        dims: &[usize],
        values: &[f64],
    ) -> Result<String> {
        let count: usize = dims.iter().product();
        if values.len() != count {
            return Err(OnnxError::Param {
                layer: name.to_string(),
                param: name.to_string(),
                problem: format!("has {} values for shape {dims:?}", values.len()),
            });
        }
        let mut raw = Vec::with_capacity(values.len() * 4);
        for &v in values {
            let single = v as f32;
            if !single.is_finite() {
                return Err(OnnxError::NotFinite {
                    tensor: name.to_string(),
                    value: v,
                    hint: "the model's weights contain NaN/inf or values beyond f32 range; \
                           check the training run",
                });
            }
            raw.extend_from_slice(&single.to_le_bytes());
        }
        self.define(name)?;
        self.graph.initializer.push(TensorProto {
            dims: to_i64(dims),
            data_type: DATA_TYPE_FLOAT,
            name: name.to_string(),
            raw_data: raw,
        });
        Ok(name.to_string())
    }

    /// Adds a 1-D int64 constant (shapes for `Reshape`) and returns its name.
    ///
    /// # Errors
    /// [`OnnxError::DuplicateName`].
    pub fn initializer_i64(&mut self, name: &str, values: &[i64]) -> Result<String> {
        self.define(name)?;
        self.graph.initializer.push(TensorProto {
            dims: vec![values.len() as i64],
            data_type: DATA_TYPE_INT64,
            name: name.to_string(),
            raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        });
        Ok(name.to_string())
    }

    /// Appends a node of the default domain. Inputs must already be defined (nodes are added
    /// in topological order); outputs must be new.
    ///
    /// # Errors
    /// [`OnnxError::Option`] for an undefined input, [`OnnxError::DuplicateName`] for a
    /// reused output or node name.
    pub fn node(
        &mut self,
        op_type: &str,
        name: &str,
        inputs: &[&str],
        outputs: &[&str],
        attributes: Vec<AttributeProto>,
    ) -> Result<()> {
        if let Some(missing) = inputs
            .iter()
            .find(|i| !i.is_empty() && !self.values.contains(**i))
        {
            return Err(OnnxError::Option {
                option: "node input",
                value: (*missing).to_string(),
                reason: "not defined by an earlier node, input or initializer",
            });
        }
        if !self.node_names.insert(name.to_string()) {
            return Err(OnnxError::DuplicateName {
                name: name.to_string(),
                hint: "layer names must be unique",
            });
        }
        for output in outputs {
            self.define(output)?;
        }
        self.graph.node.push(NodeProto {
            input: inputs.iter().map(|s| (*s).to_string()).collect(),
            output: outputs.iter().map(|s| (*s).to_string()).collect(),
            name: name.to_string(),
            op_type: op_type.to_string(),
            attribute: attributes,
            ..NodeProto::default()
        });
        Ok(())
    }

    /// Renames the value `old` (defined by a node) to `new` everywhere it appears; used to give
    /// the last layer's output the graph's output name.
    ///
    /// # Errors
    /// [`OnnxError::DuplicateName`] if `new` is taken, [`OnnxError::Option`] if `old` is not a
    /// node output.
    pub fn rename_value(&mut self, old: &str, new: &str) -> Result<()> {
        let produced = self
            .graph
            .node
            .iter()
            .any(|n| n.output.iter().any(|o| o == old));
        if !produced {
            return Err(OnnxError::Option {
                option: "value to rename",
                value: old.to_string(),
                reason: "no node produces a value of this name",
            });
        }
        self.define(new)?;
        self.values.remove(old);
        for node in &mut self.graph.node {
            for name in node.input.iter_mut().chain(node.output.iter_mut()) {
                if name == old {
                    *name = new.to_string();
                }
            }
        }
        Ok(())
    }

    /// The graph.
    pub fn finish(self) -> GraphProto {
        self.graph
    }
}

fn to_i64(dims: &[usize]) -> Vec<i64> {
    dims.iter().map(|&d| d as i64).collect()
}

fn value_info(name: &str, dims: &[Dim]) -> ValueInfoProto {
    use tensor_shape_proto::{Dimension, dimension::Value};
    let dim = dims
        .iter()
        .map(|d| Dimension {
            value: Some(match d {
                Dim::Fixed(n) => Value::DimValue(*n as i64),
                Dim::Symbolic(s) => Value::DimParam(s.clone()),
            }),
        })
        .collect();
    ValueInfoProto {
        name: name.to_string(),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: DATA_TYPE_FLOAT,
                shape: Some(TensorShapeProto { dim }),
            })),
        }),
        doc_string: String::new(),
    }
}

/// An integer attribute.
pub fn attr_int(name: &str, value: i64) -> AttributeProto {
    AttributeProto {
        name: name.to_string(),
        i: value,
        r#type: attribute_type::INT,
        ..AttributeProto::default()
    }
}

/// An integer-list attribute.
pub fn attr_ints(name: &str, values: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.to_string(),
        ints: values.to_vec(),
        r#type: attribute_type::INTS,
        ..AttributeProto::default()
    }
}

/// A float attribute.
pub fn attr_float(name: &str, value: f32) -> AttributeProto {
    AttributeProto {
        name: name.to_string(),
        f: value,
        r#type: attribute_type::FLOAT,
        ..AttributeProto::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch() -> Dim {
        Dim::Symbolic("N".into())
    }

    #[test]
    fn initializer_stores_little_endian_f32() {
        let mut g = GraphBuilder::new("g");
        g.initializer_f32("w", &[2], &[1.0, -2.5]).unwrap();
        let graph = g.finish();
        let t = &graph.initializer[0];
        assert_eq!(t.dims, vec![2]);
        assert_eq!(t.data_type, DATA_TYPE_FLOAT);
        let mut expected = 1.0f32.to_le_bytes().to_vec();
        expected.extend_from_slice(&(-2.5f32).to_le_bytes());
        assert_eq!(t.raw_data, expected);
    }

    #[test]
    fn int64_initializer_is_one_dimensional() {
        let mut g = GraphBuilder::new("g");
        g.initializer_i64("shape", &[-1, 784]).unwrap();
        let t = &g.finish().initializer[0];
        assert_eq!(t.dims, vec![2]);
        assert_eq!(t.data_type, DATA_TYPE_INT64);
        assert_eq!(&t.raw_data[..8], &(-1i64).to_le_bytes());
        assert_eq!(&t.raw_data[8..], &784i64.to_le_bytes());
    }

    #[test]
    fn non_finite_and_overflowing_values_are_rejected() {
        let mut g = GraphBuilder::new("g");
        let err = g.initializer_f32("w", &[1], &[f64::NAN]).unwrap_err();
        assert!(matches!(err, OnnxError::NotFinite { ref tensor, .. } if tensor == "w"));
        let err = g.initializer_f32("w", &[1], &[1e300]).unwrap_err();
        assert!(err.to_string().contains("1e300"), "{err}");
        // Nothing was defined by the failed calls: the name is still free.
        g.initializer_f32("w", &[1], &[0.5]).unwrap();
    }

    #[test]
    fn value_count_must_match_shape() {
        let mut g = GraphBuilder::new("g");
        assert!(g.initializer_f32("w", &[2, 2], &[1.0; 3]).is_err());
    }

    #[test]
    fn names_are_unique_and_inputs_must_exist() {
        let mut g = GraphBuilder::new("g");
        g.input("x", &[batch(), Dim::Fixed(3)]).unwrap();
        assert!(matches!(
            g.input("x", &[batch()]),
            Err(OnnxError::DuplicateName { .. })
        ));
        assert!(matches!(
            g.node("Relu", "r", &["nope"], &["y"], Vec::new()),
            Err(OnnxError::Option { .. })
        ));
        g.node("Relu", "r", &["x"], &["y"], Vec::new()).unwrap();
        assert!(matches!(
            g.node("Relu", "r2", &["y"], &["y"], Vec::new()),
            Err(OnnxError::DuplicateName { .. })
        ));
        assert!(matches!(
            g.node("Relu", "r", &["y"], &["z"], Vec::new()),
            Err(OnnxError::DuplicateName { .. })
        ));
        assert!(g.output("undefined", &[batch()]).is_err());
    }

    #[test]
    fn rename_updates_producers_and_consumers() {
        let mut g = GraphBuilder::new("g");
        g.input("x", &[batch()]).unwrap();
        g.node("Relu", "a", &["x"], &["t"], Vec::new()).unwrap();
        g.node("Tanh", "b", &["t"], &["u"], Vec::new()).unwrap();
        assert!(
            g.rename_value("x", "y").is_err(),
            "graph inputs are not node outputs"
        );
        assert!(g.rename_value("t", "u").is_err(), "target name taken");
        g.rename_value("t", "hidden").unwrap();
        let graph = g.finish();
        assert_eq!(graph.node[0].output, vec!["hidden"]);
        assert_eq!(graph.node[1].input, vec!["hidden"]);
    }

    #[test]
    fn inputs_carry_symbolic_batch_and_fixed_dims() {
        use tensor_shape_proto::dimension::Value;
        let mut g = GraphBuilder::new("g");
        g.input("x", &[batch(), Dim::Fixed(784)]).unwrap();
        let graph = g.finish();
        let Some(TypeProto {
            value: Some(type_proto::Value::TensorType(t)),
        }) = &graph.input[0].r#type
        else {
            panic!("input has a tensor type")
        };
        assert_eq!(t.elem_type, DATA_TYPE_FLOAT);
        let dims: Vec<_> = t
            .shape
            .as_ref()
            .unwrap()
            .dim
            .iter()
            .map(|d| d.value.clone())
            .collect();
        assert_eq!(
            dims,
            vec![
                Some(Value::DimParam("N".into())),
                Some(Value::DimValue(784))
            ]
        );
    }

    #[test]
    fn attributes_have_their_types() {
        assert_eq!(attr_int("axis", 1).r#type, attribute_type::INT);
        assert_eq!(attr_ints("pads", &[0, 1]).ints, vec![0, 1]);
        let a = attr_float("alpha", 0.25);
        assert_eq!((a.r#type, a.f), (attribute_type::FLOAT, 0.25));
    }
}
