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

func momentumStepGeneric(theta, grad, buf []float32, a, b, c, d, wd float32) {
	grad, buf = grad[:len(theta)], buf[:len(theta)]
	for i, th := range theta {
		g := grad[i] + wd*th
		v := a*buf[i] + b*g
		buf[i] = v
		theta[i] = th - c*v - d*g
	}
}

func plainStepGeneric(theta, grad []float32, rate, wd float32) {
	grad = grad[:len(theta)]
	for i, th := range theta {
		theta[i] = th - rate*(grad[i]+wd*th)
	}
}

func bytesToFloatsGeneric(dst []float32, src []uint8) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = float32(v) / 255
	}
}
