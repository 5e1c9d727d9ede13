//! HTML escaping, for pages built with `format!`.

/// `text` made safe to put between HTML tags or inside a quoted attribute: `&`, `<`, `>`, `"`
/// and `'` become character references.
///
/// # Examples
///
/// ```
/// use arc_functions::http::html;
///
/// assert_eq!(
///     html::escape(r#"<a href="x">Tom & 'Jerry'</a>"#),
///     "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;"
/// );
/// assert_eq!(html::escape("plain"), "plain");
/// ```
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
