// GET / : the session as @architect/functions reads it (resolved from tests/interop/node_modules)
let arc = require('@architect/functions')

exports.handler = arc.http(async function getIndex (req) {
  return { json: { session: req.session } }
})
