// The example app's get-index and post-count on @architect/functions (arc.http), for
// bench/coldstart.py's Node cold start: the same routes, the same session key `count`, a trivial
// page. NODE_PATH points at the pinned @architect/functions that bench/compare.sh installs.
'use strict'

const arc = require('@architect/functions')

exports.getIndex = arc.http(async req => ({
  html: `<!doctype html><title>Counter</title><p>Count ${req.session.count || 0}</p>`,
}))

// Spread the session so that DynamoDB mode keeps its `_idx` (the item's key).
exports.postCount = arc.http(async req => ({
  location: '/',
  session: { ...req.session, count: (req.session.count || 0) + 1 },
}))
