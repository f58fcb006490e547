package vec

// The pure-Go twins: each loop is its kernel's definition.

func biasReLUGeneric(x, b []float32) {
	b = b[:len(x)]
	for i, v := range x {
		v += b[i]
		if v < 0 {
			v = 0
		}
		x[i] = v
	}
}

func addToGeneric(dst, src []float32) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] += src[i]
	}
}

func reluBackwardGeneric(dz, dy, y, db []float32) {
	dz, dy, db = dz[:len(y)], dy[:len(y)], db[:len(y)]
	for i, yv := range y {
		g := dy[i]
		if !(yv > 0) {
			g = 0
		}
		dz[i] = g
		db[i] += g
	}
}

func bytesToFloatsGeneric(dst []float32, src []uint8) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = float32(v) / 255
	}
}
