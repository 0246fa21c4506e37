package export

// bech32Charset is the alphabet of Bech32 (BIP 173), which age uses for
// its keys.
const bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

// bech32Encode returns data in Bech32 under the human-readable part hrp
// (lower case), without BIP 173's 90-character limit, as age writes keys.
func bech32Encode(hrp string, data []byte) string {
	// Regroup the bytes into 5-bit values, padding the last with zeros.
	var values []byte
	acc, bits := 0, 0
	for _, b := range data {
		acc = acc<<8 | int(b)
		bits += 8
		for bits >= 5 {
			bits -= 5
			values = append(values, byte(acc>>bits&31))
		}
	}
	if bits > 0 {
		values = append(values, byte(acc<<(5-bits)&31))
	}
	// The checksum: BCH code over the expanded hrp, the values and six zeros.
	check := make([]byte, 0, 2*len(hrp)+1+len(values)+6)
	for i := range len(hrp) {
		check = append(check, hrp[i]>>5)
	}
	check = append(check, 0)
	for i := range len(hrp) {
		check = append(check, hrp[i]&31)
	}
	check = append(check, values...)
	check = append(check, 0, 0, 0, 0, 0, 0)
	mod := bech32Polymod(check) ^ 1
	out := []byte(hrp + "1")
	for _, v := range values {
		out = append(out, bech32Charset[v])
	}
	for i := range 6 {
		out = append(out, bech32Charset[mod>>(5*(5-i))&31])
	}
	return string(out)
}

func bech32Polymod(values []byte) uint32 {
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := uint32(1)
	for _, v := range values {
		top := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ uint32(v)
		for i := range 5 {
			if top>>i&1 == 1 {
				chk ^= gen[i]
			}
		}
	}
	return chk
}
