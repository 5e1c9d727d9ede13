//! The page: plain HTML forms, rendered on the server.

/// The counter page with its Count and Reset buttons, posting to `count` and `reset` (the
/// routes' URLs, stage included when the app is served from a REST API's own address).
pub(crate) fn render(count: u64, count_url: &str, reset_url: &str) -> String {
    format!(
        r#"<!doctype html>
<html>
<body>
<form method=post action="{count_url}">
  <button>Count {count}</button>
</form>
<form method=post action="{reset_url}">
  <button>Reset</button>
</form>
</body>
</html>
"#
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn shows_the_count_and_both_forms() {
        let page = super::render(7, "/prod/count", "/prod/reset");
        assert!(page.contains("<button>Count 7</button>"));
        assert!(page.contains(r#"<form method=post action="/prod/count">"#));
        assert!(page.contains(r#"<form method=post action="/prod/reset">"#));
    }
}
