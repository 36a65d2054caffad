// A Vessel webhook receiver written from seed 000, for the profile tests.
// No dependencies: Node's http module stands in for Express and express.json().
//
// VESSEL_TOKENS is a JSON object of connectionId -> accessToken. Prints
// {"port":N} once listening on 127.0.0.1.
'use strict'
const http = require('http')
const crypto = require('crypto')

const tokens = JSON.parse(process.env.VESSEL_TOKENS || '{}')
const getAccessTokenForConnection = (connectionId) => tokens[connectionId]

// From the seed, verbatim.
const hash = (s) => crypto.createHash('sha256').update(s).digest('hex')

// The seed's app.post(WEBHOOK_URL, ...) handler.
function handle (req, res) {
  const timestamp = req.headers['x-vessel-timestamp']
  const connectionId = req.headers['x-vessel-connection-id']
  const accessToken = getAccessTokenForConnection(connectionId)
  if (accessToken === undefined) {
    return reply(res, 401, 'unknown connection ' + connectionId)
  }
  const signature = `${accessToken}${JSON.stringify(req.body)}${timestamp}`

  if (hash(signature) !== req.headers['x-vessel-signature']) {
    // The seed throws; the re-serialized body helps a failing test say why.
    return reply(res, 401, 'Unable to validate signature; JSON.stringify gave ' + JSON.stringify(req.body))
  }

  const event = req.body
  switch (event.type) {
    case 'OBJECT_CHANGE':
    case 'STATUS_CHANGE':
      return reply(res, 200, 'ok')
  }
  return reply(res, 422, 'unknown event type ' + event.type)
}

function reply (res, status, text) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' })
  res.end(text)
}

const server = http.createServer((req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    // What express.json() does: decode the body as UTF-8, then JSON.parse.
    try {
      req.body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    } catch (e) {
      return reply(res, 400, 'invalid JSON: ' + e.message)
    }
    try {
      handle(req, res)
    } catch (e) {
      reply(res, 500, String(e))
    }
  })
})
server.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ port: server.address().port }))
})
