//! The page: plain HTML forms, rendered on the server, and a socket for live updates.

/// The counter page with its Count and Reset buttons, posting to `count` and `reset` (the
/// routes' URLs, stage included when the app is served from a REST API's own address). With
/// a `socket` URL (sessions in DynamoDB) the page follows the session live: a Count or Reset
/// in another tab arrives as `{"count": N}`. The forms work without JavaScript either way.
pub(crate) fn render(count: u64, count_url: &str, reset_url: &str, socket: Option<&str>) -> String {
    let live = match socket {
        Some(url) => format!(
            r#"<script>
const socket = new WebSocket({url});
socket.onmessage = (event) => {{
  const {{ count }} = JSON.parse(event.data);
  document.getElementById('count').textContent = `Count ${{count}}`;
}};
</script>"#,
            url = script_string(url)
        ),
        None => "<p>Live updates across tabs need DynamoDB sessions: <code>scripts/run --dynamodb</code>.</p>".to_owned(),
    };
    format!(
        r#"<!doctype html>
<html>
<body>
<form method=post action="{count_url}">
  <button id=count>Count {count}</button>
</form>
<form method=post action="{reset_url}">
  <button>Reset</button>
</form>
{live}
</body>
</html>
"#
    )
}

/// `text` as a JavaScript string literal that cannot end the `<script>` element.
fn script_string(text: &str) -> String {
    serde_json::Value::from(text)
        .to_string()
        .replace("</", "<\\/")
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn shows_the_count_and_both_forms() {
        let page = render(7, "/prod/count", "/prod/reset", None);
        assert!(page.contains("<button id=count>Count 7</button>"));
        assert!(page.contains(r#"<form method=post action="/prod/count">"#));
        assert!(page.contains(r#"<form method=post action="/prod/reset">"#));
        assert!(!page.contains("<script"));
        assert!(page.contains("scripts/run --dynamodb"));
    }

    #[test]
    fn opens_the_configured_socket_when_sessions_can_follow_it() {
        let page = render(1, "/count", "/reset", Some("wss://ws.example.com/prod"));
        assert!(page.contains(r#"new WebSocket("wss://ws.example.com/prod")"#));
        assert!(!page.contains("--dynamodb"));
        let hostile = render(
            1,
            "/count",
            "/reset",
            Some("wss://x/</script><script>alert(1)"),
        );
        assert!(!hostile.contains("</script><script>alert"), "{hostile}");
    }
}
