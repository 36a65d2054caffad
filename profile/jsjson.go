package profile

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file reproduces JavaScript's JSON.stringify(JSON.parse(text)) in Go.
//
// A receiver that verifies a signature over JSON.stringify of the parsed body
// (Vessel's) only accepts bodies that are a fixed point of that round
// trip. jsCanonical produces exactly those bytes: members in JavaScript's
// property order (array-index keys such as "2" first, ascending, then the
// others in the order written), numbers in ECMAScript Number::toString form
// (1.0 → 1, 1e21 → 1e+21, -0 → 0), strings escaped as JSON.stringify escapes
// them (only '"', '\\' and control characters; '<', '>', '&', U+2028 and
// U+2029 stay literal), no whitespace.
//
// What cannot survive the trip is refused with an error naming the place:
// duplicate keys (JavaScript keeps one), numbers whose value a float64 cannot
// hold (integers beyond 2^53 that would change, digits beyond double precision,
// overflow to Infinity, underflow to 0), invalid UTF-8, lone surrogates, and
// nesting deeper than maxJSDepth.

// maxJSDepth bounds nesting: V8 overflows its stack in JSON.stringify at about
// 4,000 levels, and a receiver's framework uses part of that stack.
const maxJSDepth = 512

type jsKind uint8

const (
	jsNull jsKind = iota
	jsTrue
	jsFalse
	jsNumber
	jsString
	jsArray
	jsObject
)

// jsValue is a JSON value as JavaScript holds it after JSON.parse.
type jsValue struct {
	kind jsKind
	// text is a string's decoded value, or a number in Number::toString form.
	text  string
	elems []jsValue
	// keys and vals are an object's members in JavaScript's enumeration order.
	keys []string
	vals []jsValue
}

// jsCanonical returns the bytes JSON.stringify(JSON.parse(src)) would produce,
// or an error when src is not JSON or would not survive that round trip
// unchanged in meaning. root names the value in errors ("payload").
func jsCanonical(src []byte, root string) ([]byte, error) {
	v, err := parseJS(src, root)
	if err != nil {
		return nil, err
	}
	return v.appendJSON(nil), nil
}

// parseJS parses src as JSON.parse would, refusing what would not round-trip.
func parseJS(src []byte, root string) (jsValue, error) {
	p := &jsParser{src: src, root: root}
	p.skipSpace()
	v, err := p.value(0)
	if err != nil {
		return jsValue{}, err
	}
	p.skipSpace()
	if p.pos != len(p.src) {
		return jsValue{}, p.syntaxError("unexpected data after the JSON value")
	}
	return v, nil
}

// appendJSON appends v as JSON.stringify writes it.
func (v jsValue) appendJSON(b []byte) []byte {
	switch v.kind {
	case jsNull:
		return append(b, "null"...)
	case jsTrue:
		return append(b, "true"...)
	case jsFalse:
		return append(b, "false"...)
	case jsNumber:
		return append(b, v.text...)
	case jsString:
		return append(b, quoteJSON(v.text)...)
	case jsArray:
		b = append(b, '[')
		for i, e := range v.elems {
			if i > 0 {
				b = append(b, ',')
			}
			b = e.appendJSON(b)
		}
		return append(b, ']')
	default:
		b = append(b, '{')
		for i, k := range v.keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, quoteJSON(k)...)
			b = append(b, ':')
			b = v.vals[i].appendJSON(b)
		}
		return append(b, '}')
	}
}

// member returns the value of key in object v.
func (v jsValue) member(key string) (jsValue, bool) {
	if v.kind != jsObject {
		return jsValue{}, false
	}
	i := slices.Index(v.keys, key)
	if i < 0 {
		return jsValue{}, false
	}
	return v.vals[i], true
}

// jsObjectOf builds an object from members given in insertion order.
func jsObjectOf(keys []string, vals []jsValue) jsValue {
	o := jsValue{kind: jsObject, keys: keys, vals: vals}
	o.orderKeys()
	return o
}

// orderKeys puts an object's members in JavaScript's [[OwnPropertyKeys]]
// order: array indices ascending, then the other keys in insertion order.
func (v *jsValue) orderKeys() {
	type member struct {
		key   string
		index uint32
		val   jsValue
	}
	var indices, others []member
	for i, k := range v.keys {
		if n, ok := arrayIndex(k); ok {
			indices = append(indices, member{k, n, v.vals[i]})
		} else {
			others = append(others, member{k, 0, v.vals[i]})
		}
	}
	if len(indices) == 0 {
		return
	}
	slices.SortStableFunc(indices, func(a, b member) int {
		switch {
		case a.index < b.index:
			return -1
		case a.index > b.index:
			return 1
		}
		return 0
	})
	v.keys, v.vals = v.keys[:0], v.vals[:0]
	for _, m := range append(indices, others...) {
		v.keys = append(v.keys, m.key)
		v.vals = append(v.vals, m.val)
	}
}

// arrayIndex reports whether key is an ECMAScript array index: the canonical
// decimal form of an integer from 0 to 2^32-2.
func arrayIndex(key string) (uint32, bool) {
	if key == "" || len(key) > 10 || (key[0] == '0' && len(key) > 1) {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if n > math.MaxUint32-1 {
		return 0, false
	}
	return uint32(n), true
}

type jsParser struct {
	src  []byte
	pos  int
	root string
	path []string
}

func (p *jsParser) where() string { return p.root + strings.Join(p.path, "") }

func (p *jsParser) syntaxError(msg string) error {
	return fmt.Errorf("%s is not valid JSON: %s at byte %d", p.root, msg, p.pos)
}

func (p *jsParser) skipSpace() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jsParser) value(depth int) (jsValue, error) {
	if p.pos >= len(p.src) {
		return jsValue{}, p.syntaxError("unexpected end of input")
	}
	switch c := p.src[p.pos]; {
	case c == '{':
		return p.object(depth + 1)
	case c == '[':
		return p.array(depth + 1)
	case c == '"':
		s, err := p.string()
		return jsValue{kind: jsString, text: s}, err
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == 't':
		return jsValue{kind: jsTrue}, p.literal("true")
	case c == 'f':
		return jsValue{kind: jsFalse}, p.literal("false")
	case c == 'n':
		return jsValue{kind: jsNull}, p.literal("null")
	default:
		return jsValue{}, p.syntaxError(fmt.Sprintf("unexpected character %q", rune(c)))
	}
}

func (p *jsParser) literal(word string) error {
	if !strings.HasPrefix(string(p.src[p.pos:min(len(p.src), p.pos+len(word))]), word) {
		return p.syntaxError("invalid literal")
	}
	p.pos += len(word)
	return nil
}

// member parses one `"key": value` of an object whose keys so far are seen.
func (p *jsParser) member(depth int, seen map[string]struct{}) (string, jsValue, error) {
	if p.pos >= len(p.src) || p.src[p.pos] != '"' {
		return "", jsValue{}, p.syntaxError("expected a string key")
	}
	key, err := p.string()
	if err != nil {
		return "", jsValue{}, err
	}
	if _, dup := seen[key]; dup {
		return "", jsValue{}, fmt.Errorf("%s has the key %s twice; JavaScript keeps only the last one, so the receiver would see a different object", p.where(), strconv.Quote(key))
	}
	seen[key] = struct{}{}
	p.skipSpace()
	if p.pos >= len(p.src) || p.src[p.pos] != ':' {
		return "", jsValue{}, p.syntaxError("expected ':' after an object key")
	}
	p.pos++
	p.skipSpace()
	p.path = append(p.path, keySegment(key))
	val, err := p.value(depth)
	p.path = p.path[:len(p.path)-1]
	return key, val, err
}

func (p *jsParser) object(depth int) (jsValue, error) {
	if depth > maxJSDepth {
		return jsValue{}, fmt.Errorf("%s nests deeper than %d levels, more than JavaScript receivers can safely re-serialize", p.where(), maxJSDepth)
	}
	p.pos++ // '{'
	v := jsValue{kind: jsObject}
	seen := map[string]struct{}{}
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == '}' {
		p.pos++
		return v, nil
	}
	for {
		key, val, err := p.member(depth, seen)
		if err != nil {
			return jsValue{}, err
		}
		v.keys = append(v.keys, key)
		v.vals = append(v.vals, val)
		p.skipSpace()
		if p.pos >= len(p.src) {
			return jsValue{}, p.syntaxError("unexpected end of input in an object")
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
			p.skipSpace()
		case '}':
			p.pos++
			v.orderKeys()
			return v, nil
		default:
			return jsValue{}, p.syntaxError("expected ',' or '}' in an object")
		}
	}
}

func (p *jsParser) array(depth int) (jsValue, error) {
	if depth > maxJSDepth {
		return jsValue{}, fmt.Errorf("%s nests deeper than %d levels, more than JavaScript receivers can safely re-serialize", p.where(), maxJSDepth)
	}
	p.pos++ // '['
	v := jsValue{kind: jsArray}
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == ']' {
		p.pos++
		return v, nil
	}
	for {
		p.path = append(p.path, "["+strconv.Itoa(len(v.elems))+"]")
		e, err := p.value(depth)
		p.path = p.path[:len(p.path)-1]
		if err != nil {
			return jsValue{}, err
		}
		v.elems = append(v.elems, e)
		p.skipSpace()
		if p.pos >= len(p.src) {
			return jsValue{}, p.syntaxError("unexpected end of input in an array")
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
			p.skipSpace()
		case ']':
			p.pos++
			return v, nil
		default:
			return jsValue{}, p.syntaxError("expected ',' or ']' in an array")
		}
	}
}

// string decodes the JSON string at p.pos, refusing invalid UTF-8 and lone
// surrogates, which a Go or UTF-8 transport cannot carry unchanged.
func (p *jsParser) string() (string, error) {
	p.pos++ // opening quote
	var b []byte
	for {
		if p.pos >= len(p.src) {
			return "", p.syntaxError("unterminated string")
		}
		c := p.src[p.pos]
		switch {
		case c == '"':
			p.pos++
			return string(b), nil
		case c == '\\':
			r, err := p.escape()
			if err != nil {
				return "", err
			}
			b = utf8.AppendRune(b, r)
		case c < 0x20:
			return "", p.syntaxError("unescaped control character in a string")
		case c < utf8.RuneSelf:
			b = append(b, c)
			p.pos++
		default:
			r, size := utf8.DecodeRune(p.src[p.pos:])
			if r == utf8.RuneError && size == 1 {
				return "", fmt.Errorf("%s contains invalid UTF-8 at byte %d", p.where(), p.pos)
			}
			b = append(b, p.src[p.pos:p.pos+size]...)
			p.pos += size
		}
	}
}

// escape decodes the escape sequence at p.pos, joining surrogate pairs.
func (p *jsParser) escape() (rune, error) {
	if p.pos+1 >= len(p.src) {
		return 0, p.syntaxError("unterminated escape")
	}
	c := p.src[p.pos+1]
	p.pos += 2
	switch c {
	case '"', '\\', '/':
		return rune(c), nil
	case 'b':
		return '\b', nil
	case 'f':
		return '\f', nil
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'u':
	default:
		p.pos -= 2
		return 0, p.syntaxError(fmt.Sprintf("invalid escape \\%c", c))
	}
	hi, err := p.hex4()
	if err != nil {
		return 0, err
	}
	switch {
	case hi >= 0xDC00 && hi <= 0xDFFF:
		return 0, fmt.Errorf("%s contains a lone surrogate \\u%04x, which cannot be sent as UTF-8", p.where(), hi)
	case hi < 0xD800 || hi > 0xDBFF:
		return hi, nil
	}
	if p.pos+1 < len(p.src) && p.src[p.pos] == '\\' && p.src[p.pos+1] == 'u' {
		save := p.pos
		p.pos += 2
		lo, err := p.hex4()
		if err != nil {
			return 0, err
		}
		if lo >= 0xDC00 && lo <= 0xDFFF {
			return 0x10000 + (hi-0xD800)<<10 + (lo - 0xDC00), nil
		}
		p.pos = save
	}
	return 0, fmt.Errorf("%s contains a lone surrogate \\u%04x, which cannot be sent as UTF-8", p.where(), hi)
}

func (p *jsParser) hex4() (rune, error) {
	if p.pos+4 > len(p.src) {
		return 0, p.syntaxError("short \\u escape")
	}
	var r rune
	for _, c := range p.src[p.pos : p.pos+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, p.syntaxError("invalid \\u escape")
		}
	}
	p.pos += 4
	return r, nil
}

// number scans a JSON number and converts it to its JavaScript form.
func (p *jsParser) number() (jsValue, error) {
	start := p.pos
	digits := func() int {
		n := 0
		for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.src[p.pos] == '-' {
		p.pos++
	}
	if p.pos < len(p.src) && p.src[p.pos] == '0' {
		p.pos++
	} else if digits() == 0 {
		return jsValue{}, p.syntaxError("invalid number")
	}
	if p.pos < len(p.src) && p.src[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return jsValue{}, p.syntaxError("invalid number")
		}
	}
	if p.pos < len(p.src) && (p.src[p.pos] == 'e' || p.src[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.src) && (p.src[p.pos] == '+' || p.src[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return jsValue{}, p.syntaxError("invalid number")
		}
	}
	text := string(p.src[start:p.pos])
	js, err := jsNumberText(text)
	if err != nil {
		return jsValue{}, fmt.Errorf("%s: %w", p.where(), err)
	}
	return jsValue{kind: jsNumber, text: js}, nil
}

// jsNumberText returns the text JavaScript prints for the JSON number text,
// or an error when the value it denotes would change on the way through a
// float64.
func jsNumberText(text string) (string, error) {
	f, err := strconv.ParseFloat(text, 64)
	if math.IsInf(f, 0) {
		return "", fmt.Errorf("%s is too large for a JavaScript number (it would become Infinity, which JSON.stringify writes as null)", shorten(text))
	}
	if err != nil {
		return "", fmt.Errorf("number %s: %w", shorten(text), err)
	}
	js := formatJSNumber(f)
	if !sameDecimal(text, js) {
		return "", fmt.Errorf("%s would reach a JavaScript receiver as %s (a JavaScript number holds about 15 to 17 significant digits); send it as a string", shorten(text), js)
	}
	return js, nil
}

// formatJSNumber formats a finite f as ECMAScript Number::toString(f) does.
func formatJSNumber(f float64) string {
	if f == 0 {
		return "0" // also for -0
	}
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	// The shortest digits that round-trip, as ECMAScript requires.
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±xx
	mant, exp, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	k, n := len(digits), x+1 // value = 0.digits × 10^n
	var s string
	switch {
	case k <= n && n <= 21:
		s = digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		s = digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		s = "0." + strings.Repeat("0", -n) + digits
	default:
		es := "+"
		if n-1 < 0 {
			es = "-"
		}
		s = digits[:1]
		if k > 1 {
			s += "." + digits[1:]
		}
		s += "e" + es + strconv.Itoa(abs(n-1))
	}
	return sign + s
}

// sameDecimal reports whether two JSON number texts denote the same value;
// -0 and 0 count as the same.
func sameDecimal(a, b string) bool {
	an, ad, ae := normalDecimal(a)
	bn, bd, be := normalDecimal(b)
	if ad == "" || bd == "" {
		return ad == bd
	}
	return an == bn && ad == bd && ae == be
}

// normalDecimal splits a JSON number text into sign, significant digits
// without leading or trailing zeros, and exponent: value = digits × 10^exp.
// A zero has empty digits. Exponents saturate far beyond the float64 range.
func normalDecimal(s string) (neg bool, digits string, exp int64) {
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	mant, e, _ := strings.Cut(strings.ToLower(s), "e")
	intPart, frac, _ := strings.Cut(mant, ".")
	const limit = int64(1) << 40
	if e != "" {
		eneg := false
		switch e[0] {
		case '-':
			eneg, e = true, e[1:]
		case '+':
			e = e[1:]
		}
		for i := 0; i < len(e) && exp < limit; i++ {
			exp = exp*10 + int64(e[i]-'0')
		}
		if eneg {
			exp = -exp
		}
	}
	digits = strings.TrimLeft(intPart+frac, "0")
	exp -= int64(len(frac))
	trimmed := strings.TrimRight(digits, "0")
	exp += int64(len(digits) - len(trimmed))
	return neg, trimmed, exp
}

func keySegment(key string) string {
	ident := key != ""
	for i, r := range key {
		if !(r == '_' || r == '$' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && r >= '0' && r <= '9')) {
			ident = false
			break
		}
	}
	if ident {
		return "." + key
	}
	return "[" + strconv.Quote(key) + "]"
}

func shorten(s string) string {
	if len(s) <= 40 {
		return s
	}
	return s[:37] + "..."
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
