//! docs/keras.md quotes the examples: every line of a quoted block must still be in its
//! example (which tests/examples.rs runs), and the closing note's line counts must be those of
//! the CNN tutorial's two blocks.

use std::collections::HashSet;
use std::path::PathBuf;

fn read(relative: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The body of the first fenced block of `language` in `text`.
fn first_block<'a>(text: &'a str, language: &str) -> &'a str {
    let start = text
        .split_once(&format!("```{language}\n"))
        .unwrap_or_else(|| panic!("no {language} block"))
        .1;
    start.split_once("```").expect("an unclosed block").0
}

fn non_blank(code: &str) -> usize {
    code.lines().filter(|l| !l.trim().is_empty()).count()
}

#[test]
fn every_quoted_line_is_in_its_example() {
    let guide = read("../../docs/keras.md");
    let mut quoted = Vec::new();
    for part in guide.split("<!-- example: ").skip(1) {
        let (name, rest) = part.split_once(" -->").expect("a closed marker");
        let example = read(&format!("examples/{name}"));
        let lines: HashSet<&str> = example.lines().map(str::trim).collect();
        let code = first_block(rest, "rust");
        for line in code.lines().map(str::trim).filter(|l| !l.is_empty()) {
            assert!(
                lines.contains(line),
                "docs/keras.md quotes `{line}`, which is not in examples/{name}"
            );
        }
        quoted.push(name.to_string());
    }
    let expected = [
        "mlp.rs",
        "cnn.rs",
        "cnn_dropout.rs",
        "confusion.rs",
        "regression.rs",
        "xor.rs",
        "neuron.rs",
    ];
    assert_eq!(quoted, expected);
}

#[test]
fn the_closing_note_counts_the_cnn_tutorial() {
    let guide = read("../../docs/keras.md");
    let start = guide.find("## MNIST CNN").expect("the CNN section");
    let end = guide.find("## CNN with Dropout").expect("the next section");
    let section = &guide[start..end];
    let (keras, neurite) = (
        non_blank(first_block(section, "python")),
        non_blank(first_block(section, "rust")),
    );
    let claim = format!("**Keras {keras} lines, neurite {neurite} lines**");
    assert!(
        guide.contains(&claim),
        "the closing note should say {claim}"
    );
    assert!(guide.contains(&format!(
        "<th>Keras ({keras} lines)</th><th>neurite ({neurite} lines)</th>"
    )));
}
