// Package mavtest fills MAVLink message structs with deterministic values
// for the radio packages' tests: every field set, so that a round trip
// checks every byte of an encoding.
package mavtest

import (
	"math/rand/v2"
	"reflect"
	"strconv"

	"github.com/bluenviron/gomavlib/v3/pkg/message"
)

// Max sets every field of msg (a pointer to a message struct) to its
// largest encoding: all bits set, arrays and strings full.
func Max(msg message.Message) {
	fill(reflect.ValueOf(msg).Elem(), func(bits int) uint64 { return 1<<bits - 1 })
}

// Sample sets every field of msg (a pointer to a message struct) to a
// non-zero pseudo-random value drawn from seed; the same seed gives the same
// message.
func Sample(msg message.Message, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	fill(reflect.ValueOf(msg).Elem(), func(bits int) uint64 {
		for {
			v := rng.Uint64()
			if bits < 64 {
				v &= 1<<bits - 1
			}
			if v != 0 {
				return v
			}
		}
	})
}

// New returns a new zero message of the same type as msg.
func New(msg message.Message) message.Message {
	return reflect.New(reflect.TypeOf(msg).Elem()).Interface().(message.Message)
}

func fill(v reflect.Value, next func(bits int) uint64) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		fv := v.Field(i)
		bits := 0
		if enum := f.Tag.Get("mavenum"); enum != "" {
			bits = enumBits(enum)
		}
		if fv.Kind() == reflect.Array {
			for j := range fv.Len() {
				setValue(fv.Index(j), bits, f, next)
			}
			continue
		}
		setValue(fv, bits, f, next)
	}
}

func enumBits(goType string) int {
	switch goType {
	case "uint8", "int8":
		return 8
	case "uint16", "int16":
		return 16
	case "uint32", "int32":
		return 32
	default:
		return 64
	}
}

func setValue(v reflect.Value, enumBits int, f reflect.StructField, next func(bits int) uint64) {
	switch v.Kind() {
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		bits := v.Type().Bits()
		if enumBits != 0 {
			bits = enumBits
		}
		v.SetUint(next(bits))
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := v.Type().Bits()
		x := next(bits - 1)
		v.SetInt(int64(x))
	case reflect.Float32:
		v.SetFloat(float64(float32(next(16))) / 8)
	case reflect.Float64:
		v.SetFloat(float64(next(32)) / 16)
	case reflect.String:
		n := 1
		if l := f.Tag.Get("mavlen"); l != "" {
			n, _ = strconv.Atoi(l)
		}
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('a' + next(8)%26)
		}
		v.SetString(string(b))
	}
}

// SetNetwork sets the network_id field of a message that has one.
func SetNetwork(msg message.Message, network uint8) {
	f := reflect.ValueOf(msg).Elem().FieldByName("NetworkId")
	if f.IsValid() && f.Kind() == reflect.Uint8 {
		f.SetUint(uint64(network))
	}
}
