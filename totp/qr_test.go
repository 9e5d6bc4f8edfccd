package totp

import (
	"bytes"
	"errors"
	"image/color"
	"image/png"
	"testing"

	"rsc.io/qr"
)

func TestPNG(t *testing.T) {
	k, err := Generate("Plinth", "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	code, err := qr.Encode(k.URI, qr.M)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{code.Size + 2*quietZone, 200, 256, 333} {
		b, err := k.PNG(size)
		if err != nil {
			t.Fatalf("PNG(%d): %v", size, err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("PNG(%d) does not decode: %v", size, err)
		}
		if r := img.Bounds(); r.Dx() != size || r.Dy() != size || r.Min.X != 0 || r.Min.Y != 0 {
			t.Fatalf("PNG(%d) bounds %v", size, r)
		}
		// Every module centre has the module's colour.
		scale := size / (code.Size + 2*quietZone)
		off := (size - code.Size*scale) / 2
		for y := range code.Size {
			for x := range code.Size {
				g := color.GrayModel.Convert(img.At(off+x*scale+scale/2, off+y*scale+scale/2)).(color.Gray)
				if black := g.Y < 128; black != code.Black(x, y) {
					t.Fatalf("PNG(%d): module (%d,%d) black=%v", size, x, y, black)
				}
			}
		}
		// The quiet zone is white.
		for i := range size {
			for _, p := range [][2]int{{i, 0}, {0, i}, {i, size - 1}, {size - 1, i}} {
				if g := color.GrayModel.Convert(img.At(p[0], p[1])).(color.Gray); g.Y < 128 {
					t.Fatalf("PNG(%d): border pixel %v is black", size, p)
				}
			}
		}
	}
	for _, bad := range []int{-1, 0, 10, code.Size + 2*quietZone - 1, maxPNGSize + 1} {
		if _, err := k.PNG(bad); !errors.Is(err, ErrPNGSize) {
			t.Errorf("PNG(%d): %v", bad, err)
		}
	}
}
