// Usage: AWS_LAMBDA_RUNTIME_API=host:port node bench/node-runtime.js MODULE EXPORT
//
// A stand-in for the Node.js managed runtime's interface client (the npm package
// aws-lambda-ric needs cmake to build its native part, which this machine lacks): loads the
// handler module at init, as the managed runtime does before its first poll, then loops: poll
// the Runtime API for the next event, call the handler with (event, context), post its result
// as JSON (or the error). bench/coldstart.py runs it to measure Node's cold start beside the
// Rust routes'.
'use strict'

const http = require('http')
const path = require('path')

const [ host, port ] = process.env.AWS_LAMBDA_RUNTIME_API.split(':')
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
const BASE = '/2018-06-01/runtime'

function call (method, url, body) {
  return new Promise((resolve, reject) => {
    let req = http.request({ agent, host, port, method, path: BASE + url,
      headers: body ? { 'content-type': 'application/json' } : {} }, res => {
      let chunks = []
      res.on('data', c => chunks.push(c))
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks).toString() }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

const failure = err => JSON.stringify({ errorType: err?.name || 'Error', errorMessage: String(err?.message || err) })

async function main () {
  let handler
  try {
    handler = require(path.resolve(process.argv[2]))[process.argv[3]]
    if (typeof handler !== 'function') throw TypeError(`${process.argv[3]} is not a function`)
  }
  catch (err) {
    await call('POST', '/init/error', failure(err))
    process.exit(1)
  }
  for (;;) {
    let next = await call('GET', '/invocation/next')
    let id = next.headers['lambda-runtime-aws-request-id']
    let deadline = Number(next.headers['lambda-runtime-deadline-ms'])
    let context = {
      awsRequestId: id,
      invokedFunctionArn: next.headers['lambda-runtime-invoked-function-arn'],
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
      getRemainingTimeInMillis: () => deadline - Date.now(),
      callbackWaitsForEmptyEventLoop: true,
    }
    let result
    try {
      result = JSON.stringify(await handler(JSON.parse(next.body), context))
    }
    catch (err) {
      await call('POST', `/invocation/${id}/error`, failure(err))
      continue
    }
    await call('POST', `/invocation/${id}/response`, result)
  }
}

main().catch(err => {
  console.error(err)
  process.exit(1)
})
