// Usage: node bench/delay-proxy.js UPSTREAM_URL [DELAY_MS]
//
// An HTTP proxy in front of dynalite that waits DELAY_MS (5 by default) before forwarding each
// request, so that a DynamoDB call costs about what a real one does from inside a region
// (dynalite on loopback answers in well under a millisecond, which hides what serving
// invocations concurrently buys). Keep-alive on both sides, as the AWS SDK keeps its
// connections. Prints `READY <port>` once it listens on 127.0.0.1 and a port the OS picks;
// bench/concurrency.py points AWS_ENDPOINT_URL_DYNAMODB at it.
'use strict'

const http = require('http')

const upstream = new URL(process.argv[2] || '')
const delay = Number(process.argv[3] || 5)
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity })

const server = http.createServer((req, res) => {
  let chunks = []
  req.on('data', chunk => chunks.push(chunk))
  req.on('end', () => setTimeout(() => {
    let out = http.request({
      agent,
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: req.headers,
    }, answer => {
      res.writeHead(answer.statusCode, answer.headers)
      answer.pipe(res)
    })
    out.on('error', err => {
      res.writeHead(502, { 'content-type': 'text/plain' })
      res.end(String(err))
    })
    out.end(Buffer.concat(chunks))
  }, delay))
})
// Longer than the SDK keeps an idle connection, so the proxy never closes one under it.
server.keepAliveTimeout = 120_000
server.headersTimeout = 121_000

server.listen(0, '127.0.0.1', () => console.log(`READY ${server.address().port}`))
process.on('SIGTERM', () => process.exit(0))
