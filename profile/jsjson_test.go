package profile

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestJSNumberFormattingMatchesNode(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	values := []float64{
		1, -1, 0.1, 0.5, 1.5, 100, 1e21, 1e20, 123456789012345680000, 1e-6, 1e-7, 1.5e-7, 0.000001234,
		1.7976931348623157e308, 5e-324, 2.2250738585072014e-308, 9007199254740992, 9007199254740993,
		4294967295, 4294967296, 1e300, 123e-20, 0.30000000000000004, 2.5e-5, 1234567.0e15, 5e-7,
	}
	for len(values) < 100_000 {
		var f float64
		switch rng.IntN(4) {
		case 0: // any bit pattern
			f = math.Float64frombits(rng.Uint64())
		case 1: // an integer of up to 17 digits
			f = float64(rng.Int64N(100_000_000_000_000_000))
		case 2: // a short decimal at a scale around the format switches
			f, _ = strconv.ParseFloat(strconv.Itoa(rng.IntN(100000))+"e"+strconv.Itoa(rng.IntN(60)-30), 64)
		default: // a value next to a power of ten
			f = math.Nextafter(math.Pow(10, float64(rng.IntN(44)-22)), math.Inf(rng.IntN(2)*2-1))
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		values = append(values, f)
	}
	lines := make([]string, len(values))
	for i, f := range values {
		lines[i] = hex.EncodeToString(binary.BigEndian.AppendUint64(nil, math.Float64bits(f)))
	}
	want := runNode(t, "numbers", lines)
	for i, f := range values {
		if got := formatJSNumber(f); got != want[i] {
			t.Fatalf("formatJSNumber(%v) = %s, JavaScript prints %s", f, got, want[i])
		}
	}
}

func TestJSCanonicalMatchesNodeOnRandomDocuments(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	docs := make([]string, 5000)
	for i := range docs {
		docs[i] = randomJSONText(rng, 0)
	}
	viaNode := runNode(t, "roundtrip", docs)
	var accepted []string
	for i, doc := range docs {
		got, err := jsCanonical([]byte(doc), "payload")
		if err != nil {
			continue
		}
		require.Equal(t, viaNode[i], string(got), "document %d: %s", i, doc)
		accepted = append(accepted, string(got))
	}
	require.Greater(t, len(accepted), len(docs)/2, "the generator should mostly produce documents that round-trip")
	// What hookd sends is a fixed point of JSON.stringify(JSON.parse(...)).
	again := runNode(t, "roundtrip", accepted)
	for i, body := range accepted {
		require.Equal(t, body, again[i])
	}
}

func TestJSCanonicalWritesWhatJavaScriptWrites(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, in, out string }{
		{"integer-like keys move to the front in ascending order", `{"b":1,"2":2,"1":3,"a":4,"10":5}`, `{"1":3,"2":2,"10":5,"b":1,"a":4}`},
		{"keys that are not array indices keep their place", `{"z":0,"01":1,"-1":2,"1.5":3,"4294967295":4,"4294967294":5}`, `{"4294967294":5,"z":0,"01":1,"-1":2,"1.5":3,"4294967295":4}`},
		{"numbers take Number::toString form", `[1.0,1e3,-0,1E-7,1e21,1e-6,12e-7,1e+2,0.10,-0.0e5]`, `[1,1000,0,1e-7,1e+21,0.000001,0.0000012,100,0.1,0]`},
		{"html characters and line separators stay literal", `{"a":"<>&\u2028\u2029` + "\u2028" + `"}`, "{\"a\":\"<>&\u2028\u2029\u2028\"}"},
		{"escapes are rewritten the JavaScript way", `"\u0041\/\u00e9\b\f\n\r\t\u0000\u001F\u007f\"\\"`, "\"A/é\\b\\f\\n\\r\\t\\u0000\\u001f\x7f\\\"\\\\\""},
		{"surrogate pairs become one character", `"\ud83d\ude00\uD83D\uDE00"`, `"😀😀"`},
		{"whitespace goes", " { \"a\" : [ 1 , { } , [ ] , null , true , false ] } ", `{"a":[1,{},[],null,true,false]}`},
		{"__proto__ is an ordinary key", `{"__proto__":{"x":1},"a":2}`, `{"__proto__":{"x":1},"a":2}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := jsCanonical([]byte(tc.in), "payload")
			require.NoError(t, err)
			require.Equal(t, tc.out, string(got))
		})
	}
}

func TestJSCanonicalRefusesWhatCannotRoundTrip(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, in, err string }{
		{"integer beyond 2^53 that would change", `{"n":12345678901234567890}`, "payload.n: 12345678901234567890 would reach a JavaScript receiver as 12345678901234567000"},
		{"2^53 + 1", `{"n":[9007199254740993]}`, "payload.n[0]: 9007199254740993 would reach a JavaScript receiver as 9007199254740992"},
		{"digits beyond double precision", `{"n":0.1000000000000000000001}`, "would reach a JavaScript receiver as 0.1"},
		{"overflow to Infinity", `{"n":1e400}`, "payload.n: 1e400 is too large for a JavaScript number"},
		{"underflow to zero", `{"n":-1e-400}`, "payload.n: -1e-400 would reach a JavaScript receiver as 0"},
		{"duplicate keys", `{"a":{"b":1,"b":2}}`, `payload.a has the key "b" twice`},
		{"duplicate keys spelled differently", `{"a":1,"\u0061":2}`, `payload has the key "a" twice`},
		{"lone high surrogate", `{"s":"\ud800x"}`, `payload.s contains a lone surrogate \ud800`},
		{"lone low surrogate", `{"odd key":"\udc00"}`, `payload["odd key"] contains a lone surrogate \udc00`},
		{"high surrogate followed by a non-surrogate escape", `{"s":"\ud800\u0041"}`, `lone surrogate \ud800`},
		{"invalid UTF-8", "{\"s\":\"\xc3\x28\"}", "payload.s contains invalid UTF-8"},
		{"UTF-8 encoded surrogate", "{\"s\":\"\xed\xa0\x80\"}", "payload.s contains invalid UTF-8"},
		{"nesting deeper than the limit", strings.Repeat(`{"a":`, maxJSDepth+1) + "1" + strings.Repeat("}", maxJSDepth+1), "nests deeper than 512 levels"},
		{"syntax error", `{"a":01}`, "payload is not valid JSON"},
		{"trailing comma", `{"a":1,}`, "payload is not valid JSON"},
		{"raw control character", "{\"a\":\"\n\"}", "payload is not valid JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := jsCanonical([]byte(tc.in), "payload")
			require.ErrorContains(t, err, tc.err)
		})
	}
}

func FuzzVesselRoundTrip(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"a":1}`, `{"2":1,"1":2,"b":[1.0,1e21,-0,"\u2028<>&"]}`, `{"n":12345678901234567890}`,
		`{"a":"\ud83d\ude00","b":"\ud800"}`, `{"a":1,"a":2}`, `[{"x":1E-7}]`, `"\u0000"`, `1e400`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := jsCanonical(in, "payload")
		if err != nil {
			return
		}
		require.True(t, json.Valid(out), "output is not JSON: %q", out)
		again, err := jsCanonical(out, "payload")
		require.NoError(t, err, "output does not round-trip: %q", out)
		require.Equal(t, string(out), string(again), "output is not a fixed point")
		var before, after any
		require.NoError(t, json.Unmarshal(in, &before))
		require.NoError(t, json.Unmarshal(out, &after))
		require.Equal(t, before, after, "the value changed: %q -> %q", in, out)
	})
}

// randomJSONText writes a random JSON document in awkward but valid forms.
func randomJSONText(rng *rand.Rand, depth int) string {
	ws := func() string { return []string{"", "", "", " ", "\n", "\t", "\r\n  "}[rng.IntN(7)] }
	kind := rng.IntN(10)
	if depth == 0 {
		kind = 0
	} else if depth > 4 {
		kind = 2 + rng.IntN(8)
	}
	switch kind {
	case 0, 1:
		var b strings.Builder
		b.WriteString("{" + ws())
		n := rng.IntN(6)
		used := map[string]bool{}
		for i := 0; i < n; i++ {
			key := randomKey(rng)
			if used[key] && rng.IntN(20) > 0 {
				continue
			}
			used[key] = true
			if b.Len() > 2 {
				b.WriteString("," + ws())
			}
			b.WriteString(randomJSONString(rng, key) + ws() + ":" + ws() + randomJSONText(rng, depth+1) + ws())
		}
		return strings.TrimRight(b.String(), ",") + "}"
	case 2:
		var parts []string
		for i := rng.IntN(5); i > 0; i-- {
			parts = append(parts, ws()+randomJSONText(rng, depth+1)+ws())
		}
		return "[" + strings.Join(parts, ",") + "]"
	case 3, 4, 5:
		return randomNumberText(rng)
	case 6, 7, 8:
		return randomJSONString(rng, randomText(rng))
	default:
		return []string{"null", "true", "false"}[rng.IntN(3)]
	}
}

func randomKey(rng *rand.Rand) string {
	switch rng.IntN(4) {
	case 0:
		return strconv.Itoa(rng.IntN(20))
	case 1:
		return []string{"01", "-1", "1.5", "4294967294", "4294967295", "9999999999", "__proto__", "", " ", "constructor"}[rng.IntN(10)]
	default:
		return randomText(rng)
	}
}

func randomText(rng *rand.Rand) string {
	pool := []string{"a", "b", "Z", "é", "日本", "😀", "<", ">", "&", "\u2028", "\u2029", "\x00", "\x1f", "\x7f", "\"", "\\", "/", "\n", "\t", "\ufeff", "\U0010ffff", "id", "name"}
	var b strings.Builder
	for i := rng.IntN(6); i > 0; i-- {
		b.WriteString(pool[rng.IntN(len(pool))])
	}
	return b.String()
}

// randomJSONString quotes s, escaping characters in randomly chosen forms.
func randomJSONString(rng *rand.Rand, s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteString(`\` + string(r))
		case r == '/' && rng.IntN(2) == 0:
			b.WriteString(`\/`)
		case r < 0x20 || rng.IntN(4) == 0:
			if r > 0xffff {
				r1, r2 := 0xd800+((r-0x10000)>>10), 0xdc00+((r-0x10000)&0x3ff)
				b.WriteString(`\u` + hexCase(rng, r1) + `\u` + hexCase(rng, r2))
			} else {
				b.WriteString(`\u` + hexCase(rng, r))
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func hexCase(rng *rand.Rand, r rune) string {
	h := strconv.FormatInt(int64(0x10000+r), 16)[1:]
	if rng.IntN(2) == 0 {
		h = strings.ToUpper(h)
	}
	return h
}

func randomNumberText(rng *rand.Rand) string {
	sign := []string{"", "", "-"}[rng.IntN(3)]
	switch rng.IntN(7) {
	case 0:
		return sign + strconv.Itoa(rng.IntN(1000))
	case 1:
		return sign + strconv.FormatInt(rng.Int64N(1<<53), 10)
	case 2:
		return sign + "0." + strconv.Itoa(rng.IntN(100000)) + strings.Repeat("0", rng.IntN(3))
	case 3:
		return sign + strconv.Itoa(rng.IntN(100)) + []string{"e", "E"}[rng.IntN(2)] + []string{"", "+", "-"}[rng.IntN(3)] + strconv.Itoa(rng.IntN(30))
	case 4:
		return sign + strconv.FormatFloat(rng.Float64()*math.Pow(10, float64(rng.IntN(60)-30)), 'g', -1, 64)
	case 5:
		return sign + []string{"0", "0.0", "1.0", "1e21", "1e-7", "5e-324", "1.7976931348623157e308", "1e400", "12345678901234567890"}[rng.IntN(9)]
	default:
		return sign + strconv.FormatFloat(math.Float64frombits(rng.Uint64()>>2), 'e', -1, 64)
	}
}
