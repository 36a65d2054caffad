// Reads lines on stdin and writes one line per input line, for the profile
// tests to compare Go's output with JavaScript's. Every line, in and out, is
// one string encoded as a JSON string literal.
//   mode "numbers":   the input is 16 hex digits of a float64; the output String(x).
//   mode "roundtrip": the input is JSON text; the output JSON.stringify(JSON.parse(text))
//                     or "ERR <message>".
'use strict'
const mode = process.argv[2]
let input = ''
process.stdin.setEncoding('utf8')
process.stdin.on('data', (d) => { input += d })
process.stdin.on('end', () => {
  const lines = input.split('\n')
  if (lines[lines.length - 1] === '') lines.pop()
  const out = lines.map((line) => {
    const text = JSON.parse(line)
    if (mode === 'numbers') return JSON.stringify(String(Buffer.from(text, 'hex').readDoubleBE(0)))
    try {
      return JSON.stringify(JSON.stringify(JSON.parse(text)))
    } catch (e) {
      return JSON.stringify('ERR ' + e.message)
    }
  })
  process.stdout.write(out.join('\n') + '\n')
})
