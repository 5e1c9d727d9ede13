// POST /count : increments `count` in the session and writes it back (Set-Cookie)
let arc = require('@architect/functions')

exports.handler = arc.http(async function postCount (req) {
  let count = (Number(req.session.count) || 0) + 1
  return { json: { count }, session: { ...req.session, count } }
})
