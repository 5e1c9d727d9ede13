//! The page: plain HTML forms, rendered on the server.

/// The counter page with its Count and Reset buttons.
pub(crate) fn render(count: u64) -> String {
    format!(
        r#"<!doctype html>
<html>
<body>
<form method=post action=/count>
  <button>Count {count}</button>
</form>
<form method=post action=/reset>
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
        let page = super::render(7);
        assert!(page.contains("<button>Count 7</button>"));
        assert!(page.contains("<form method=post action=/count>"));
        assert!(page.contains("<form method=post action=/reset>"));
    }
}
