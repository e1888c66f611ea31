//! Lowering of one neurite layer to ONNX nodes.
//!
//! Each function takes the name of the value holding the layer's input and returns the name of
//! the value holding its output. Value and node names are `<layer>/<what>`, so they are unique
//! because layer names are.

use neurite_layers::{
    Activation, BatchNormConfig, Conv2DConfig, DenseConfig, Layer, LayerConfig, Pool2DConfig,
};
use neurite_tensor::{Float, Padding, Param, Window2d};

use crate::graph::{GraphBuilder, attr_float, attr_int, attr_ints};
use crate::proto::AttributeProto;
use crate::{OnnxError, Result};

/// Per-sample shapes around one layer (no batch axis).
pub(crate) struct Shapes<'a> {
    pub input: &'a [usize],
    pub output: &'a [usize],
}

/// Emits the nodes of `layer` reading value `x`; returns the output value's name.
pub(crate) fn lower_layer<F: Float>(
    g: &mut GraphBuilder,
    layer: &dyn Layer<F>,
    shapes: &Shapes<'_>,
    x: &str,
) -> Result<String> {
    let name = layer.name();
    match layer.config() {
        LayerConfig::Dense(cfg) => dense(g, layer, &cfg, shapes, x),
        LayerConfig::Conv2D(cfg) => conv2d(g, layer, &cfg, shapes, x),
        LayerConfig::MaxPooling2D(cfg) => pool(g, layer, "MaxPool", &cfg, shapes, x),
        LayerConfig::AveragePooling2D(cfg) => pool(g, layer, "AveragePool", &cfg, shapes, x),
        LayerConfig::GlobalAveragePooling2D(_) => {
            // ONNX keeps the 1x1 plane; neurite (like Keras) returns [N, C].
            let pooled = format!("{name}/pooled");
            g.node(
                "GlobalAveragePool",
                &format!("{name}/GlobalAveragePool"),
                &[x],
                &[&pooled],
                vec![],
            )?;
            flatten(g, name, &pooled)
        }
        LayerConfig::Flatten(_) => flatten(g, name, x),
        LayerConfig::Reshape(_) => {
            // The resolved per-sample shape (no -1 left) with -1 for the batch.
            let mut target = vec![-1i64];
            target.extend(shapes.output.iter().map(|&d| d as i64));
            let shape = g.initializer_i64(&format!("{name}/shape"), &target)?;
            let out = format!("{name}/output");
            g.node(
                "Reshape",
                &format!("{name}/Reshape"),
                &[x, &shape],
                &[&out],
                vec![],
            )?;
            Ok(out)
        }
        // Inference graph: dropout is the identity.
        LayerConfig::Dropout(_) => Ok(x.to_string()),
        LayerConfig::BatchNormalization(cfg) => batch_norm(g, layer, &cfg, shapes, x),
        LayerConfig::Activation(cfg) => activation(g, name, cfg.activation, x),
        LayerConfig::Custom(cfg) => Err(OnnxError::Unsupported {
            layer: layer.describe(),
            reason: format!(
                "'{}' is a user-defined layer, and the exporter knows only neurite's own",
                cfg.class
            ),
            hint: String::from("export the model without it, or write its ONNX nodes by hand"),
        }),
    }
}

fn flatten(g: &mut GraphBuilder, layer: &str, x: &str) -> Result<String> {
    let out = format!("{layer}/flat");
    g.node(
        "Flatten",
        &format!("{layer}/Flatten"),
        &[x],
        &[&out],
        vec![attr_int("axis", 1)],
    )?;
    Ok(out)
}

/// The parameter `param` of `layer`, checked to have `shape`.
fn param<'a, F: Float>(
    layer: &'a dyn Layer<F>,
    param: &str,
    shape: &[usize],
) -> Result<&'a Param<F>> {
    // A model may prefix parameter names with the layer's (`dense.weight`).
    let full = format!("{}.{param}", layer.name());
    let found = layer
        .params()
        .into_iter()
        .find(|p| p.name() == param || p.name() == full);
    let problem = match found {
        Some(p) if p.value().shape() == shape => return Ok(p),
        Some(p) => format!("has shape {:?}, expected {shape:?}", p.value().shape()),
        None => String::from("is missing (was the layer built?)"),
    };
    Err(OnnxError::Param {
        layer: layer.name().to_string(),
        param: param.to_string(),
        problem,
    })
}

/// Adds every parameter of `layer` (in the order and with the shapes the layer declares for
/// `input`, [`Layer::param_shapes`]) as a float initializer named `<layer>/<param>`; returns
/// their value names in that order, which is the order Gemm, Conv and BatchNormalization take
/// them in after the input.
fn weights<F: Float>(
    g: &mut GraphBuilder,
    layer: &dyn Layer<F>,
    input: &[usize],
) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for (name, shape) in layer.param_shapes(input) {
        let p = param(layer, name, &shape)?;
        let values: Vec<f64> = p.value().iter().map(|v| v.as_f64()).collect();
        names.push(g.initializer_f32(&format!("{}/{name}", layer.name()), &shape, &values)?);
    }
    Ok(names)
}

/// The node `op` (named `<layer>/<op>`) from `x` and the layer's weights, in their
/// [`Layer::param_shapes`] order, to `out`.
fn weighted_node<F: Float>(
    g: &mut GraphBuilder,
    layer: &dyn Layer<F>,
    shapes: &Shapes<'_>,
    op: &str,
    x: &str,
    out: &str,
    attrs: Vec<AttributeProto>,
) -> Result<()> {
    let weights = weights(g, layer, shapes.input)?;
    let inputs: Vec<&str> = std::iter::once(x)
        .chain(weights.iter().map(String::as_str))
        .collect();
    g.node(
        op,
        &format!("{}/{op}", layer.name()),
        &inputs,
        &[out],
        attrs,
    )
}

fn dense<F: Float>(
    g: &mut GraphBuilder,
    layer: &dyn Layer<F>,
    cfg: &DenseConfig,
    shapes: &Shapes<'_>,
    x: &str,
) -> Result<String> {
    let name = layer.name();
    // Dense stores weight as [units, inputs]; Gemm computes x * W^T + b with transB = 1.
    let z = format!("{name}/gemm");
    let attrs = vec![attr_int("transB", 1)];
    weighted_node(g, layer, shapes, "Gemm", x, &z, attrs)?;
    activation(g, name, cfg.activation, &z)
}

fn conv2d<F: Float>(
    g: &mut GraphBuilder,
    layer: &dyn Layer<F>,
    cfg: &Conv2DConfig,
    shapes: &Shapes<'_>,
    x: &str,
) -> Result<String> {
    let name = layer.name();
    let [kh, kw] = cfg.kernel_size;
    let win = window(
        layer,
        shapes.input,
        cfg.kernel_size,
        cfg.strides,
        cfg.padding,
    )?;
    let z = format!("{name}/conv");
    let attrs = vec![
        attr_ints("kernel_shape", &[kh as i64, kw as i64]),
        attr_ints("strides", &[cfg.strides[0] as i64, cfg.strides[1] as i64]),
        attr_ints("pads", &pads(&win)),
        attr_ints("dilations", &[1, 1]),
        attr_int("group", 1),
    ];
    weighted_node(g, layer, shapes, "Conv", x, &z, attrs)?;
    activation(g, name, cfg.activation, &z)
}

fn pool<F: Float>(
    g: &mut GraphBuilder,
    layer: &dyn Layer<F>,
    op: &str,
    cfg: &Pool2DConfig,
    shapes: &Shapes<'_>,
    x: &str,
) -> Result<String> {
    let name = layer.name();
    let win = window(layer, shapes.input, cfg.pool_size, cfg.strides, cfg.padding)?;
    let pads = pads(&win);
    let [kh, kw] = cfg.pool_size;
    // ONNX requires pads smaller than the window; a window lying wholly in the padding (which
    // neurite defines as 0 for averages) has no ONNX meaning.
    if pads[0] >= kh as i64 || pads[2] >= kh as i64 || pads[1] >= kw as i64 || pads[3] >= kw as i64
    {
        return Err(OnnxError::Unsupported {
            layer: layer.describe(),
            reason: format!(
                "its padding {pads:?} (top, left, bottom, right) is not smaller than the \
                 {kh}x{kw} window, which ONNX {op} does not allow"
            ),
            hint: String::from("use padding 'valid' or 'same', or smaller explicit pads"),
        });
    }
    let mut attrs = vec![
        attr_ints("kernel_shape", &[kh as i64, kw as i64]),
        attr_ints("strides", &[cfg.strides[0] as i64, cfg.strides[1] as i64]),
        attr_ints("pads", &pads),
        attr_int("ceil_mode", 0),
    ];
    if op == "AveragePool" {
        // Keras (and neurite) average over the real cells only.
        attrs.push(attr_int("count_include_pad", 0));
    }
    let out = format!("{name}/pooled");
    g.node(op, &format!("{name}/{op}"), &[x], &[&out], attrs)?;
    Ok(out)
}

fn batch_norm<F: Float>(
    g: &mut GraphBuilder,
    layer: &dyn Layer<F>,
    cfg: &BatchNormConfig,
    shapes: &Shapes<'_>,
    x: &str,
) -> Result<String> {
    // gamma, beta, moving_mean, moving_variance: ONNX's scale, B, input_mean, input_var.
    let out = format!("{}/normalized", layer.name());
    let attrs = vec![attr_float("epsilon", cfg.epsilon as f32)];
    weighted_node(g, layer, shapes, "BatchNormalization", x, &out, attrs)?;
    Ok(out)
}

/// Emits `act` applied to `x` (nothing for `Linear`).
pub(crate) fn activation(
    g: &mut GraphBuilder,
    layer: &str,
    act: Activation,
    x: &str,
) -> Result<String> {
    let (op, attrs) = match act {
        Activation::Linear => return Ok(x.to_string()),
        Activation::Gelu => return gelu(g, layer, x),
        Activation::Relu => ("Relu", vec![]),
        Activation::LeakyRelu { alpha } => ("LeakyRelu", vec![attr_float("alpha", alpha as f32)]),
        Activation::Sigmoid => ("Sigmoid", vec![]),
        Activation::Tanh => ("Tanh", vec![]),
        Activation::Elu { alpha } => ("Elu", vec![attr_float("alpha", alpha as f32)]),
        Activation::Softplus => ("Softplus", vec![]),
        // neurite normalises along axis 1 (features, or channels of NCHW), as opset-13 Softmax
        // does with axis = 1 whatever the rank.
        Activation::Softmax => ("Softmax", vec![attr_int("axis", 1)]),
    };
    let out = format!("{layer}/{}", act.name());
    g.node(op, &format!("{layer}/{op}"), &[x], &[&out], attrs)?;
    Ok(out)
}

/// Exact GELU, `x * 0.5 * (1 + erf(x / sqrt(2)))`: ONNX has `Gelu` only from opset 20.
fn gelu(g: &mut GraphBuilder, layer: &str, x: &str) -> Result<String> {
    let sqrt2 = g.initializer_f32(
        &format!("{layer}/gelu_sqrt2"),
        &[],
        &[std::f64::consts::SQRT_2],
    )?;
    let one = g.initializer_f32(&format!("{layer}/gelu_one"), &[], &[1.0])?;
    let half = g.initializer_f32(&format!("{layer}/gelu_half"), &[], &[0.5])?;
    let v = |s: &str| format!("{layer}/gelu_{s}");
    let n = |s: &str| format!("{layer}/Gelu_{s}");
    g.node("Div", &n("div"), &[x, &sqrt2], &[&v("scaled")], vec![])?;
    g.node("Erf", &n("erf"), &[&v("scaled")], &[&v("erf")], vec![])?;
    g.node("Add", &n("add"), &[&v("erf"), &one], &[&v("cdf2")], vec![])?;
    g.node("Mul", &n("mul"), &[x, &v("cdf2")], &[&v("twice")], vec![])?;
    let out = format!("{layer}/gelu");
    g.node("Mul", &n("half"), &[&v("twice"), &half], &[&out], vec![])?;
    Ok(out)
}

/// The window of a convolution or pooling layer over its per-sample input `[C, H, W]`.
fn window<F: Float>(
    layer: &dyn Layer<F>,
    input: &[usize],
    kernel: [usize; 2],
    strides: [usize; 2],
    padding: Padding,
) -> Result<Window2d> {
    let &[_, h, w] = input else {
        return Err(shape_bug(layer, input, "[channels, height, width]"));
    };
    Window2d::new(
        (h, w),
        (kernel[0], kernel[1]),
        (strides[0], strides[1]),
        padding,
    )
    .map_err(|e| OnnxError::Unsupported {
        layer: layer.describe(),
        reason: format!("its window does not fit the input: {e}"),
        hint: String::from("build the model again; its shapes are inconsistent"),
    })
}

/// ONNX 2-D pads: `[top, left, bottom, right]` (begin of each axis, then end of each axis).
fn pads(win: &Window2d) -> [i64; 4] {
    [win.pad_top, win.pad_left, win.pad_bottom, win.pad_right].map(|p| p as i64)
}

fn shape_bug<F: Float>(layer: &dyn Layer<F>, input: &[usize], expected: &str) -> OnnxError {
    OnnxError::Unsupported {
        layer: layer.describe(),
        reason: format!("it received per-sample shape {input:?}, expected {expected}"),
        hint: String::from("build the model again; its shapes are inconsistent"),
    }
}
