//! Building JavaScript and TypeScript text: literals, doc comments, indentation.

/// A JavaScript string literal (JSON strings are valid JavaScript).
pub(super) fn js_string(text: &str) -> String {
    js_value(&text)
}

/// A JavaScript literal of a serializable value.
pub(super) fn js_value<T: serde::Serialize + ?Sized>(value: &T) -> String {
    // Strings, numbers, arrays and maps of them always serialize.
    serde_json::to_string(value).unwrap_or_default()
}

/// Text as a JSDoc block at `indent`, or nothing when it is empty.
pub(super) fn jsdoc<S: AsRef<str>>(lines: &[S], indent: &str) -> String {
    let lines: Vec<&str> = lines
        .iter()
        .flat_map(|l| {
            l.as_ref()
                .split('\n')
                .map(|l| l.strip_suffix('\r').unwrap_or(l))
        })
        .collect();
    let start = lines.iter().position(|l| !l.trim().is_empty());
    let end = lines.iter().rposition(|l| !l.trim().is_empty());
    let (Some(start), Some(end)) = (start, end) else {
        return String::new();
    };
    let mut out = format!("{indent}/**\n");
    for line in &lines[start..=end] {
        let line = line.replace("*/", "*\\/");
        if line.trim().is_empty() {
            out.push_str(&format!("{indent} *\n"));
        } else {
            out.push_str(&format!("{indent} * {}\n", line.trim_end()));
        }
    }
    out.push_str(&format!("{indent} */\n"));
    out
}

/// `text` with every line indented by `indent` (empty lines stay empty).
pub(super) fn indent(text: &str, indent: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{indent}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `text` as `//` comment lines.
pub(super) fn line_comment(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                "//".to_string()
            } else {
                format!("// {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsdoc_escapes_comment_ends() {
        assert_eq!(
            jsdoc(&["a */ b"], ""),
            "/**\n * a *\\/ b\n */\n".to_string()
        );
        assert_eq!(jsdoc(&[""], ""), "");
    }
}
