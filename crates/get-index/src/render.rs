//! The page: plain HTML forms, rendered on the server, and a socket for live updates.

/// The counter page with its Count and Reset buttons, posting to `count` and `reset` (the
/// routes' URLs, stage included when the app is served from a REST API's own address). With
/// a `socket` URL (sessions in DynamoDB) the page follows the session live: a Count or Reset
/// in another tab arrives as `{"count": N}`. The forms work without JavaScript either way.
///
/// The socket closes now and then: API Gateway ends idle sockets after 10 minutes and every
/// socket after 2 hours, and a session that is regenerated (Reset) has its sockets closed.
/// The page then asks its own URL for JSON, the count now and a fresh socket URL (a socket
/// ticket opens once), and reconnects, waiting longer after each failure (capped at 30 s,
/// jittered, and back to short once a socket has stayed up).
pub(crate) fn render(count: u64, count_url: &str, reset_url: &str, socket: Option<&str>) -> String {
    let live = match socket {
        Some(url) => format!(
            r#"<script>
const show = (count) => {{ document.getElementById('count').textContent = `Count ${{count}}`; }};
let socket;
let failures = 0;
const later = (then) => {{
  const delay = Math.min(30000, 500 * 2 ** failures) * (0.5 + Math.random() / 2);
  failures += 1;
  setTimeout(then, delay);
}};
const follow = (url) => {{
  const opened = Date.now();
  socket = new WebSocket(url);
  socket.onmessage = (event) => {{
    const {{ count }} = JSON.parse(event.data);
    if (typeof count === 'number') show(count);
  }};
  socket.onclose = () => {{
    if (Date.now() - opened > 30000) failures = 0;
    later(reconnect);
  }};
}};
const reconnect = async () => {{
  try {{
    const response = await fetch(location.href, {{ headers: {{ accept: 'application/json' }}, cache: 'no-store' }});
    const now = await response.json();
    show(now.count);
    if (now.socket) follow(now.socket);
  }} catch (error) {{
    later(reconnect);
  }}
}};
follow({url});
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
        assert!(page.contains(r#"follow("wss://ws.example.com/prod");"#));
        assert!(page.contains("new WebSocket(url)"));
        assert!(page.contains("accept: 'application/json'"), "it reconnects");
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
