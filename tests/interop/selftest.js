#!/usr/bin/env node
/* eslint-disable no-console */
// End-to-end check of harness.js against the real @architect/sandbox + @architect/functions:
// start, create, read back, and read cookies/items built by hand following NOTES.md.
//   node selftest.js [--tables-port 5555] [--arc-port 2222] [--http-port 3333]
// Prints one line per check and a closing "N passed, N failed"; exit 1 if any failed.
'use strict'

let { spawn, execFileSync } = require('child_process')
let crypto = require('crypto')
let http = require('http')
let path = require('path')
let readline = require('readline')

let harness = path.join(__dirname, 'harness.js')
let SECRET = 'interop-selftest-secret-0123456789abcdef'
let passed = 0
let failed = 0

function check (name, ok, detail) {
  if (ok) { passed++; console.log(`ok   ${name}`) }
  else { failed++; console.log(`FAIL ${name}${detail === undefined ? '' : ': ' + JSON.stringify(detail)}`) }
}

function run (...args) {
  let out = execFileSync(process.execPath, [ harness, ...args ], { encoding: 'utf8', stdio: [ 'ignore', 'pipe', 'pipe' ] })
  return JSON.parse(out.trim().split('\n').pop())
}

function hmac (secret, idx) {
  return crypto.createHmac('sha256', secret).update(idx).digest('base64').replace(/=+$/, '')
}

function newId () { return crypto.randomBytes(18).toString('base64url') }

function httpReq (url, method, cookie) {
  return new Promise((resolve, reject) => {
    let req = http.request(url, { method, headers: cookie ? { cookie } : {} }, res => {
      let body = ''
      res.on('data', c => { body += c })
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

async function main () {
  let passthrough = process.argv.slice(2)
  let t0 = Date.now()
  let child = spawn(process.execPath, [ harness, 'start', '--secret', SECRET, '--exit-on-eof', ...passthrough ], {
    stdio: [ 'pipe', 'pipe', 'inherit' ],
  })
  let ready = await new Promise((resolve, reject) => {
    let rl = readline.createInterface({ input: child.stdout })
    rl.once('line', line => resolve(JSON.parse(line)))
    child.once('exit', code => reject(Error(`start exited with ${code}`)))
  })
  let startMs = Date.now() - t0
  try {
    check('start: ready line', ready.ready === true && ready.endpoint && ready.table === 'bigsesh-staging-session', ready)
    if (ready.error) throw Error(ready.error)
    console.log(`     sandbox ready in ${startMs} ms (in-process ${ready.startup_ms} ms): ${ready.endpoint} table ${ready.table}`)

    let E = ready.endpoint
    let T = ready.table
    let common = [ '--endpoint', E, '--arc-port', String(ready.arc_port), '--secret', SECRET ]
    let read = (cookie, ...more) => run('read', ...common, '--table', T, '--cookie', cookie, ...more)

    // 1. Node writes, Node reads
    let created = run('create', ...common, '--table', T, '--json', '{"count":5}')
    let setCookie = created.cookie
    let idx = created.session._idx
    check('create: id is 24 chars base64url (uid-safe, 18 bytes)', /^[A-Za-z0-9_-]{24}$/.test(idx), idx)
    check('create: Set-Cookie attributes (testing: no Secure)',
      /^_idx=[^;]+; Max-Age=788400000; Path=\/; Expires=[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT; HttpOnly; SameSite=Lax$/.test(setCookie), setCookie)
    let pair = setCookie.split(';')[0]
    let value = decodeURIComponent(pair.slice('_idx='.length))
    check('create: cookie value = id "." HMAC-SHA256(secret, id) base64 without "=", percent-encoded',
      value === `${idx}.${hmac(SECRET, idx)}` && pair === `_idx=${encodeURIComponent(value)}`, { pair, expected: `${idx}.${hmac(SECRET, idx)}` })
    let item = run('get-item', '--endpoint', E, '--table', T, '--idx', idx).item
    let now = Math.floor(Date.now() / 1000)
    check('item: _idx S, _secret S (24 chars), _ttl N = now + 604800, count N top-level',
      item && item._idx.S === idx && /^[A-Za-z0-9_-]{24}$/.test(item._secret.S) &&
      Math.abs(Number(item._ttl.N) - (now + 604800)) <= 5 && item.count.N === '5' && Object.keys(item).length === 4, item)
    let back = read(pair)
    check('read: Node reads back its own session', back._idx === idx && back.count === 5, back)
    back = read(`other=1; ${pair}; x=y`, '--v2')
    check('read: API Gateway v2 cookies array', back._idx === idx && back.count === 5, back)

    // 2. A session written by hand (as the Rust port writes it), read by Node
    let id = newId()
    while (!/[+/]/.test(hmac(SECRET, id))) id = newId() // make sure the raw value has + or /
    run('put-item', '--endpoint', E, '--table', T, '--item',
      JSON.stringify({ _idx: id, _secret: 'rust', _ttl: now + 3600, count: 7, name: 'rust', list: [ 1, 'a', true ], obj: { k: 'v' } }))
    let handValue = `${id}.${hmac(SECRET, id)}`
    back = read(`_idx=${handValue}`)
    check('hand-made item + hand-signed cookie, raw + and / in the value', back._idx === id && back.count === 7 && back.name === 'rust' &&
      JSON.stringify(back.list) === '[1,"a",true]' && back.obj.k === 'v', back)
    back = read(`_idx=${encodeURIComponent(handValue)}`)
    check('hand-signed cookie, percent-encoded value', back._idx === id && back.count === 7, back)
    let sign = run('sign', '--secret', SECRET, '--idx', id)
    check('harness sign = hand HMAC', sign.value === handValue, sign)
    back = read(`_idx=${newId()}.junk; _idx=${handValue}`)
    check('several _idx cookies: the last one wins', back._idx === id, back)

    // 3. What Node rejects (each gives a brand-new session: a new id, and a new row)
    back = read(`_idx=${id}.${hmac('another-secret', id)}`)
    check('cookie signed with another secret: new session', back._idx !== id && back.count === undefined, back)
    let sig = hmac(SECRET, id)
    back = read(`_idx=${id}.${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`)
    check('tampered signature: new session', back._idx !== id, back)
    back = read(`_idx=${id}`)
    check('unsigned id: new session', back._idx !== id, back)
    let noSecret = newId()
    run('put-item', '--endpoint', E, '--table', T, '--item', JSON.stringify({ _idx: noSecret, _ttl: now + 3600, count: 9 }))
    back = read(`_idx=${noSecret}.${hmac(SECRET, noSecret)}`)
    check('item without _secret: ignored, new session', back._idx !== noSecret && back.count === undefined, back)
    let expired = newId()
    run('put-item', '--endpoint', E, '--table', T, '--item', JSON.stringify({ _idx: expired, _secret: 'x', _ttl: 1000, count: 11 }))
    back = read(`_idx=${expired}.${hmac(SECRET, expired)}`)
    check('item with a past _ttl: still returned by Node (no expiry check on read)', back._idx === expired && back.count === 11, back)

    // 4. The sandbox's own Node routes share the table (sandbox started with the same secret)
    let res = await httpReq(`${ready.http}/`, 'GET', pair)
    let body = JSON.parse(res.body)
    check('sandbox route GET / reads the session', res.status === 200 && body.session._idx === idx && body.session.count === 5, res)
    res = await httpReq(`${ready.http}/count`, 'POST', pair)
    let routeCookie = [].concat(res.headers['set-cookie'] || [])[0] || ''
    check('sandbox route POST /count writes count 6 under the same id', res.status === 200 &&
      routeCookie.startsWith(`${pair};`), { status: res.status, routeCookie })
    back = read(pair)
    check('read after POST /count', back._idx === idx && back.count === 6, back)
  }
  finally {
    child.stdin.end() // --exit-on-eof: stop sandbox
    await new Promise(resolve => child.once('exit', resolve))
  }
  console.log(`${passed} passed, ${failed} failed`)
  process.exit(failed ? 1 : 0)
}

main().catch(err => {
  console.error(err)
  console.log(`${passed} passed, ${failed + 1} failed`)
  process.exit(1)
})
