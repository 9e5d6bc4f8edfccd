package totp

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"rsc.io/qr"
)

const (
	// quietZone is the blank border, in modules, that ISO/IEC 18004
	// requires around a QR code for scanners to find it.
	quietZone = 4
	// maxPNGSize bounds the image so a caller-supplied size cannot make
	// PNG allocate an unbounded amount of memory.
	maxPNGSize = 4096
)

// ErrPNGSize is returned by Key.PNG for a size that cannot hold the code.
var ErrPNGSize = errors.New("totp: QR image size out of range")

// PNG renders k.URI as a QR code in a size×size pixel PNG image, black on
// white. Modules are drawn with a whole number of pixels each and the code is
// centred, with at least the standard four-module quiet zone, so the image
// scans reliably. size must be large enough for one pixel per module plus the
// quiet zone (about 60 pixels for a typical URI; 200 or more is sensible for
// a screen) and at most 4096.
func (k *Key) PNG(size int) ([]byte, error) {
	// Level M (15% recovery) keeps the symbol small while tolerating the
	// glare and blur of a phone camera pointed at a screen.
	code, err := qr.Encode(k.URI, qr.M)
	if err != nil {
		return nil, fmt.Errorf("totp: encode QR: %w", err)
	}
	total := code.Size + 2*quietZone
	if size < total || size > maxPNGSize {
		return nil, fmt.Errorf("%w: %d (need %d to %d)", ErrPNGSize, size, total, maxPNGSize)
	}
	scale := size / total
	// Extra pixels that do not make a whole module go to the margin.
	offset := (size - code.Size*scale) / 2

	// A two-colour palette makes png write a 1-bit image.
	img := image.NewPaletted(image.Rect(0, 0, size, size), color.Palette{color.White, color.Black})
	for y := range code.Size {
		for x := range code.Size {
			if !code.Black(x, y) {
				continue
			}
			x0, y0 := offset+x*scale, offset+y*scale
			for py := y0; py < y0+scale; py++ {
				row := img.Pix[py*img.Stride:]
				for px := x0; px < x0+scale; px++ {
					row[px] = 1
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("totp: encode PNG: %w", err)
	}
	return buf.Bytes(), nil
}
