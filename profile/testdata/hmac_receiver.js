// Receivers for the standard, salesos, apideck and inline-secret profiles,
// written from the specs with Node's crypto only, for the profile tests.
//
// SECRETS is a JSON object: {"standard": "whsec_...", "salesos": "...",
// "apideck": "...", "inline-secret": "..."}. Each receiver knows one secret.
// Prints {"port":N} once listening on 127.0.0.1.
'use strict'
const http = require('http')
const crypto = require('crypto')

const secrets = JSON.parse(process.env.SECRETS || '{}')
const hmac = (key, data, encoding) => crypto.createHmac('sha256', key).update(data).digest(encoding)
const equal = (a, b) => typeof a === 'string' && typeof b === 'string' && a.length === b.length &&
  crypto.timingSafeEqual(Buffer.from(a), Buffer.from(b))

const receivers = {
  // Standard Webhooks: v1,<base64 HMAC> over id.timestamp.body, key = base64 after whsec_.
  '/standard' (req, raw) {
    const id = req.headers['webhook-id']
    const ts = req.headers['webhook-timestamp']
    const sigs = req.headers['webhook-signature']
    if (!id || !ts || !sigs) return [400, 'missing webhook-* headers']
    if (!/^[0-9]+$/.test(ts)) return [400, 'bad timestamp']
    const key = Buffer.from(secrets.standard.replace(/^whsec_/, ''), 'base64')
    const expected = hmac(key, Buffer.concat([Buffer.from(`${id}.${ts}.`), raw]), 'base64')
    for (const versioned of sigs.split(' ')) {
      const [version, sig] = versioned.split(',')
      if (version === 'v1' && equal(sig, expected)) return [204, '']
    }
    return [401, 'no matching signature']
  },
  // SalesOS: hex HMAC of the raw body in X-Webhook-Signature.
  '/salesos' (req, raw) {
    if (!equal(req.headers['x-webhook-signature'], hmac(secrets.salesos, raw, 'hex'))) return [401, 'bad signature']
    const event = JSON.parse(raw.toString('utf8'))
    if (!event.id || !event.event || !event.created_at || typeof event.data !== 'object') return [422, 'bad envelope']
    return [200, 'ok']
  },
  // Apideck: base64 HMAC of the raw body; idempotency key and event type match the body.
  '/apideck' (req, raw) {
    if (!equal(req.headers['x-apideck-signature'], hmac(secrets.apideck, raw, 'base64'))) return [401, 'bad signature']
    const { payload } = JSON.parse(raw.toString('utf8'))
    if (req.headers['x-apideck-idempotency-key'] !== payload.event_id) return [422, 'idempotency key is not the event id']
    if (req.headers['x-apideck-event-type'] !== payload.event_type) return [422, 'event type header does not match']
    return [200, 'ok']
  },
  // Seed 003: the secret travels in the body.
  '/inline-secret' (req, raw) {
    const event = JSON.parse(raw.toString('utf8'))
    if (!equal(event.secret, secrets['inline-secret'])) return [401, 'bad secret']
    return [200, 'ok']
  }
}

const server = http.createServer((req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    let status = 404
    let text = 'no receiver for ' + req.url
    const receive = receivers[req.url]
    if (receive) {
      try {
        [status, text] = receive(req, Buffer.concat(chunks))
      } catch (e) {
        [status, text] = [500, String(e)]
      }
    }
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' })
    res.end(text)
  })
})
server.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ port: server.address().port }))
})
