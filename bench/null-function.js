// Usage: AWS_LAMBDA_RUNTIME_API=host:port AWS_LAMBDA_MAX_CONCURRENCY=N node bench/null-function.js
//
// A function that does nothing: N loops, each on its own keep-alive connection, that poll the
// Runtime API for the next event and post a fixed redirect with a fixed cookie at once.
// bench/concurrency.py runs it in place of a route to measure its own Runtime API's ceiling on
// this machine. HTTP/1.1 by hand on a raw socket (Node's http client costs several times the
// harness's own time per request, which would hide the ceiling being measured).
'use strict'

const net = require('net')

const [ host, port ] = process.env.AWS_LAMBDA_RUNTIME_API.split(':')
const loops = Math.max(1, Number(process.env.AWS_LAMBDA_MAX_CONCURRENCY || 1))
const BASE = '/2018-06-01/runtime/invocation'
const REPLY = JSON.stringify({ statusCode: 302, headers: { location: '/' }, cookies: [ '_idx=null; Path=/' ] })
const NEXT = `GET ${BASE}/next HTTP/1.1\r\nHost: ${host}\r\n\r\n`

function loop () {
  let socket = net.connect({ host, port: Number(port), noDelay: true })
  let buf = Buffer.alloc(0)
  let polling = true
  socket.on('connect', () => socket.write(NEXT))
  socket.on('data', data => {
    buf = Buffer.concat([ buf, data ])
    for (;;) {
      let end = buf.indexOf('\r\n\r\n')
      if (end < 0) return
      let head = buf.subarray(0, end).toString()
      let length = Number((/content-length:\s*(\d+)/i.exec(head) || [])[1] || 0)
      if (buf.length < end + 4 + length) return
      buf = buf.subarray(end + 4 + length)
      if (polling) {
        let id = /lambda-runtime-aws-request-id:\s*(\S+)/i.exec(head)[1]
        socket.write(`POST ${BASE}/${id}/response HTTP/1.1\r\nHost: ${host}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${REPLY.length}\r\n\r\n${REPLY}`)
      }
      else socket.write(NEXT)
      polling = !polling
    }
  })
  socket.on('error', () => process.exit(1))
  socket.on('close', () => process.exit(0))
}

for (let i = 0; i < loops; i++) loop()
