# The example app of the sessions guide: a counter with Count and Reset buttons.
@app
bigsesh

@http
get /
post /count
post /reset
# The login example (examples/login, crates/*-auth-catchall): sign-up, sign-in, the account
# page with its device list and "sign out everywhere".
get /auth/*
post /auth/*

# Architect's three WebSocket routes, connect, disconnect and default (crates/ws-*): live
# updates of the count across a session's tabs, in DynamoDB mode.
@ws

# Used when SESSION_TABLE_NAME names it (DynamoDB sessions); cookie sessions need no table.
@tables
session
  _idx *String
  _ttl TTL
# The login example's users: name, Argon2id password hash, credential stamp.
users
  name *String
