#!/usr/bin/env node
/* eslint-disable no-console */
// Node side of the DynamoDB session interop tests: runs the real @architect/sandbox and
// @architect/functions (versions pinned in package.json / package-lock.json) so that a Rust
// test can prove sessions are shared both ways. See NOTES.md for the formats and the wiring.
//
//   node harness.js start   [--tables-port 5555] [--arc-port 2222] [--http-port 3333]
//                           [--host 127.0.0.1] [--secret S] [--env testing] [--exit-on-eof]
//   node harness.js create  --endpoint URL --table T [--secret S] [--json '{"count":5}']
//                           [--cookie '_idx=...'] [--arc-port 2222] [--env testing]
//   node harness.js read    --endpoint URL --table T [--secret S] --cookie '_idx=...' [--v2]
//   node harness.js sign    --secret S --idx ID
//   node harness.js put-item --endpoint URL --table PHYSICAL --item '{"_idx":"..",...}'
//   node harness.js get-item --endpoint URL --table PHYSICAL --idx ID
//
// Every command prints exactly one JSON line on stdout; diagnostics go to stderr. Exit code 0
// on success, 1 on error (with {"error": "..."} on stdout), 2 on bad usage.
'use strict'

let crypto = require('crypto')
let http = require('http')
let path = require('path')

const APP = 'bigsesh'
const LOGICAL_TABLE = 'session'
const DEFAULTS = { tablesPort: 5555, arcPort: 2222, httpPort: 3333, host: '127.0.0.1' }

// Keep the real stdout for our JSON lines; everything else printed to stdout goes to stderr.
let writeOut = process.stdout.write.bind(process.stdout)
process.stdout.write = process.stderr.write.bind(process.stderr)
function emit (obj) { writeOut(JSON.stringify(obj) + '\n') }

function usage (msg) {
  console.error(msg)
  console.error('usage: node harness.js start|create|read|sign|put-item|get-item [--flag value ...] (see the top of harness.js)')
  process.exit(2)
}

function parseArgs (argv) {
  let flags = {}
  let boolean = new Set([ 'v2', 'exit-on-eof', 'raw' ])
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i]
    if (!a.startsWith('--')) usage(`unexpected argument: ${a}`)
    let eq = a.indexOf('=')
    if (eq > 0) { flags[a.slice(2, eq)] = a.slice(eq + 1); continue }
    let name = a.slice(2)
    if (boolean.has(name)) { flags[name] = true; continue }
    if (i + 1 >= argv.length) usage(`missing value for --${name}`)
    flags[name] = argv[++i]
  }
  return flags
}

function required (flags, name) {
  if (flags[name] === undefined || flags[name] === '') usage(`--${name} is required`)
  return flags[name]
}

function portOf (endpoint) {
  let url
  try { url = new URL(endpoint) }
  catch { usage(`--endpoint is not a URL: ${endpoint}`) }
  let port = Number(url.port || (url.protocol === 'https:' ? 443 : 80))
  return { url, port }
}

// Never reach for real AWS: fixed dummy credentials, no profile, no instance metadata lookups.
function localAwsEnv () {
  process.env.AWS_ACCESS_KEY_ID = 'arcDummyAccessKey'
  process.env.AWS_SECRET_ACCESS_KEY = 'arcDummySecretKey'
  delete process.env.AWS_SESSION_TOKEN
  delete process.env.AWS_PROFILE
  delete process.env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
  delete process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI
  process.env.AWS_EC2_METADATA_DISABLED = 'true'
  process.env.AWS_REGION = process.env.AWS_REGION || 'us-west-2'
}

// ---------------------------------------------------------------------------------------------
// start: @architect/sandbox with tests/interop/app, loopback only
async function start (flags) {
  let t0 = Date.now()
  let host = flags.host || DEFAULTS.host
  let tablesPort = Number(flags['tables-port'] || flags.port || DEFAULTS.tablesPort)
  let arcPort = Number(flags['arc-port'] || DEFAULTS.arcPort)
  let httpPort = Number(flags['http-port'] || DEFAULTS.httpPort)

  let arcEnv = flags.env || 'testing'
  if (![ 'testing', 'staging', 'production' ].includes(arcEnv)) usage(`--env must be testing, staging or production`)

  localAwsEnv()
  process.env.ARC_ENV = arcEnv // create/read must use the same --env: discovery is keyed by it
  delete process.env.ARC_DB_EXTERNAL
  delete process.env.ARC_LOCAL
  delete process.env.ARC_HTTP_PORT
  delete process.env.PORT
  delete process.env.ARC_EVENTS_PORT
  process.env.ARC_TABLES_PORT = String(tablesPort) // a busy tables port is an error, not a silent +1
  process.env.ARC_INTERNAL_PORT = String(arcPort) // sandbox moves this one up if it is busy

  // Env vars of the sandbox's own Node routes (GET /, POST /count in app/src/http)
  let env = { ARC_SESSION_TABLE_NAME: LOGICAL_TABLE }
  if (flags.secret) env.ARC_APP_SECRET = flags.secret

  let sandbox = require('@architect/sandbox')
  // @architect/utils' updater exits the process on SIGINT (to restore the cursor) before our
  // handler runs, which would skip sandbox.end(); drop that listener.
  for (let fn of process.listeners('SIGINT')) {
    if (fn.name === '_arcRestoreCursor') process.removeListener('SIGINT', fn)
  }
  let params = {
    cwd: path.join(__dirname, 'app'),
    host,
    port: httpPort,
    quiet: true,
    env,
    runtimeCheck: false,
    symlink: true,
  }
  await sandbox.start(params) // fills params.ports with the ports actually used

  let ports = params.ports
  let endpoint = `http://${host}:${ports.tables}`
  let arcSandbox = JSON.stringify({ ports, version: require('@architect/sandbox/package.json').version })
  emit({
    ready: true,
    endpoint,
    tables_port: ports.tables,
    table: `${APP}-staging-${LOGICAL_TABLE}`,
    logical_table: LOGICAL_TABLE,
    app: APP,
    arc_env: arcEnv,
    arc_port: ports._arc,
    http: `http://${host}:${ports.http}`,
    http_port: ports.http,
    arc_sandbox: arcSandbox,
    pid: process.pid,
    startup_ms: Date.now() - t0,
  })

  let stopping = false
  async function stop (why) {
    if (stopping) return
    stopping = true
    let t = Date.now()
    console.error(`harness: ${why}, stopping sandbox`)
    let timer = setTimeout(() => { console.error('harness: sandbox.end timed out'); process.exit(1) }, 10000)
    timer.unref()
    try {
      await sandbox.end()
      console.error(`harness: sandbox stopped in ${Date.now() - t} ms`)
      process.exit(0)
    }
    catch (err) {
      console.error(err)
      process.exit(1)
    }
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
  if (flags['exit-on-eof']) {
    process.stdin.on('end', () => stop('stdin closed'))
    process.stdin.on('error', () => stop('stdin error'))
    process.stdin.resume()
  }
}

// ---------------------------------------------------------------------------------------------
// create / read: the real @architect/functions in DynamoDB session mode
function loadFunctions (flags) {
  let { port: tablesPort } = portOf(required(flags, 'endpoint'))
  let table = required(flags, 'table')
  let arcPort = Number(flags['arc-port'] || DEFAULTS.arcPort)
  let arcEnv = flags.env || 'testing'

  localAwsEnv()
  process.env.ARC_ENV = arcEnv
  process.env.ARC_APP_NAME = flags.app || APP
  delete process.env.ARC_STACK_NAME
  delete process.env.ARC_LOCAL
  // The table name (logical `session` or physical `bigsesh-staging-session`), resolved by
  // @architect/functions through the sandbox's SSM emulator; ARC_ wins over the plain name.
  process.env.ARC_SESSION_TABLE_NAME = table
  delete process.env.SESSION_TABLE_NAME
  if (flags.secret !== undefined) process.env.ARC_APP_SECRET = flags.secret
  else delete process.env.ARC_APP_SECRET // then functions signs with ARC_APP_NAME
  for (let name of [ 'ARC_SESSION_TTL', 'SESSION_TTL', 'ARC_SESSION_DOMAIN', 'SESSION_DOMAIN', 'ARC_SESSION_SAME_SITE' ]) {
    if (flags[name.toLowerCase()] !== undefined) process.env[name] = flags[name.toLowerCase()]
    else delete process.env[name]
  }
  // Sandbox's internal port (SSM service discovery) and the DynamoDB port, the way sandbox
  // hands them to its own Lambdas. functions always dials http://localhost:<port>.
  process.env.ARC_SANDBOX = JSON.stringify({
    ports: { tables: tablesPort, _arc: arcPort },
    version: require('@architect/sandbox/package.json').version,
  })
  return require('@architect/functions')
}

function request (flags) {
  let cookie = flags.cookie
  if (!cookie) return { headers: {} }
  if (flags.v2) return { version: '2.0', headers: {}, cookies: cookie.split(';').map(c => c.trim()).filter(Boolean) }
  return { headers: { cookie } }
}

async function create (flags) {
  let arc = loadFunctions(flags)
  let data = {}
  if (flags.json !== undefined) {
    try { data = JSON.parse(flags.json) }
    catch (err) { usage(`--json is not JSON: ${err.message}`) }
  }
  let session = await arc.http.session.read(request(flags))
  Object.assign(session, data)
  let cookie = await arc.http.session.write(session)
  emit({ cookie, session })
}

async function read (flags) {
  let arc = loadFunctions(flags)
  required(flags, 'cookie')
  let session = await arc.http.session.read(request(flags))
  emit(session)
}

// ---------------------------------------------------------------------------------------------
// sign: the DynamoDB cookie computed by hand (what cookie-signature + cookie write)
function sign (flags) {
  let secret = required(flags, 'secret')
  let idx = required(flags, 'idx')
  let signature = crypto.createHmac('sha256', secret).update(idx).digest('base64').replace(/=+$/, '')
  let value = `${idx}.${signature}`
  emit({ value, signature, cookie: `_idx=${encodeURIComponent(value)}` })
}

// ---------------------------------------------------------------------------------------------
// put-item / get-item: raw DynamoDB JSON over HTTP, no SDK (dynalite checks the shape of the
// Authorization header, not the signature)
function dynamo (endpoint, target, body) {
  let { url } = portOf(endpoint)
  let payload = JSON.stringify(body)
  let amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '')
  return new Promise((resolve, reject) => {
    let req = http.request({
      host: url.hostname,
      port: url.port,
      path: '/',
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'content-length': Buffer.byteLength(payload),
        'x-amz-target': `DynamoDB_20120810.${target}`,
        'x-amz-date': amzDate,
        authorization: `AWS4-HMAC-SHA256 Credential=arcDummyAccessKey/${amzDate.slice(0, 8)}/us-west-2/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0000`,
      },
    }, res => {
      let chunks = []
      res.on('data', c => chunks.push(c))
      res.on('end', () => {
        let text = Buffer.concat(chunks).toString()
        let json
        try { json = text ? JSON.parse(text) : {} }
        catch { json = { raw: text } }
        if (res.statusCode !== 200) reject(Error(`${target}: HTTP ${res.statusCode} ${text}`))
        else resolve(json)
      })
    })
    req.on('error', reject)
    req.end(payload)
  })
}

function marshal (v) {
  if (v === null) return { NULL: true }
  if (typeof v === 'string') return { S: v }
  if (typeof v === 'number') return { N: String(v) }
  if (typeof v === 'boolean') return { BOOL: v }
  if (Array.isArray(v)) return { L: v.map(marshal) }
  if (typeof v === 'object') return { M: Object.fromEntries(Object.entries(v).map(([ k, x ]) => [ k, marshal(x) ])) }
  throw TypeError(`cannot marshal ${typeof v}`)
}

async function putItem (flags) {
  let endpoint = required(flags, 'endpoint')
  let table = required(flags, 'table')
  let item
  try { item = JSON.parse(required(flags, 'item')) }
  catch (err) { usage(`--item is not JSON: ${err.message}`) }
  let Item = flags.raw ? item : Object.fromEntries(Object.entries(item).map(([ k, v ]) => [ k, marshal(v) ]))
  await dynamo(endpoint, 'PutItem', { TableName: table, Item })
  emit({ ok: true, item: Item })
}

async function getItem (flags) {
  let endpoint = required(flags, 'endpoint')
  let table = required(flags, 'table')
  let idx = required(flags, 'idx')
  let result = await dynamo(endpoint, 'GetItem', { TableName: table, Key: { _idx: { S: idx } }, ConsistentRead: true })
  emit({ item: result.Item || null })
}

// ---------------------------------------------------------------------------------------------
let commands = { start, create, read, sign, 'put-item': putItem, 'get-item': getItem }
let [ command, ...rest ] = process.argv.slice(2)
if (!commands[command]) usage(`unknown command: ${command || '(none)'}`)
let flags = parseArgs(rest)

Promise.resolve()
  .then(() => commands[command](flags))
  .then(() => { if (command !== 'start') process.exit(0) })
  .catch(err => {
    console.error(err && err.stack || err)
    emit({ error: String(err && err.message || err) })
    process.exit(1)
  })
