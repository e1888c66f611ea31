//! File-name templates in Python's format syntax, as Keras' `ModelCheckpoint` takes them:
//! `"weights.{epoch:02d}-{val_loss:.2f}.safetensors"`.

use crate::EpochLogs;

/// How one field is written.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Spec {
    /// `{name}`: the epoch as an integer, other values as Rust prints an f64.
    Plain,
    /// `{name:.4f}`: fixed point with that many decimals.
    Fixed(usize),
    /// `{name:02d}` / `{name:d}`: an integer, padded to a width (with zeros if `0` leads).
    Integer { width: usize, zeros: bool },
}

#[derive(Clone, Debug, PartialEq)]
enum Part {
    Text(String),
    Field { name: String, spec: Spec },
}

/// A parsed template.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parses `{name}`, `{name:.Nf}`, `{name:Nd}`, `{name:0Nd}`; `{{` and `}}` are braces.
    pub(crate) fn parse(template: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut chars = template.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    text.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    text.push('}');
                }
                '{' => {
                    let (mut field, mut closed) = (String::new(), false);
                    for c in chars.by_ref() {
                        if c == '}' {
                            closed = true;
                            break;
                        }
                        field.push(c);
                    }
                    if !closed {
                        return Err(format!("`{template}`: a `{{` is not closed"));
                    }
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(parse_field(&field)?);
                }
                '}' => return Err(format!("`{template}`: a lone `}}` (write `}}}}`)")),
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Template { parts })
    }

    /// Fills the fields from the logs: `epoch` is the epoch number (from 1, as Keras writes
    /// it), other names are read with [`EpochLogs::get`].
    pub(crate) fn render(&self, logs: &EpochLogs) -> Result<String, String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Field { name, spec } => {
                    let value = if name == "epoch" {
                        logs.epoch as f64
                    } else {
                        logs.get(name).ok_or_else(|| {
                            format!("the template names `{name}`, which this fit does not produce")
                        })?
                    };
                    match *spec {
                        Spec::Plain if name == "epoch" => out.push_str(&logs.epoch.to_string()),
                        Spec::Plain => out.push_str(&value.to_string()),
                        Spec::Fixed(decimals) => out.push_str(&format!("{value:.decimals$}")),
                        Spec::Integer { width, zeros: true } => {
                            out.push_str(&format!("{:0width$}", value.round() as i64))
                        }
                        Spec::Integer {
                            width,
                            zeros: false,
                        } => out.push_str(&format!("{:width$}", value.round() as i64)),
                    }
                }
            }
        }
        Ok(out)
    }
}

fn parse_field(field: &str) -> Result<Part, String> {
    let (name, spec) = field.split_once(':').unwrap_or((field, ""));
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "`{{{field}}}`: expected a name such as `epoch` or `val_loss`"
        ));
    }
    let bad = || format!("`{{{field}}}`: the format `{spec}` is not one of `.4f`, `d`, `02d`");
    let spec = if spec.is_empty() {
        Spec::Plain
    } else if let Some(decimals) = spec.strip_prefix('.').and_then(|s| s.strip_suffix('f')) {
        Spec::Fixed(decimals.parse().map_err(|_| bad())?)
    } else if let Some(width) = spec.strip_suffix('d') {
        Spec::Integer {
            width: if width.is_empty() {
                0
            } else {
                width.parse().map_err(|_| bad())?
            },
            zeros: width.starts_with('0'),
        }
    } else {
        return Err(bad());
    };
    Ok(Part::Field {
        name: name.to_string(),
        spec,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logs() -> EpochLogs {
        EpochLogs {
            epoch: 3,
            loss: 0.5,
            val_loss: Some(0.123456),
            ..EpochLogs::default()
        }
    }

    #[test]
    fn renders_like_python_format() {
        let t = Template::parse("weights.{epoch:02d}-{val_loss:.4f}.safetensors").unwrap();
        assert_eq!(t.render(&logs()).unwrap(), "weights.03-0.1235.safetensors");
        let t = Template::parse("m{epoch}_{loss}_{{x}}").unwrap();
        assert_eq!(t.render(&logs()).unwrap(), "m3_0.5_{x}");
        let t = Template::parse("plain.safetensors").unwrap();
        assert_eq!(t.render(&logs()).unwrap(), "plain.safetensors");
    }

    #[test]
    fn rejects_bad_templates_and_unknown_names() {
        assert!(Template::parse("a{epoch").is_err());
        assert!(Template::parse("a}b").is_err());
        assert!(Template::parse("{epoch:x}").is_err());
        assert!(Template::parse("{}").is_err());
        let t = Template::parse("{val_accuracy:.2f}").unwrap();
        let err = t.render(&logs()).unwrap_err();
        assert!(err.contains("val_accuracy"), "{err}");
    }
}
