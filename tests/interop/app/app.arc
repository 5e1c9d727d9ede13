# Test app for tests/interop/harness.js (not the project's app.arc).
# @architect/sandbox reads this; the physical session table is bigsesh-staging-session.
@app
bigsesh

@http
get /
post /count

@tables
session
  _idx *String
  _ttl TTL
