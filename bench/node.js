// The Node half of bench/compare.sh: the same measurements as crates/arc-functions/benches, on
// the real @architect/functions (NODE_PATH points at the pinned copy compare.sh installs).
// Prints one JSON line per benchmark: {"name": ..., "ops": operations per second}.
//
// Env: AWS_ENDPOINT_URL_DYNAMODB (dynalite from scripts/lib.sh, table bigsesh-session) enables
// the DynamoDB round trip; BENCH_SECONDS scales the measuring time; BENCH_ONLY, a comma-separated
// list of names, measures only those (the sanity checks all run).
'use strict'

const fs = require('fs')
const http = require('http')
const path = require('path')

const SECRET = 'benchmark secret, at least thirty-two bytes long' // as in the Rust benches
const SIZES = [ [ '100B', 100 ], [ '1KB', 1000 ], [ '2.8KB', 2800 ] ]
const FIXTURE = path.join(__dirname, '../crates/arc-functions/tests/fixtures/apigw_v2_request.json')
const SECONDS = Number(process.env.BENCH_SECONDS || 5)
const ONLY = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',') : null
const wanted = name => !ONLY || ONLY.includes(name)

// {user, count, pad} whose JSON text is exactly `len` bytes: the same object the Rust bench seals.
function sessionOf (len) {
  let base = JSON.stringify({ user: 'ann', count: 42, pad: '' }).length
  return { user: 'ann', count: 42, pad: 'x'.repeat(len - base) }
}

// Like criterion: warm up (the JIT needs it), then many short samples; report the median
// sample's rate, so a GC pause or a neighbour's burst moves one sample, not the figure.
async function measure (name, fn) {
  if (!wanted(name)) return
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
  let ops = rates[rates.length >> 1]
  process.stdout.write(JSON.stringify({ name, ops }) + '\n')
}

function check (ok, what) { if (!ok) throw Error(`sanity check failed: ${what}`) }

let arc
async function cookieMode () {
  // Cookie (JWE) mode is chosen per call from the environment.
  process.env.ARC_SESSION_TABLE_NAME = 'jwe'
  let { session } = arc.http

  for (let [ label, len ] of SIZES) {
    let payload = sessionOf(len)
    let roundtrip = async () => {
      let setCookie = await session.write(payload)
      return session.read({ headers: { cookie: setCookie.split(';')[0] } })
    }
    let back = await roundtrip()
    check(back.count === 42 && back.pad === payload.pad, 'the JWE cookie opens')
    await measure(`roundtrip/sealed/${label}`, roundtrip)
  }

  // A whole arc.http request: v2 event text in (parsed, as the Lambda runtime does), response out.
  let handler = arc.http(async req => ({
    location: '/',
    session: { user: 'ann', count: (req.session.count || 0) + 1 },
  }))
  let event = JSON.parse(fs.readFileSync(FIXTURE, 'utf8'))
  let cookie = (await session.write({ user: 'ann', count: 41 })).split(';')[0]
  event.cookies.push(cookie)
  let eventText = JSON.stringify(event)
  // Text in, text out, as the Lambda runtime does it (and Handler::invoke in the Rust bench).
  let once = async () => JSON.stringify(await handler(JSON.parse(eventText), {}))
  let res = JSON.parse(await once())
  let out = (res.cookies || []).concat(res.headers?.['set-cookie'] || []).find(c => c.startsWith('_idx='))
  check(res.statusCode === 302 && out, 'a redirect with a session cookie')
  let written = await session.read({ headers: { cookie: out.split(';')[0] } })
  check(written.count === 42, 'the handler read 41 and wrote 42')
  await measure('handler/v2-event-parse', () => JSON.parse(eventText))
  await measure('handler/v2', once)
}

// @architect/functions finds its session table through Architect's service discovery (SSM
// GetParametersByPath, served by @architect/sandbox locally). This answers that one query, so
// functions uses the dynalite compare.sh started, the same server the Rust bench uses.
function fakeSsm (table) {
  let server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({
        Parameters: [ { Name: '/BigseshTesting/tables/session', Type: 'String', Value: table } ],
      }))
    })
  })
  return new Promise(resolve => server.listen(0, '127.0.0.1', () => resolve(server)))
}

async function dynamoMode (endpoint) {
  let ssm = await fakeSsm('bigsesh-session')
  let port = new URL(endpoint).port
  Object.assign(process.env, {
    ARC_ENV: 'testing', // functions' "local" mode: endpoints from ARC_SANDBOX
    ARC_APP_NAME: 'bigsesh',
    ARC_SESSION_TABLE_NAME: 'session',
    ARC_SANDBOX: JSON.stringify({ ports: { tables: Number(port), _arc: ssm.address().port } }),
  })
  let { session } = arc.http
  // A cookieless read creates the item; then one write gives the cookie every iteration reads.
  let first = await session.read({ headers: {} })
  Object.assign(first, { user: 'ann', count: 0 })
  let cookie = (await session.write(first)).split(';')[0]
  let roundtrip = async () => {
    let s = await session.read({ headers: { cookie } })
    s.count += 1
    return session.write(s)
  }
  await measure('roundtrip/dynamodb', roundtrip)
  let last = await session.read({ headers: { cookie } })
  check(last.count > 1 && last._idx === first._idx, 'the loop read and wrote one item')
  ssm.close()
}

async function main () {
  process.env.ARC_APP_SECRET = SECRET
  process.env.ARC_ENV = 'testing'
  arc = require('@architect/functions')
  await cookieMode()
  let endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB
  if (!wanted('roundtrip/dynamodb')) return
  if (endpoint) await dynamoMode(endpoint)
  else process.stderr.write('SKIPPED roundtrip/dynamodb: AWS_ENDPOINT_URL_DYNAMODB is unset\n')
}

main().then(() => process.exit(0), err => { console.error(err); process.exit(1) })
