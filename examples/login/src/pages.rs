//! The example's pages: plain HTML forms, and on pages of a signed-in user a small script
//! that follows the session over its WebSocket and shows at once when another device signs it
//! out.

use arc_functions::http::html::escape;
use arc_functions::http::session::Device;

/// What a page that ends other sessions pushes to their sockets; the script shows it.
pub const SIGNED_OUT: &str = "You were signed out on another device.";

/// A whole page around `body`; with `socket` (a ticketed WebSocket URL), the script that
/// listens on it.
pub fn page(body: &str, socket: Option<&str>) -> String {
    let live = socket.map_or_else(String::new, |url| {
        format!(
            r#"<p id=signed-out role=alert hidden></p>
<script>
const socket = new WebSocket({url});
socket.addEventListener("message", (event) => {{
  let message = {{}};
  try {{ message = JSON.parse(event.data); }} catch {{}}
  if (message.signedOut) {{
    const banner = document.getElementById("signed-out");
    banner.textContent = message.signedOut;
    banner.hidden = false;
    document.body.dataset.signedOut = "true";
    for (const button of document.querySelectorAll("button")) button.disabled = true;
  }}
}});
socket.addEventListener("open", () => {{ document.body.dataset.live = "true"; }});
</script>"#,
            url = serde_json::Value::from(url)
        )
    });
    format!("<!doctype html>\n<html>\n<body>\n{body}\n{live}\n</body>\n</html>\n")
}

/// A hidden CSRF field.
pub fn csrf(token: &str) -> String {
    format!("<input type=hidden name=_csrf value=\"{token}\">")
}

/// The device list: each session's browser, sign-in and last use, this one marked, the others
/// with a button that signs them out.
pub fn devices(devices: &[Device], end: &str, token: &str) -> String {
    let rows: String = devices
        .iter()
        .map(|d| {
            let agent = escape(d.user_agent.as_deref().unwrap_or("an unknown browser"));
            let seen = d.last_seen.map_or_else(|| "?".to_owned(), |s| s.to_string());
            let action = if d.current {
                "<strong>this device</strong>".to_owned()
            } else {
                format!(
                    "<form method=post action={end}>{}<input type=hidden name=handle value=\"{}\"><button>Sign out</button></form>",
                    csrf(token),
                    escape(&d.handle)
                )
            };
            format!(
                "<li data-device=\"{}\">{agent}, signed in at <time>{}</time>, last seen at <time>{seen}</time> {action}</li>",
                escape(&d.handle),
                d.created
            )
        })
        .collect();
    format!("<ul id=devices>{rows}</ul>")
}
