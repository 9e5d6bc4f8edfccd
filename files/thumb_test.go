package files_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plinthdev/plinth/files"
	"github.com/plinthdev/plinth/schema"
)

var (
	red   = color.RGBA{255, 0, 0, 255}
	green = color.RGBA{0, 255, 0, 255}
	blue  = color.RGBA{0, 0, 255, 255}
	white = color.RGBA{255, 255, 255, 255}
)

// bands draws w×h split into three bands along the longer side: a quarter
// of c1, half of c2, a quarter of c3.
func bands(w, h int, c1, c2, c3 color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			p := x * 4 / w
			if h > w {
				p = y * 4 / h
			}
			c := c2
			switch p {
			case 0:
				c = c1
			case 3:
				c = c3
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// quadrants draws w×h with top-left red, top-right blue, bottom-left
// green, bottom-right white.
func quadrants(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := red
			switch {
			case x >= w/2 && y < h/2:
				c = blue
			case x < w/2 && y >= h/2:
				c = green
			case x >= w/2 && y >= h/2:
				c = white
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withOrientation inserts an EXIF APP1 segment with the orientation tag
// right after the JPEG's SOI marker.
func withOrientation(jpg []byte, o uint16) []byte {
	tiff := []byte("MM\x00*\x00\x00\x00\x08")
	tiff = binary.BigEndian.AppendUint16(tiff, 1)      // one entry
	tiff = binary.BigEndian.AppendUint16(tiff, 0x0112) // Orientation
	tiff = binary.BigEndian.AppendUint16(tiff, 3)      // SHORT
	tiff = binary.BigEndian.AppendUint32(tiff, 1)      // count
	tiff = binary.BigEndian.AppendUint16(tiff, o)
	tiff = append(tiff, 0, 0, 0, 0, 0, 0) // padding, next IFD = 0
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xFF, 0xE1}
	seg = binary.BigEndian.AppendUint16(seg, uint16(len(payload)+2))
	seg = append(seg, payload...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

func decodeThumb(t *testing.T, data []byte) image.Image {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// near reports whether the pixel at (x, y) is within tol of want per channel.
func near(img image.Image, x, y int, want color.RGBA, tol int) bool {
	r, g, b, _ := img.At(img.Bounds().Min.X+x, img.Bounds().Min.Y+y).RGBA()
	d := func(a uint32, b uint8) bool { v := int(a>>8) - int(b); return v <= tol && v >= -tol }
	return d(r, want.R) && d(g, want.G) && d(b, want.B)
}

func spec(t *testing.T, s string) files.ThumbSpec {
	t.Helper()
	ts, err := files.ParseThumbSpec(s)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func TestGenerateThumbSizesAndCrops(t *testing.T) {
	t.Parallel()
	wide := encodePNG(t, bands(80, 40, red, green, blue)) // red | green green | blue
	tall := encodePNG(t, bands(40, 80, red, green, blue)) // red / green green / blue
	type px struct {
		x, y int
		c    color.RGBA
	}
	for _, tt := range []struct {
		name, spec string
		src        []byte
		w, h       int
		pixels     []px
	}{
		{"center crop of wide", "40x40", wide, 40, 40, []px{{2, 2, green}, {37, 37, green}}},
		{"top crop of wide is centred across", "40x40t", wide, 40, 40, []px{{2, 2, green}, {37, 2, green}}},
		{"center crop of tall", "40x40", tall, 40, 40, []px{{2, 2, green}, {37, 37, green}}},
		{"top crop of tall", "40x40t", tall, 40, 40, []px{{20, 2, red}, {20, 37, green}}},
		{"bottom crop of tall", "40x40b", tall, 40, 40, []px{{20, 2, green}, {20, 37, blue}}},
		{"downscaled crop", "10x10", tall, 10, 10, []px{{5, 5, green}}},
		{"enlarged crop", "100x50", wide, 100, 50, []px{{2, 25, red}, {50, 25, green}, {97, 25, blue}}},
		{"fit wide", "20x20f", wide, 20, 10, []px{{1, 5, red}, {10, 5, green}, {18, 5, blue}}},
		{"fit tall", "20x20f", tall, 10, 20, []px{{5, 1, red}, {5, 18, blue}}},
		{"fit never enlarges", "200x200f", wide, 80, 40, []px{{2, 2, red}}},
		{"height only", "0x20", wide, 40, 20, []px{{1, 10, red}, {38, 10, blue}}},
		{"width only", "20x0", wide, 20, 10, []px{{1, 5, red}}},
		{"width only enlarges", "160x0", wide, 160, 80, []px{{80, 40, green}}},
		{"tiny result", "1x0", wide, 1, 1, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data, ct, err := files.GenerateThumb(bytes.NewReader(tt.src), spec(t, tt.spec), 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			if ct != "image/png" {
				t.Errorf("content type %q", ct)
			}
			img := decodeThumb(t, data)
			if b := img.Bounds(); b.Dx() != tt.w || b.Dy() != tt.h {
				t.Fatalf("size %dx%d, want %dx%d", b.Dx(), b.Dy(), tt.w, tt.h)
			}
			for _, p := range tt.pixels {
				if !near(img, p.x, p.y, p.c, 8) {
					t.Errorf("pixel (%d,%d) = %v, want %v", p.x, p.y, img.At(p.x, p.y), p.c)
				}
			}
		})
	}
}

func TestGenerateThumbFormats(t *testing.T) {
	t.Parallel()
	// JPEG stays JPEG.
	data, ct, err := files.GenerateThumb(bytes.NewReader(encodeJPEG(t, bands(80, 40, red, green, blue))), spec(t, "20x20"), 0, 0)
	if err != nil || ct != "image/jpeg" {
		t.Fatalf("jpeg: %q, %v", ct, err)
	}
	if img := decodeThumb(t, data); img.Bounds().Dx() != 20 || !near(img, 10, 10, green, 40) {
		t.Errorf("jpeg thumb %v, centre %v", img.Bounds(), img.At(10, 10))
	}

	// GIF: the first frame only, written as PNG.
	pal := color.Palette{red, blue}
	f1 := image.NewPaletted(image.Rect(0, 0, 30, 30), pal)
	f2 := image.NewPaletted(image.Rect(0, 0, 30, 30), pal)
	draw.Draw(f2, f2.Bounds(), image.NewUniform(blue), image.Point{}, draw.Src)
	var g bytes.Buffer
	if err := gif.EncodeAll(&g, &gif.GIF{Image: []*image.Paletted{f1, f2}, Delay: []int{10, 10}}); err != nil {
		t.Fatal(err)
	}
	data, ct, err = files.GenerateThumb(bytes.NewReader(g.Bytes()), spec(t, "10x10"), 0, 0)
	if err != nil || ct != "image/png" {
		t.Fatalf("gif: %q, %v", ct, err)
	}
	if img := decodeThumb(t, data); !near(img, 5, 5, red, 8) {
		t.Errorf("gif thumb centre %v, want the first frame's red", img.At(5, 5))
	}

	// WebP (testdata/wide.webp: 40×20, left half red, right half blue).
	webp, err := os.ReadFile("testdata/wide.webp")
	if err != nil {
		t.Fatal(err)
	}
	data, ct, err = files.GenerateThumb(bytes.NewReader(webp), spec(t, "0x10"), 0, 0)
	if err != nil || ct != "image/png" {
		t.Fatalf("webp: %q, %v", ct, err)
	}
	img := decodeThumb(t, data)
	if img.Bounds().Dx() != 20 || img.Bounds().Dy() != 10 || !near(img, 1, 5, red, 8) || !near(img, 18, 5, blue, 8) {
		t.Errorf("webp thumb %v: %v %v", img.Bounds(), img.At(1, 5), img.At(18, 5))
	}
}

func TestGenerateThumbOrientation(t *testing.T) {
	t.Parallel()
	src := encodeJPEG(t, quadrants(40, 20))
	// Expected displayed corners (top-left, top-right, bottom-left,
	// bottom-right) for each EXIF orientation of a stored image whose
	// corners are red, blue, green, white.
	for o, want := range map[uint16][4]color.RGBA{
		1: {red, blue, green, white},
		2: {blue, red, white, green},
		3: {white, green, blue, red},
		4: {green, white, red, blue},
		5: {red, green, blue, white},
		6: {green, red, white, blue},
		7: {white, blue, green, red},
		8: {blue, white, red, green},
	} {
		data, _, err := files.GenerateThumb(bytes.NewReader(withOrientation(src, o)), spec(t, "100x100f"), 0, 0)
		if err != nil {
			t.Fatalf("orientation %d: %v", o, err)
		}
		img := decodeThumb(t, data)
		w, h := img.Bounds().Dx(), img.Bounds().Dy()
		if (o >= 5) != (w == 20 && h == 40) || (o < 5) != (w == 40 && h == 20) {
			t.Errorf("orientation %d: size %dx%d", o, w, h)
			continue
		}
		corners := [4]image.Point{{2, 2}, {w - 3, 2}, {2, h - 3}, {w - 3, h - 3}}
		for i, p := range corners {
			if !near(img, p.X, p.Y, want[i], 60) {
				t.Errorf("orientation %d: corner %d at %v = %v, want %v", o, i, p, img.At(p.X, p.Y), want[i])
			}
		}
	}
	// A crop anchored at the top of the displayed (rotated) image: for
	// orientation 6 the stored bottom-left green and top-left red come out
	// on top.
	data, _, err := files.GenerateThumb(bytes.NewReader(withOrientation(src, 6)), spec(t, "20x20t"), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	img := decodeThumb(t, data)
	if !near(img, 2, 2, green, 60) || !near(img, 17, 2, red, 60) || !near(img, 2, 17, green, 60) {
		t.Errorf("top crop of rotated image: %v %v %v", img.At(2, 2), img.At(17, 2), img.At(2, 17))
	}
	data, _, err = files.GenerateThumb(bytes.NewReader(withOrientation(src, 6)), spec(t, "20x20b"), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if img := decodeThumb(t, data); !near(img, 2, 17, white, 60) || !near(img, 17, 17, blue, 60) {
		t.Errorf("bottom crop of rotated image: %v %v", img.At(2, 17), img.At(17, 17))
	}
}

// hugePNG is a valid PNG header that declares w×h pixels and no data.
func hugePNG(t testing.TB, w, h uint32) []byte {
	data := encodePNG(t, image.NewRGBA(image.Rect(0, 0, 1, 1)))
	binary.BigEndian.PutUint32(data[16:], w)
	binary.BigEndian.PutUint32(data[20:], h)
	binary.BigEndian.PutUint32(data[29:], crc32.ChecksumIEEE(data[12:29]))
	return data
}

func TestGenerateThumbRefuses(t *testing.T) {
	t.Parallel()
	for name, src := range map[string][]byte{
		"decompression bomb": hugePNG(t, 60000, 60000),
		"over a small cap":   encodePNG(t, image.NewRGBA(image.Rect(0, 0, 200, 200))),
		"text":               []byte("hello world"),
		"svg":                []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`),
		"truncated png":      encodePNG(t, bands(80, 40, red, green, blue))[:60],
		"empty":              nil,
	} {
		_, _, err := files.GenerateThumb(bytes.NewReader(src), spec(t, "10x10"), 30_000, 0)
		if !errors.Is(err, files.ErrNoThumb) {
			t.Errorf("%s: %v, want ErrNoThumb", name, err)
		}
	}
	// The output is capped too.
	if _, _, err := files.GenerateThumb(bytes.NewReader(encodePNG(t, bands(8, 4, red, green, blue))), spec(t, "99999x99999"), 1000, 0); !errors.Is(err, files.ErrNoThumb) {
		t.Errorf("huge output: %v", err)
	}
}

func TestThumbSpec(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]files.ThumbSpec{
		"100x100":  {Width: 100, Height: 100},
		"100x50t":  {Width: 100, Height: 50, Mode: files.ThumbTop},
		"10x5b":    {Width: 10, Height: 5, Mode: files.ThumbBottom},
		"10x5f":    {Width: 10, Height: 5, Mode: files.ThumbFit},
		"0x300":    {Height: 300},
		"300x0":    {Width: 300},
		"0100x010": {Width: 100, Height: 10},
	} {
		got, err := files.ParseThumbSpec(s)
		if err != nil || got != want {
			t.Errorf("ParseThumbSpec(%q) = %+v, %v", s, got, err)
		}
	}
	if got := (files.ThumbSpec{Width: 10, Height: 5, Mode: 'f'}).String(); got != "10x5f" {
		t.Errorf("String = %q", got)
	}
	for _, s := range []string{"", "0x0", "100", "100x", "x100", "-1x5", "10x10z", "100000x1", "10X10", " 10x10", "10x10t "} {
		if _, err := files.ParseThumbSpec(s); !errors.Is(err, files.ErrNoThumb) {
			t.Errorf("ParseThumbSpec(%q) = %v", s, err)
		}
	}
}

func TestAllowedThumb(t *testing.T) {
	t.Parallel()
	opts := &schema.FileOptions{Thumbs: []string{"50x50f", "0x200"}}
	for spec, want := range map[string]bool{
		"100x100": true, "50x50f": true, "0x200": true,
		"50x50": false, "200x0": false, "0x0": false, "": false, "100x100t": false,
	} {
		if got := files.AllowedThumb(opts, spec); got != want {
			t.Errorf("AllowedThumb(%q) = %v", spec, got)
		}
	}
	if !files.AllowedThumb(nil, "100x100") || files.AllowedThumb(nil, "50x50f") {
		t.Error("AllowedThumb with nil options")
	}
	for ct, want := range map[string]bool{
		"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true,
		"image/svg+xml": false, "text/plain": false, "image/bmp": false, "": false, "image/png; x=y": true,
	} {
		if files.IsThumbable(ct) != want {
			t.Errorf("IsThumbable(%q) != %v", ct, want)
		}
	}
}

// countingStore counts Opens, to see how often thumbnails are generated.
type countingStore struct {
	files.Storage
	opens atomic.Int64
}

func (c *countingStore) Open(ctx context.Context, key string) (*files.Object, error) {
	c.opens.Add(1)
	return c.Storage.Open(ctx, key)
}

func newLocal(t *testing.T) *files.Local {
	t.Helper()
	st, err := files.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestThumbnailer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := &countingStore{Storage: newLocal(t)}
	th := files.NewThumbnailer(st, files.ThumbOptions{})
	key := "c/r/pic_abcdefghij.png"
	src := encodePNG(t, bands(80, 40, red, green, blue))
	if err := st.Put(ctx, key, bytes.NewReader(src), int64(len(src)), "image/png"); err != nil {
		t.Fatal(err)
	}

	// Concurrent requests make it once.
	var wg sync.WaitGroup
	start := make(chan struct{})
	keys := make([]string, 8)
	errs := make([]error, 8)
	for i := range 8 {
		wg.Go(func() {
			<-start
			keys[i], errs[i] = th.Thumb(ctx, key, "20x20")
		})
	}
	close(start)
	wg.Wait()
	for i := range 8 {
		if errs[i] != nil || keys[i] != "c/r/thumbs_pic_abcdefghij.png/20x20_pic_abcdefghij.png" {
			t.Fatalf("Thumb = %q, %v", keys[i], errs[i])
		}
	}
	if n := st.opens.Load(); n != 1 {
		t.Errorf("original opened %d times, want 1", n)
	}

	// A newer original makes it again.
	time.Sleep(20 * time.Millisecond)
	src2 := encodePNG(t, bands(80, 40, blue, blue, blue))
	if err := st.Put(ctx, key, bytes.NewReader(src2), int64(len(src2)), "image/png"); err != nil {
		t.Fatal(err)
	}
	tk, err := th.Thumb(ctx, key, "20x20")
	if err != nil {
		t.Fatal(err)
	}
	obj, err := st.Storage.Open(ctx, tk)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(obj)
	obj.Close()
	if img := decodeThumb(t, data); !near(img, 10, 10, blue, 8) {
		t.Errorf("stale thumbnail kept: centre %v", img.At(10, 10))
	}

	// Not an image, a corrupt image, a missing original, a bad spec.
	put := func(k, ct string, data []byte) {
		if err := st.Put(ctx, k, bytes.NewReader(data), int64(len(data)), ct); err != nil {
			t.Fatal(err)
		}
	}
	put("c/r/doc.txt", "text/plain", []byte("hello"))
	put("c/r/bad.png", "image/png", []byte("not really a png"))
	for _, tt := range []struct {
		key, spec string
		want      error
	}{
		{"c/r/doc.txt", "20x20", files.ErrNoThumb},
		{"c/r/bad.png", "20x20", files.ErrNoThumb},
		{"c/r/missing.png", "20x20", files.ErrNotFound},
		{key, "0x0", files.ErrNoThumb},
		{key, "../../x", files.ErrNoThumb},
	} {
		if _, err := th.Thumb(ctx, tt.key, tt.spec); !errors.Is(err, tt.want) {
			t.Errorf("Thumb(%q, %q) = %v, want %v", tt.key, tt.spec, err, tt.want)
		}
	}
	if ok, _ := st.Exists(ctx, "c/r/thumbs_bad.png/20x20_bad.png"); ok {
		t.Error("a thumbnail was stored for a corrupt image")
	}

	// A caller that gives up gets its context's error.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := th.Thumb(cctx, key, "30x30"); err == nil {
		t.Error("Thumb with a cancelled context succeeded")
	}
}

func FuzzParseThumbSpec(f *testing.F) {
	for _, s := range []string{"100x100", "0x50", "50x0", "10x10t", "10x10b", "10x10f", "0x0", "99999x99999", "1x1z", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ts, err := files.ParseThumbSpec(s)
		if err != nil {
			if !errors.Is(err, files.ErrNoThumb) {
				t.Fatalf("error %v does not wrap ErrNoThumb", err)
			}
			return
		}
		if ts.Width < 0 || ts.Height < 0 || ts.Width > 99999 || ts.Height > 99999 || (ts.Width == 0 && ts.Height == 0) {
			t.Fatalf("ParseThumbSpec(%q) = %+v", s, ts)
		}
		again, err := files.ParseThumbSpec(ts.String())
		if err != nil || again != ts {
			t.Fatalf("round trip of %q: %+v, %v", s, again, err)
		}
		if _, err := files.ThumbKey("c/r/f.png", ts.String()); err != nil {
			t.Fatalf("ThumbKey with %q: %v", ts, err)
		}
	})
}

// FuzzGenerateThumb feeds arbitrary bytes and sizes to the decoder and the
// resize code: errors are fine, panics and wrong sizes are not.
func FuzzGenerateThumb(f *testing.F) {
	f.Add(encodePNG(f, bands(16, 8, red, green, blue)), uint16(8), uint16(8), uint8(0))
	f.Add(withOrientation(encodeJPEG(f, quadrants(8, 4)), 6), uint16(3), uint16(0), uint8(1))
	f.Add(hugePNG(f, 1<<20, 1<<20), uint16(5), uint16(5), uint8(2))
	var g bytes.Buffer
	_ = gif.Encode(&g, image.NewPaletted(image.Rect(0, 0, 4, 4), color.Palette{red, blue}), nil)
	f.Add(g.Bytes(), uint16(0), uint16(3), uint8(3))
	if webp, err := os.ReadFile("testdata/wide.webp"); err == nil {
		f.Add(webp, uint16(7), uint16(3), uint8(3))
	}
	modes := []byte{0, 't', 'b', 'f'}
	f.Fuzz(func(t *testing.T, data []byte, w, h uint16, mode uint8) {
		spec := files.ThumbSpec{Width: int(w % 200), Height: int(h % 200), Mode: modes[int(mode)%4]}
		out, ct, err := files.GenerateThumb(bytes.NewReader(data), spec, 1<<16, 0)
		if err != nil {
			return
		}
		cfg, _, err := image.DecodeConfig(bytes.NewReader(out))
		if err != nil || (ct != "image/png" && ct != "image/jpeg") {
			t.Fatalf("bad output %q: %v", ct, err)
		}
		if spec.Mode != files.ThumbFit && spec.Width > 0 && spec.Height > 0 && (cfg.Width != spec.Width || cfg.Height != spec.Height) {
			t.Fatalf("spec %v gave %dx%d", spec, cfg.Width, cfg.Height)
		}
	})
}

// hugePNG16 is hugePNG for a 16-bit RGBA image: 8 bytes per pixel decoded.
func hugePNG16(t testing.TB, w, h uint32) []byte {
	data := encodePNG(t, image.NewNRGBA64(image.Rect(0, 0, 1, 1)))
	binary.BigEndian.PutUint32(data[16:], w)
	binary.BigEndian.PutUint32(data[20:], h)
	binary.BigEndian.PutUint32(data[29:], crc32.ChecksumIEEE(data[12:29]))
	return data
}

// TestGenerateThumbDecodeBudget checks that images are budgeted by their
// decoded bytes, not only their pixels: a small file declaring a 16-bit
// RGBA image of 4500×4500 (20 megapixels, under the pixel cap, 162 MB
// decoded) is refused from its header, allocating nothing near that. Not
// parallel: it measures the allocations of the process.
func TestGenerateThumbDecodeBudget(t *testing.T) {
	src := hugePNG16(t, 4500, 4500)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, _, err := files.GenerateThumb(bytes.NewReader(src), spec(t, "100x100"), 0, 0)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, files.ErrNoThumb) {
		t.Errorf("16-bit 4500x4500: %v, want ErrNoThumb", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 16<<20 {
		t.Errorf("refusing a 16-bit 4500x4500 PNG allocated %d MB", n>>20)
	}

	// The same pixels cost twice as much at 16 bits as at 8.
	deep := image.NewNRGBA64(image.Rect(0, 0, 300, 300)) // 720,000 bytes decoded
	flat := image.NewNRGBA(image.Rect(0, 0, 300, 300))   // 360,000
	const budget = 500_000
	if _, _, err := files.GenerateThumb(bytes.NewReader(encodePNG(t, deep)), spec(t, "10x10"), 0, budget); !errors.Is(err, files.ErrNoThumb) {
		t.Errorf("16-bit 300x300 over a %d-byte budget: %v", budget, err)
	}
	if _, _, err := files.GenerateThumb(bytes.NewReader(encodePNG(t, flat)), spec(t, "10x10"), 0, budget); err != nil {
		t.Errorf("8-bit 300x300 within a %d-byte budget: %v", budget, err)
	}
	if _, _, err := files.GenerateThumb(bytes.NewReader(encodeJPEG(t, bands(300, 300, red, green, blue))), spec(t, "10x10"), 0, budget); err != nil {
		t.Errorf("baseline JPEG 300x300 (at most 270,000 bytes) within a %d-byte budget: %v", budget, err)
	}
	// The Thumbnailer applies its MaxDecodeBytes.
	ctx := context.Background()
	st := newLocal(t)
	th := files.NewThumbnailer(st, files.ThumbOptions{MaxDecodeBytes: budget})
	data := encodePNG(t, deep)
	if err := st.Put(ctx, "c/r/deep_abcdefghij.png", bytes.NewReader(data), int64(len(data)), "image/png"); err != nil {
		t.Fatal(err)
	}
	if _, err := th.Thumb(ctx, "c/r/deep_abcdefghij.png", "10x10"); !errors.Is(err, files.ErrNoThumb) {
		t.Errorf("Thumbnailer with a %d-byte budget: %v, want ErrNoThumb", budget, err)
	}
}

// gateStore blocks Open of one key until gate is closed.
type gateStore struct {
	files.Storage
	key  string
	gate chan struct{}
}

func (s *gateStore) Open(ctx context.Context, key string) (*files.Object, error) {
	if key == s.key {
		<-s.gate
	}
	return s.Storage.Open(ctx, key)
}

// TestThumbnailerQueue checks that a generation waiting for a slot gives
// up with the request that started it (nothing is made for requests that
// left), and that another request for the same thumbnail then makes it
// itself.
func TestThumbnailerQueue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := &gateStore{Storage: newLocal(t), key: "c/r/a_abcdefghij.png", gate: make(chan struct{})}
	th := files.NewThumbnailer(st, files.ThumbOptions{MaxConcurrent: 1})
	src := encodePNG(t, bands(80, 40, red, green, blue))
	for _, k := range []string{"c/r/a_abcdefghij.png", "c/r/b_abcdefghij.png"} {
		if err := st.Put(ctx, k, bytes.NewReader(src), int64(len(src)), "image/png"); err != nil {
			t.Fatal(err)
		}
	}
	// a takes the only slot and blocks in Open.
	aDone := make(chan error, 1)
	go func() { _, err := th.Thumb(ctx, "c/r/a_abcdefghij.png", "20x20"); aDone <- err }()
	time.Sleep(50 * time.Millisecond)

	// b queues behind it: its request ends, and it stops waiting.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := th.Thumb(short, "c/r/b_abcdefghij.png", "20x20"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("queued Thumb: %v, want the deadline", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("queued Thumb returned after %v", d)
	}
	// A flight started by a request that leaves, joined by one that stays:
	// the one that stays gets its thumbnail.
	leaving, leave := context.WithCancel(ctx)
	go th.Thumb(leaving, "c/r/b_abcdefghij.png", "30x30")
	time.Sleep(20 * time.Millisecond)
	stayDone := make(chan error, 1)
	go func() { _, err := th.Thumb(ctx, "c/r/b_abcdefghij.png", "30x30"); stayDone <- err }()
	time.Sleep(20 * time.Millisecond)
	leave()
	time.Sleep(20 * time.Millisecond)
	close(st.gate)
	for name, ch := range map[string]chan error{"a": aDone, "b for the request that stayed": stayDone} {
		select {
		case err := <-ch:
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: no answer", name)
		}
	}
	// The 20x20 of b, which nobody waits for any more, is never made: queued
	// work leaves with its requests.
	time.Sleep(100 * time.Millisecond)
	if ok, _ := st.Exists(ctx, "c/r/thumbs_b_abcdefghij.png/20x20_b_abcdefghij.png"); ok {
		t.Error("a thumbnail nobody waited for was made")
	}
}
