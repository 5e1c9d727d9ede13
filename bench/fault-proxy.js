// Usage: node bench/fault-proxy.js UPSTREAM_URL [--port N] [--seed N] [--delay-ms N]
//          [--throttle RATE] [--throttle-code ProvisionedThroughputExceededException|ThrottlingException]
//          [--error RATE] [--reset RATE] [--stall RATE] [--stall-ms N]
//
// An HTTP/1.1 proxy in front of dynalite that makes it behave like DynamoDB on a bad day, so
// that the library's answer to throttling, server errors, dropped connections and slow answers
// can be measured (bench/faults.py) and tested (tests/tests/fault_proxy.rs). Each request gets
// at most one fault; RATE is the share of requests that get that one (the rates may add up to 1
// at most), drawn from a PRNG seeded with --seed, so a run with the same requests in the same
// order meets the same faults.
//
//   --throttle  answers 400 ProvisionedThroughputExceededException (or --throttle-code's)
//   --error     answers 500 InternalServerError
//   --reset     reads the request, then resets the connection without answering
//   --stall     forwards the request at once and holds dynalite's answer --stall-ms (1000)
//               before sending it: the write has happened when the client gives up and retries
//   --delay-ms  waits that long before handling every request (0): what a call costs from
//               inside a region, which dynalite on loopback hides
//
// Prints `READY <port>` once it listens on 127.0.0.1 (--port, else one the OS picks).
// `GET /__faults` answers the counts, {forwarded, throttle, error, reset, stall} (a stalled
// request is also forwarded), and `POST /__faults` with some of {throttle, error, reset, stall,
// stall_ms, delay_ms, throttle_code} changes them for the requests that follow. SIGTERM or
// SIGINT prints the counts as one JSON line on stderr and exits 0.
'use strict'

const http = require('http')
const crypto = require('crypto')
const zlib = require('zlib')

const CODES = {
  ProvisionedThroughputExceededException: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
  ThrottlingException: 'com.amazon.coral.availability#ThrottlingException',
}

function parseArgs (argv) {
  const settings = {
    upstream: null, port: 0, seed: 1, delay_ms: 0, throttle: 0, error: 0, reset: 0, stall: 0,
    stall_ms: 1000, throttle_code: 'ProvisionedThroughputExceededException',
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (!arg.startsWith('--')) {
      settings.upstream = new URL(arg)
      continue
    }
    const key = arg.slice(2).replace(/-/g, '_')
    if (!(key in settings) || key === 'upstream' || i + 1 >= argv.length) usage(`bad option ${arg}`)
    settings[key] = key === 'throttle_code' ? argv[++i] : Number(argv[++i])
  }
  if (!settings.upstream) usage('no upstream URL')
  try {
    check(settings)
  } catch (err) {
    usage(err.message)
  }
  return settings
}

function check (s) {
  for (const key of [ 'throttle', 'error', 'reset', 'stall' ]) {
    if (!(s[key] >= 0 && s[key] <= 1)) throw Error(`${key} must be a probability, 0 to 1`)
  }
  if (s.throttle + s.error + s.reset + s.stall > 1 + 1e-9) throw Error('the rates add up to more than 1')
  for (const key of [ 'delay_ms', 'stall_ms', 'port', 'seed' ]) {
    if (!(Number.isInteger(s[key]) && s[key] >= 0)) throw Error(`${key} must be a whole number`)
  }
  if (!(s.throttle_code in CODES)) throw Error(`throttle-code must be one of ${Object.keys(CODES)}`)
}

function usage (problem) {
  console.error(`${problem}\nusage: node bench/fault-proxy.js UPSTREAM_URL [--port N] [--seed N] ` +
    '[--delay-ms N] [--throttle RATE] [--throttle-code CODE] [--error RATE] [--reset RATE] ' +
    '[--stall RATE] [--stall-ms N]')
  process.exit(2)
}

// mulberry32: small, and the same sequence for a seed on every machine and Node version.
function prng (seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const settings = parseArgs(process.argv.slice(2))
const random = prng(settings.seed)
const counts = { forwarded: 0, throttle: 0, error: 0, reset: 0, stall: 0 }
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity })

// One draw per request, split into bands, so each fault's share is its rate.
function pickFault () {
  let u = random()
  for (const fault of [ 'reset', 'throttle', 'error', 'stall' ]) {
    if (u < settings[fault]) return fault
    u -= settings[fault]
  }
  return null
}

// As DynamoDB answers: the error named only by the body's `__type` (no x-amzn-ErrorType header,
// which the SDK would read first), with a request id and the body's CRC32.
function dynamoError (res, status, type, message) {
  const body = Buffer.from(JSON.stringify({ __type: type, message }))
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': body.length,
    'x-amzn-requestid': crypto.randomBytes(26).toString('hex').toUpperCase(),
    'x-amz-crc32': String(zlib.crc32(body)),
  })
  res.end(body)
}

function forward (req, res, body, holdMs) {
  const out = http.request({
    agent,
    host: settings.upstream.hostname,
    port: settings.upstream.port,
    method: req.method,
    path: req.url,
    headers: req.headers,
  }, answer => {
    const chunks = []
    answer.on('data', chunk => chunks.push(chunk))
    answer.on('end', () => setTimeout(() => {
      // The client may have given up on a stalled answer and closed its connection.
      if (res.destroyed) return
      res.writeHead(answer.statusCode, answer.headers)
      res.end(Buffer.concat(chunks))
    }, holdMs))
  })
  out.on('error', err => {
    if (res.destroyed) return
    res.writeHead(502, { 'content-type': 'text/plain' })
    res.end(String(err))
  })
  out.end(body)
}

function faultsEndpoint (req, res, body) {
  if (req.method === 'POST') {
    try {
      const next = { ...settings, ...JSON.parse(body.toString() || '{}') }
      next.upstream = settings.upstream
      check(next)
      Object.assign(settings, next)
    } catch (err) {
      res.writeHead(400, { 'content-type': 'text/plain' })
      return res.end(String(err.message))
    }
  }
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end(JSON.stringify(counts))
}

const server = http.createServer((req, res) => {
  const chunks = []
  req.on('data', chunk => chunks.push(chunk))
  req.on('end', () => {
    const body = Buffer.concat(chunks)
    if (req.url === '/__faults') return faultsEndpoint(req, res, body)
    // Drawn on arrival, so the sequence of faults follows the order of requests, not of timers.
    const fault = pickFault()
    setTimeout(() => {
      if (fault) counts[fault]++
      if (fault === 'reset') return req.socket.resetAndDestroy()
      if (fault === 'throttle') {
        return dynamoError(res, 400, CODES[settings.throttle_code],
          'The level of configured provisioned throughput for the table was exceeded. ' +
          'Consider increasing your provisioning level with the UpdateTable API.')
      }
      if (fault === 'error') {
        return dynamoError(res, 500, 'com.amazonaws.dynamodb.v20120810#InternalServerError',
          'Internal server error')
      }
      counts.forwarded++
      forward(req, res, body, fault === 'stall' ? settings.stall_ms : 0)
    }, settings.delay_ms)
  })
})
// Longer than the SDK keeps an idle connection, so the proxy never closes one under it.
server.keepAliveTimeout = 120_000
server.headersTimeout = 121_000

server.listen(settings.port, '127.0.0.1', () => console.log(`READY ${server.address().port}`))
for (const signal of [ 'SIGTERM', 'SIGINT' ]) {
  process.on(signal, () => {
    console.error(JSON.stringify(counts))
    process.exit(0)
  })
}
