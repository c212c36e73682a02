package mutex

import "fmt"

// galois is the finite field GF(q), q = p^k a prime power, by tables: an
// element is the integer whose base-p digits are the coefficients of a
// polynomial over GF(p) of degree below k, addition adds the digits
// modulo p, and multiplication goes through discrete logarithms to a
// generator x of GF(q)* modulo a primitive polynomial of degree k. The
// tables take O(q) space besides the q×q addition table; the planes the
// quorums use have q ≤ 256.
type galois struct {
	q, p int
	add  []int32 // add[a*q+b] = a+b
	neg  []int32 // neg[a] = −a
	exp  []int32 // exp[i] = x^i, i < 2(q−1)
	log  []int32 // log[a] for a ≠ 0
}

// primePower returns p and k with q = p^k, p prime, or ok false when q is
// not a prime power.
func primePower(q int) (p, k int, ok bool) {
	if q < 2 {
		return 0, 0, false
	}
	p = q
	for d := 2; d*d <= q; d++ {
		if q%d == 0 {
			p = d
			break
		}
	}
	for q%p == 0 {
		q /= p
		k++
	}
	return p, k, q == 1
}

// isPrimePower reports whether q = p^k for a prime p and k ≥ 1.
func isPrimePower(q int) bool {
	_, _, ok := primePower(q)
	return ok
}

// newGalois builds GF(q); it panics when q is not a prime power.
func newGalois(q int) *galois {
	p, k, ok := primePower(q)
	if !ok {
		panic(fmt.Sprintf("mutex: GF(%d): not a prime power", q))
	}
	f := &galois{q: q, p: p}
	f.add = make([]int32, q*q)
	f.neg = make([]int32, q)
	for a := range q {
		for b := range q {
			f.add[a*q+b] = int32(digitwise(a, b, p, 1))
		}
		f.neg[a] = int32(digitwise(0, a, p, -1))
	}
	f.exp, f.log = primitiveTables(q, p, k)
	return f
}

// digitwise returns a + sign·b computed digit by digit in base p, modulo p.
func digitwise(a, b, p, sign int) int {
	out, unit := 0, 1
	for a > 0 || b > 0 {
		d := ((a%p+sign*(b%p))%p + p) % p
		out += d * unit
		unit *= p
		a, b = a/p, b/p
	}
	return out
}

// primitiveTables finds a monic polynomial f of degree k over GF(p) in
// which x has multiplicative order q−1 (such an f is irreducible: modulo
// a reducible f the ring has zero divisors and fewer than q−1 units), and
// returns the powers of x (twice over, so that a product of two logarithms
// needs no reduction) and their logarithms.
func primitiveTables(q, p, k int) (exp, log []int32) {
	exp = make([]int32, 2*(q-1))
	log = make([]int32, q)
	if k == 1 {
		// GF(p): find a primitive root g; x^i stands for g^i.
		for g := 1; g < p; g++ {
			if primitiveTry(q, exp, log, func(a int) int { return a * g % p }) {
				return exp, log
			}
		}
		panic(fmt.Sprintf("mutex: GF(%d): no primitive root", q))
	}
	// f = x^k + c_{k−1}x^{k−1} + … + c_0, the low coefficients as the
	// base-p digits of tail, c_0 ≠ 0.
	unit := q / p // x^{k−1} as an element
	for tail := 1; tail < q; tail++ {
		if tail%p == 0 {
			continue
		}
		// Reducing x^k: x·a = shift a up one digit, then replace the
		// digit of x^k by −c (the tail) times it.
		times := func(a int) int {
			top := a / unit
			shifted := (a % unit) * p
			return digitwise(shifted, scaleDigits(tail, top, p), p, -1)
		}
		if primitiveTry(q, exp, log, times) {
			return exp, log
		}
	}
	panic(fmt.Sprintf("mutex: GF(%d): no primitive polynomial", q))
}

// scaleDigits multiplies every base-p digit of a by s modulo p.
func scaleDigits(a, s, p int) int {
	out, unit := 0, 1
	for a > 0 {
		out += (a % p * s % p) * unit
		unit *= p
		a /= p
	}
	return out
}

// primitiveTry fills exp and log from the powers of the generator that
// times multiplies by, and reports whether it generates all of GF(q)*.
func primitiveTry(q int, exp, log []int32, times func(int) int) bool {
	a := 1
	for i := range q - 1 {
		if a == 1 && i > 0 {
			return false
		}
		exp[i], exp[i+q-1] = int32(a), int32(a)
		a = times(a)
	}
	if a != 1 {
		return false
	}
	for i := range q - 1 {
		log[exp[i]] = int32(i)
	}
	return true
}

// Add returns a + b.
func (f *galois) Add(a, b int) int { return int(f.add[a*f.q+b]) }

// Sub returns a − b.
func (f *galois) Sub(a, b int) int { return int(f.add[a*f.q+int(f.neg[b])]) }

// Mul returns a · b.
func (f *galois) Mul(a, b int) int {
	if a == 0 || b == 0 {
		return 0
	}
	return int(f.exp[f.log[a]+f.log[b]])
}
