//! Just enough YAML to write a CloudFormation template: block maps and lists, scalars, and the
//! short-form intrinsic tags (`!Ref`, `!Sub`, `!GetAtt`).
//!
//! Written by hand because the template needs those tags, which serde-based YAML writers only
//! emit through their own tagged-value types, and `serde_yaml` itself is unmaintained. The
//! writer only has to produce what `cargo arc sam` builds, so it stays small: every string that
//! is not obviously a plain word is double-quoted, which YAML reads back unchanged.

use std::fmt::Write as _;

/// A YAML value, keys kept in insertion order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node {
    /// A string, quoted unless it is a plain word (see [`is_plain`]).
    Str(String),
    /// A number or boolean, written as is.
    Raw(String),
    /// A short-form tag on a string scalar, e.g. `!Ref SessionTable`.
    Tag(&'static str, String),
    List(Vec<Node>),
    Map(Vec<(String, Node)>),
}

/// `Node::Str` from anything string-like.
pub(crate) fn s(value: impl Into<String>) -> Node {
    Node::Str(value.into())
}

/// `!Ref name`.
pub(crate) fn r(name: impl Into<String>) -> Node {
    Node::Tag("!Ref", name.into())
}

/// `!Sub 'text'`.
pub(crate) fn sub(text: impl Into<String>) -> Node {
    Node::Tag("!Sub", text.into())
}

/// `!GetAtt resource.attribute`.
pub(crate) fn get_att(path: impl Into<String>) -> Node {
    Node::Tag("!GetAtt", path.into())
}

/// A map from `(key, value)` pairs.
pub(crate) fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Node)>) -> Node {
    Node::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
}

impl Node {
    /// The whole document, ending in a newline.
    pub(crate) fn to_document(&self) -> String {
        let mut out = String::new();
        match self {
            Self::Map(_) | Self::List(_) => write_block(&mut out, self, 0),
            scalar => {
                write_inline(&mut out, scalar);
                out.push('\n');
            }
        }
        out
    }
}

fn is_block(node: &Node) -> bool {
    matches!(node, Node::Map(entries) if !entries.is_empty())
        || matches!(node, Node::List(items) if !items.is_empty())
}

/// Writes a non-empty map or list at `indent`, each line ending in a newline.
fn write_block(out: &mut String, node: &Node, indent: usize) {
    let pad = " ".repeat(indent);
    match node {
        Node::Map(entries) => {
            for (key, value) in entries {
                out.push_str(&pad);
                write_scalar(out, key);
                out.push(':');
                if is_block(value) {
                    out.push('\n');
                    write_block(out, value, indent + 2);
                } else {
                    out.push(' ');
                    write_inline(out, value);
                    out.push('\n');
                }
            }
        }
        Node::List(items) => {
            for item in items {
                if is_block(item) {
                    // The item's first line moves up beside the dash: `- Key: value`.
                    let mut nested = String::new();
                    write_block(&mut nested, item, indent + 2);
                    out.push_str(&pad);
                    out.push_str("- ");
                    out.push_str(&nested[indent + 2..]);
                } else {
                    out.push_str(&pad);
                    out.push_str("- ");
                    write_inline(out, item);
                    out.push('\n');
                }
            }
        }
        scalar => {
            out.push_str(&pad);
            write_inline(out, scalar);
            out.push('\n');
        }
    }
}

/// A scalar, a tag or an empty collection, on the current line.
fn write_inline(out: &mut String, node: &Node) {
    match node {
        Node::Str(text) => write_scalar(out, text),
        Node::Raw(text) => out.push_str(text),
        Node::Tag(tag, text) => {
            out.push_str(tag);
            out.push(' ');
            write_scalar(out, text);
        }
        Node::Map(_) => out.push_str("{}"),
        Node::List(_) => out.push_str("[]"),
    }
}

fn write_scalar(out: &mut String, text: &str) {
    if is_plain(text) {
        out.push_str(text);
        return;
    }
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A word YAML reads back as the same string: starts with a letter, holds only letters, digits
/// and `_ - . / :` (a colon never followed by a space), and is none of YAML 1.1's booleans or
/// nulls, which some readers (cfn-lint's among them) still turn into `true`, `false` or `null`.
fn is_plain(text: &str) -> bool {
    const SPECIAL: [&str; 11] = [
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "",
    ];
    let mut chars = text.chars();
    let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    starts_with_letter
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ':'))
        && !text.ends_with(':')
        && !SPECIAL.contains(&text.to_ascii_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_maps_lists_and_tags() {
        let doc = map([
            ("AWSTemplateFormatVersion", s("2010-09-09")),
            (
                "Resources",
                map([(
                    "Table",
                    map([
                        ("Type", s("AWS::DynamoDB::Table")),
                        (
                            "Keys",
                            Node::List(vec![
                                map([("Name", s("_idx")), ("Type", s("HASH"))]),
                                s("plain"),
                            ]),
                        ),
                        ("Name", r("AWS::StackName")),
                        ("Url", sub("wss://${Api}/x")),
                        ("Arn", get_att("Fn.Arn")),
                        ("Enabled", Node::Raw("true".into())),
                        ("Empty", Node::List(vec![])),
                    ]),
                )]),
            ),
        ]);
        assert_eq!(
            doc.to_document(),
            r#"AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Keys:
      - Name: "_idx"
        Type: HASH
      - plain
    Name: !Ref AWS::StackName
    Url: !Sub "wss://${Api}/x"
    Arn: !GetAtt Fn.Arn
    Enabled: true
    Empty: []
"#
        );
    }

    #[test]
    fn strings_that_yaml_would_change_are_quoted() {
        let quoted = |text: &str| {
            let mut out = String::new();
            write_scalar(&mut out, text);
            out
        };
        for word in [
            "true", "No", "null", "", "1.0", "$connect", "a: b", "a#b", "x:",
        ] {
            assert!(quoted(word).starts_with('"'), "{word:?} must be quoted");
        }
        assert_eq!(quoted("say \"hi\"\n\\"), r#""say \"hi\"\n\\""#);
        assert_eq!(quoted("{{resolve:x}}"), r#""{{resolve:x}}""#);
        assert_eq!(quoted("provided.al2023"), "provided.al2023");
        assert_eq!(
            quoted("AWS::Serverless-2016-10-31"),
            "AWS::Serverless-2016-10-31"
        );
    }
}
