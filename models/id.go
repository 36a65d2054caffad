package models

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
	"time"
)

// crockford is Crockford's base32 alphabet: sortable, no I, L, O or U.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

var idState struct {
	sync.Mutex
	ms     uint64
	hi, lo uint64 // the 80 random bits of the last id: 16 in hi, 64 in lo
}

// NewID returns prefix + "_" + a 26-character ULID: 48 bits of milliseconds
// since the epoch followed by 80 random bits. Within one process ids are
// strictly increasing (in the same millisecond the random part is
// incremented), and across processes they sort by millisecond, which is what
// cursor pagination relies on.
func NewID(prefix string) string {
	ms := uint64(time.Now().UnixMilli())
	idState.Lock()
	if ms <= idState.ms {
		ms = idState.ms
		idState.lo++
		if idState.lo == 0 {
			idState.hi = (idState.hi + 1) & 0xffff
		}
	} else {
		var b [10]byte
		if _, err := rand.Read(b[:]); err != nil {
			panic("models: no randomness: " + err.Error())
		}
		idState.ms = ms
		idState.hi = uint64(binary.BigEndian.Uint16(b[:2]))
		// Keep headroom so increments within a millisecond do not wrap.
		idState.lo = binary.BigEndian.Uint64(b[2:]) >> 1
	}
	hi := ms<<16 | idState.hi
	lo := idState.lo
	idState.Unlock()

	// 128 bits -> 26 base32 digits, most significant first (the first digit holds 3 bits).
	out := make([]byte, len(prefix)+1+26)
	copy(out, prefix)
	out[len(prefix)] = '_'
	for i := 25; i >= 0; i-- {
		out[len(prefix)+1+i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out)
}
