// Usage: NODE_PATH=.tools/node_modules node dynalite.js [TABLE | CREATE-TABLE-JSON]...
//
// Starts dynalite in memory on 127.0.0.1 and a port the OS picks, creates each table, then
// prints `READY <port>` and keeps serving until killed. A bare TABLE name is a session table
// (partition key `_idx`, a string); an argument starting with `{` is the body of a CreateTable
// request, as `cargo arc dev` writes one per `@tables` table. Through the library rather than
// dynalite's CLI so that the port is free by construction and the tables exist before anyone
// is told the port.
'use strict'

const dynalite = require('dynalite')

const tables = process.argv.slice(2).map(arg => arg.startsWith('{') ? JSON.parse(arg) : {
  TableName: arg,
  AttributeDefinitions: [ { AttributeName: '_idx', AttributeType: 'S' } ],
  KeySchema: [ { AttributeName: '_idx', KeyType: 'HASH' } ],
  BillingMode: 'PAY_PER_REQUEST',
})
// createTableMs 0: tables are ACTIVE at once, so the first request never sees CREATING.
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 })

server.listen(0, '127.0.0.1', async () => {
  const { port } = server.address()
  try {
    for (const table of tables) await createTable(port, table)
  } catch (err) {
    console.error(err.message)
    process.exit(1)
  }
  console.log(`READY ${port}`)
})

async function createTable (port, table) {
  const res = await fetch(`http://127.0.0.1:${port}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'DynamoDB_20120810.CreateTable',
      // dynalite wants a SigV4-shaped header but never checks the signature, so no SDK is needed.
      'x-amz-date': '20240101T000000Z',
      authorization: 'AWS4-HMAC-SHA256 Credential=local/20240101/us-east-1/dynamodb/aws4_request, ' +
        'SignedHeaders=host;x-amz-date, Signature=0',
    },
    body: JSON.stringify(table),
  })
  if (!res.ok) throw Error(`creating table ${table.TableName}: ${res.status} ${await res.text()}`)
}

// The store is in memory, so there is nothing to flush; server.close() would wait up to 30 s for
// the SDKs' keep-alive connections.
process.on('SIGTERM', () => process.exit(0))
process.on('SIGINT', () => process.exit(0))
