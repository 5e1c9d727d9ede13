// The Node side of crates/arc-functions/benches/http.rs: the cost of arc.http middleware chains
// and of its response compression, on the pinned @architect/functions (NODE_PATH points at it,
// as bench/compare.sh installs it). Prints one JSON line per benchmark: {"name", "ops", "bytes"}.
//
//   NODE_PATH=<dir>/node_modules node bench/node-http.js
'use strict'

const fs = require('fs')
const path = require('path')

const SECRET = 'benchmark secret, at least thirty-two bytes long'
const FIXTURE = path.join(__dirname, '../crates/arc-functions/tests/fixtures/apigw_v2_request.json')
const SECONDS = Number(process.env.BENCH_SECONDS || 5)

// The counter example's page at count 7 and 840 user records (100 KB) (keys sorted, as serde_json
// writes them): the same bodies the Rust bench sends.
const PAGE = '<!doctype html>\n<html>\n<body>\n<form method=post action=/count>\n  <button>Count 7</button>\n</form>\n<form method=post action=/reset>\n  <button>Reset</button>\n</form>\n</body>\n</html>\n'
const JSON_100K = Array.from({ length: 840 }, (_, i) => ({
  active: i % 3 === 0,
  email: `user${i}@example.com`,
  id: i,
  name: `User Number ${i}`,
  score: (i * 7919) % 1000,
  tags: [ 'customer', i % 2 === 0 ? 'even' : 'odd' ],
}))

// As bench/node.js: warm up, 50 samples, the median sample's rate.
async function measure (name, fn, extra = {}) {
  let until = process.hrtime.bigint() + BigInt(Math.round(SECONDS * 0.4e9))
  while (process.hrtime.bigint() < until) await fn()
  let rates = []
  let sampleNs = BigInt(Math.round(SECONDS * 1e9 / 50))
  for (let s = 0; s < 50; s++) {
    let start = process.hrtime.bigint(), n = 0, now
    do { await fn(); n++ } while ((now = process.hrtime.bigint()) - start < sampleNs)
    rates.push(n * 1e9 / Number(now - start))
  }
  rates.sort((a, b) => a - b)
  process.stdout.write(JSON.stringify({ name, ops: rates[rates.length >> 1], ...extra }) + '\n')
}

function check (ok, what) { if (!ok) throw Error(`sanity check failed: ${what}`) }

async function main () {
  Object.assign(process.env, { ARC_APP_SECRET: SECRET, ARC_ENV: 'testing', ARC_SESSION_TABLE_NAME: 'jwe' })
  let arc = require('@architect/functions')
  let base = JSON.parse(fs.readFileSync(FIXTURE, 'utf8'))
  let cookie = (await arc.http.session.write({ user: 'ann', count: 41 })).split(';')[0]

  // Chains: the event is parsed outside the timing, as in the Rust bench; arc.http mutates the
  // request it is given, so each call gets a fresh copy (a structured clone, measured apart).
  let event = structuredClone(base)
  event.cookies.push(cookie)
  let count = async req => ({ location: '/', session: { user: 'ann', count: (req.session.count || 0) + 1 } })
  let loadUser = async req => { req.user = req.session.user || ''; return req }
  let checkUser = async req => req.user ? req : { location: '/login' }
  let single = arc.http(count)
  let three = arc.http(loadUser, checkUser, count)
  for (let h of [ single, three ]) {
    let res = await h(structuredClone(event), {})
    check(res.statusCode === 302 && res.headers.location === '/', 'a redirect home')
  }
  await measure('chain/event-copy', () => structuredClone(event))
  await measure('chain/single', () => single(structuredClone(event), {}))
  await measure('chain/three-step', () => three(structuredClone(event), {}))

  // Compression: the same two bodies, to a request accepting nothing, gzip, or a browser's set.
  let page = arc.http(async () => ({ html: PAGE }))
  let big = arc.http(async () => ({ json: JSON_100K }))
  let cases = [
    [ 'page', 'identity', page, null ],
    [ 'page', 'br', page, 'gzip, deflate, br' ],
    [ 'json100k', 'identity', big, null ],
    [ 'json100k', 'gzip', big, 'gzip' ],
    [ 'json100k', 'br', big, 'gzip, deflate, br' ],
  ]
  for (let [ body, coding, handler, accept ] of cases) {
    let e = structuredClone(base)
    e.cookies = [ 'a=b' ]
    if (accept) e.headers['accept-encoding'] = accept
    let res = await handler(structuredClone(e), {})
    let bytes = res.isBase64Encoded ? Buffer.from(res.body, 'base64').length : Buffer.byteLength(res.body)
    check((res.headers['content-encoding'] || 'identity') === coding, `${body} sent as ${coding}`)
    await measure(`compression/${body}/${coding}`, () => handler(structuredClone(e), {}), { bytes })
  }
}

main().then(() => process.exit(0), err => { console.error(err); process.exit(1) })
