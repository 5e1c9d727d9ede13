use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::config::Config;
use crate::keys::Keyring;
use crate::session::provider::Lifetime;

use crate::session::dynamodb::tests::support;

/// A provider on a fresh table of the local DynamoDB `scripts/test` starts, and the raw
/// client to plant items with. The tests that call it are `#[ignore]`d; without dynalite they
/// fail saying what to start.
async fn on_a_fresh_table() -> (DynamoDb, aws_sdk_dynamodb::Client, String) {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    support::require_dynamodb();
    let table = format!(
        "connections-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    let client = aws_sdk_dynamodb::Client::new(&aws_config::load_from_env().await);
    support::create_session_table(&client, &table).await;
    let config = Config::from_vars([("ARC_ENV", "testing"), ("SESSION_TABLE_NAME", &table)])
        .expect("config");
    let provider = DynamoDb::new(
        &Keyring::new(&config),
        Lifetime::of(&config),
        table.clone(),
        Some(client.clone()),
    );
    (provider, client, table)
}

fn index(entries: &[(&str, &str)]) -> HashMap<String, AttributeValue> {
    let mut index: HashMap<String, AttributeValue> = entries
        .iter()
        .map(|(id, expires)| {
            (
                format!("{CONNECTION_PREFIX}{id}"),
                AttributeValue::N((*expires).to_owned()),
            )
        })
        .collect();
    index.insert(KEY.into(), AttributeValue::S("ws-session#s".into()));
    index.insert(TTL.into(), AttributeValue::N("9999".into()));
    index
}

#[test]
fn the_oldest_live_connections_past_the_cap_are_closed_never_the_newest() {
    let now = 1000;
    let index = index(&[
        ("a", "1500.250"),
        ("b", "1500.100"),
        ("c", "1600.000"),
        ("new", "1400.000"),
        ("ended", "1000"),
        ("long-ended", "900.5"),
    ]);
    // Four live ones (an entry expiring now is not live), cap 2: the two oldest but the
    // newest, which its own expiry would otherwise make the oldest.
    assert_eq!(past_cap(&index, "new", now, 2), ["b", "a"]);
    assert_eq!(past_cap(&index, "new", now, 4), Vec::<String>::new());
    assert_eq!(past_cap(&index, "new", now, 3), ["b"]);
    // A cap of 0 still keeps the newest.
    assert_eq!(past_cap(&index, "new", now, 0), ["b", "a", "c"]);
    assert_eq!(expired(&index, now), ["ended", "long-ended"]);
    assert_eq!(expired(&index, 899), Vec::<String>::new());
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn a_connection_is_listed_until_the_second_its_entry_expires() {
    let (provider, client, table) = on_a_fresh_table().await;
    // A session's list as tying writes it: an entry per connection, when it expires.
    client
        .put_item()
        .table_name(&table)
        .item(KEY, index_key("s"))
        .item(TTL, AttributeValue::N("5001".into()))
        .item("ws#early", AttributeValue::N("4000.500".into()))
        .item("ws#late", AttributeValue::N("5000.250".into()))
        .send()
        .await
        .expect("planted");
    let listed = |now| provider.session_connections("s", now);
    assert_eq!(listed(3999).await.expect("read"), ["early", "late"]);
    assert_eq!(listed(4000).await.expect("read"), ["late"]);
    assert_eq!(listed(4999).await.expect("read"), ["late"]);
    // Entries count in whole seconds: one expiring within this second is gone.
    assert_eq!(listed(5000).await.expect("read"), Vec::<String>::new());
    assert_eq!(
        provider.session_connections("none", 0).await.expect("read"),
        Vec::<String>::new()
    );
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn a_tied_connection_and_its_list_expire_two_hours_after_the_tie() {
    let (provider, client, table) = on_a_fresh_table().await;
    let oldest = provider
        .tie_connection("c", Some("s"), 1000, 10)
        .await
        .expect("tied");
    assert_eq!(oldest, Vec::<String>::new());
    let item = |key: AttributeValue| {
        client
            .get_item()
            .table_name(&table)
            .key(KEY, key)
            .consistent_read(true)
            .send()
    };
    let record = item(connection_key("c")).await.expect("read").item;
    let record = record.expect("the connection's record");
    assert_eq!(record.get(TTL), Some(&AttributeValue::N("8200".into())));
    assert_eq!(record.get(SESSION), Some(&AttributeValue::S("s".into())));
    let list = item(index_key("s")).await.expect("read").item;
    let list = list.expect("the session's list");
    assert_eq!(list.get(TTL), Some(&AttributeValue::N("8200".into())));
    assert!(list.contains_key("ws#c"), "{list:?}");
}
