package files

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"math"
	"mime"
	"runtime"
	"strconv"
	"time"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"
	"golang.org/x/sync/semaphore"
	"golang.org/x/sync/singleflight"

	"github.com/plinthdev/plinth/schema"
)

// DefaultThumb is the thumbnail size every file field allows besides its
// own Thumbs, as in PocketBase.
const DefaultThumb = "100x100"

// DefaultMaxPixels caps the pixels of an image that will be decoded for a
// thumbnail (and of a thumbnail): 40 megapixels, which bounds the time of
// a decode. Larger images get no thumbnail, so a small file that declares
// huge dimensions (a decompression bomb) cannot exhaust memory or CPU.
const DefaultMaxPixels = 40_000_000

// DefaultMaxDecodeBytes caps the memory of one decode: width × height ×
// the bytes per pixel of what the decoder builds, known from the header
// before decoding (see decodedBytes): 8 for a 16-bit RGBA PNG, 4 for 8-bit
// RGBA, 3 for a baseline colour JPEG, 15 for a progressive one (its
// coefficients are kept). 128 MiB admits 8-bit RGBA up to 33 megapixels, a
// baseline JPEG up to the pixel cap, a 16-bit PNG up to 16 megapixels, a
// progressive colour JPEG up to 8.9 megapixels.
const DefaultMaxDecodeBytes = 128 << 20

// ErrNoThumb is returned (wrapped) when no thumbnail can be made for a file:
// not a supported image (JPEG, PNG, GIF, WebP), a bad thumb spec, an image
// too large to decode, or a corrupt one. PocketBase then serves the
// original file, and so should the caller.
var ErrNoThumb = errors.New("files: no thumbnail")

// Thumb modes, the letter after "WxH".
const (
	ThumbCenter byte = 0   // WxH: resize to cover WxH, crop from the center
	ThumbTop    byte = 't' // WxHt: crop from the top
	ThumbBottom byte = 'b' // WxHb: crop from the bottom
	ThumbFit    byte = 'f' // WxHf: fit inside WxH, no crop, never enlarged
)

// ThumbSpec is a parsed thumbnail size. A zero Width or Height keeps the
// aspect ratio (Mode is then irrelevant).
type ThumbSpec struct {
	Width, Height int
	Mode          byte
}

// ParseThumbSpec parses "WxH", "WxHt", "WxHb", "WxHf", "0xH" or "Wx0"
// (schema.ParseThumb's grammar: up to 5 digits each, not both zero).
func ParseThumbSpec(s string) (ThumbSpec, error) {
	w, h, mode, ok := schema.ParseThumb(s)
	if !ok {
		return ThumbSpec{}, fmt.Errorf("%w: invalid thumb %q", ErrNoThumb, truncate(s, 40))
	}
	return ThumbSpec{Width: w, Height: h, Mode: mode}, nil
}

// String returns the canonical form, used in thumbnail keys.
func (t ThumbSpec) String() string {
	s := strconv.Itoa(t.Width) + "x" + strconv.Itoa(t.Height)
	if t.Mode != 0 {
		s += string(rune(t.Mode))
	}
	return s
}

// AllowedThumb reports whether spec may be requested for a file of a field
// with these options: one of the field's Thumbs, or [DefaultThumb]. Like
// PocketBase, a request for another size gets the original file.
func AllowedThumb(opts *schema.FileOptions, spec string) bool {
	if _, err := ParseThumbSpec(spec); err != nil {
		return false
	}
	return spec == DefaultThumb || (opts != nil && opts.HasThumb(spec))
}

// IsThumbable reports whether a file of this content type can have
// thumbnails: JPEG, PNG, GIF (first frame) and WebP. SVG is not rendered.
func IsThumbable(contentType string) bool {
	_, ok := imageFormatOf(contentType)
	return ok
}

type imageFormat int

const (
	formatJPEG imageFormat = iota + 1
	formatPNG
	formatGIF
	formatWebP
)

func imageFormatOf(contentType string) (imageFormat, bool) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return 0, false
	}
	switch mt {
	case "image/jpeg":
		return formatJPEG, true
	case "image/png":
		return formatPNG, true
	case "image/gif":
		return formatGIF, true
	case "image/webp":
		return formatWebP, true
	}
	return 0, false
}

// sniffImageFormat identifies the format by its magic bytes, so decoding
// never trusts a stored content type.
func sniffImageFormat(head []byte) (imageFormat, bool) {
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		return formatJPEG, true
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return formatPNG, true
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")):
		return formatGIF, true
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return formatWebP, true
	}
	return 0, false
}

// exifScanLimit is how much of a JPEG's start is searched for the EXIF
// orientation (an APP1 segment is at most 64 KiB and comes first).
const exifScanLimit = 128 << 10

// GenerateThumb makes a thumbnail of the image in r. It returns the encoded
// thumbnail and its content type: JPEG for a JPEG original (quality 85),
// PNG otherwise (GIF and WebP included: PNG keeps transparency and needs
// no palette). JPEG EXIF orientation is applied first, as PocketBase does.
// Images over maxPixels (0: [DefaultMaxPixels]) or whose decoded form
// would take more than maxDecodeBytes (0: [DefaultMaxDecodeBytes]) are
// refused from their header, before decoding. Errors about the image wrap
// [ErrNoThumb].
func GenerateThumb(r io.ReadSeeker, spec ThumbSpec, maxPixels, maxDecodeBytes int64) ([]byte, string, error) {
	img, err := probeImage(r, spec, maxPixels, maxDecodeBytes)
	if err != nil {
		return nil, "", err
	}
	return img.thumb(r, spec)
}

// probedImage is what an image's header tells before it is decoded.
type probedImage struct {
	format      imageFormat
	orientation int
	width       int
	height      int
	// decodeBytes is the memory decoding it takes (decodedBytes).
	decodeBytes int64
	maxPixels   int64
}

// probeImage reads the header of the image in r and checks it against the
// limits (0: the defaults); r is read from its start.
func probeImage(r io.ReadSeeker, spec ThumbSpec, maxPixels, maxDecodeBytes int64) (*probedImage, error) {
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	if maxDecodeBytes <= 0 {
		maxDecodeBytes = DefaultMaxDecodeBytes
	}
	if spec.Width < 0 || spec.Height < 0 || (spec.Width == 0 && spec.Height == 0) {
		return nil, fmt.Errorf("%w: invalid size %dx%d", ErrNoThumb, spec.Width, spec.Height)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("files: thumb: seek: %w", err)
	}
	head, err := io.ReadAll(io.LimitReader(r, exifScanLimit))
	if err != nil {
		return nil, fmt.Errorf("files: thumb: read: %w", err)
	}
	format, ok := sniffImageFormat(head)
	if !ok {
		return nil, fmt.Errorf("%w: not a JPEG, PNG, GIF or WebP image", ErrNoThumb)
	}
	orientation := 1
	if format == formatJPEG {
		orientation = jpegOrientation(head)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("files: thumb: seek: %w", err)
	}
	cfg, err := decodeConfig(format, r)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoThumb, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > maxPixels {
		return nil, fmt.Errorf("%w: image of %dx%d pixels exceeds the limit of %d", ErrNoThumb, cfg.Width, cfg.Height, maxPixels)
	}
	n := decodedBytes(format, cfg, head)
	if n > maxDecodeBytes {
		return nil, fmt.Errorf("%w: decoding the %dx%d image would take %d bytes, over the limit of %d", ErrNoThumb, cfg.Width, cfg.Height, n, maxDecodeBytes)
	}
	return &probedImage{format: format, orientation: orientation, width: cfg.Width, height: cfg.Height, decodeBytes: n, maxPixels: maxPixels}, nil
}

// decodedBytes is the memory that decoding an image with this header
// takes: width × height × bits per pixel of the image the decoder builds,
// over 8. Where the header leaves a choice open, the largest is assumed
// (JPEG 4:4:4 chroma; a JPEG whose frame header is not in head counts as
// progressive), and an unknown colour model as 16-bit RGBA.
func decodedBytes(f imageFormat, cfg image.Config, head []byte) int64 {
	var bits int64
	switch m := cfg.ColorModel; m {
	case color.RGBA64Model, color.NRGBA64Model:
		bits = 64
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel, color.NYCbCrAModel:
		bits = 32
	case color.YCbCrModel:
		bits = 24
	case color.Gray16Model, color.Alpha16Model:
		bits = 16
	case color.GrayModel, color.AlphaModel:
		bits = 8
	default:
		if _, ok := m.(color.Palette); ok {
			bits = 8
		} else {
			bits = 64
		}
	}
	if f == formatJPEG && jpegProgressive(head) {
		// image/jpeg keeps every coefficient of a progressive image until
		// its last scan: a [64]int32 block per 8×8 pixels and component,
		// 32 bits per pixel and component at full resolution.
		bits += 32 * (bits / 8)
	}
	return int64(cfg.Width) * int64(cfg.Height) * bits / 8
}

// jpegProgressive reports whether the JPEG starting with b is progressive
// (SOF2), or its frame header is not within b: then it may be.
func jpegProgressive(b []byte) bool {
	i := 2
	for i+4 <= len(b) {
		if b[i] != 0xFF {
			return true
		}
		marker := b[i+1]
		switch {
		case marker == 0xFF:
			i++
			continue
		case marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7):
			i += 2
			continue
		case marker == 0xC0 || marker == 0xC1:
			return false
		case marker == 0xC2 || marker == 0xDA || marker == 0xD9:
			return true
		}
		n := int(b[i+2])<<8 | int(b[i+3])
		if n < 2 {
			return true
		}
		i += 2 + n
	}
	return true
}

// thumb decodes the probed image from r and makes the spec's thumbnail.
func (img *probedImage) thumb(r io.ReadSeeker, spec ThumbSpec) ([]byte, string, error) {
	format, orientation, maxPixels := img.format, img.orientation, img.maxPixels
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, "", fmt.Errorf("files: thumb: seek: %w", err)
	}
	src, err := decode(format, r)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrNoThumb, err)
	}

	dst, err := resize(src, orientation, spec, maxPixels)
	if err != nil {
		return nil, "", err
	}
	var buf bytes.Buffer
	if format == formatJPEG {
		if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 85}); err != nil {
			return nil, "", fmt.Errorf("files: thumb: encode: %w", err)
		}
		return buf.Bytes(), "image/jpeg", nil
	}
	if err := png.Encode(&buf, dst); err != nil {
		return nil, "", fmt.Errorf("files: thumb: encode: %w", err)
	}
	return buf.Bytes(), "image/png", nil
}

func decodeConfig(f imageFormat, r io.Reader) (image.Config, error) {
	switch f {
	case formatJPEG:
		return jpeg.DecodeConfig(r)
	case formatPNG:
		return png.DecodeConfig(r)
	case formatGIF:
		return gif.DecodeConfig(r)
	default:
		return webp.DecodeConfig(r)
	}
}

func decode(f imageFormat, r io.Reader) (image.Image, error) {
	switch f {
	case formatJPEG:
		return jpeg.Decode(r)
	case formatPNG:
		return png.Decode(r)
	case formatGIF:
		// gif.Decode stops after the first frame, so an animation's other
		// frames are never decoded.
		return gif.Decode(r)
	default:
		return webp.Decode(r)
	}
}

// resize computes the thumbnail of src as displayed (after the EXIF
// orientation), scaling only the part of the source that survives the
// crop, then orients the small result (cheap) rather than the original.
func resize(src image.Image, orientation int, spec ThumbSpec, maxPixels int64) (*image.RGBA, error) {
	b := src.Bounds()
	sw, sh := b.Dx(), b.Dy()
	// Displayed (oriented) size.
	ow, oh := sw, sh
	if orientation >= 5 {
		ow, oh = sh, sw
	}
	crop := image.Rect(0, 0, ow, oh) // in displayed coordinates
	var dw, dh int
	switch {
	case spec.Width == 0:
		dh = spec.Height
		dw = scaleDim(ow, spec.Height, oh)
	case spec.Height == 0:
		dw = spec.Width
		dh = scaleDim(oh, spec.Width, ow)
	case spec.Mode == ThumbFit:
		if ow <= spec.Width && oh <= spec.Height {
			dw, dh = ow, oh
		} else if int64(ow)*int64(spec.Height) > int64(oh)*int64(spec.Width) { // wider than the box
			dw = spec.Width
			dh = scaleDim(oh, spec.Width, ow)
		} else {
			dh = spec.Height
			dw = scaleDim(ow, spec.Height, oh)
		}
	default:
		dw, dh = spec.Width, spec.Height
		// The largest rectangle of the thumb's aspect ratio inside the
		// image: centred across, and along the cut axis at the mode's
		// anchor. Products in int64: dimensions go up to 99999.
		if int64(ow)*int64(dh) > int64(oh)*int64(dw) { // wider: cut the sides
			cw := max(1, int(math.Round(float64(oh)*float64(dw)/float64(dh))))
			x0 := (ow - cw) / 2
			crop = image.Rect(x0, 0, x0+cw, oh)
		} else { // taller: cut top and/or bottom
			ch := max(1, int(math.Round(float64(ow)*float64(dh)/float64(dw))))
			y0 := (oh - ch) / 2
			switch spec.Mode {
			case ThumbTop:
				y0 = 0
			case ThumbBottom:
				y0 = oh - ch
			}
			crop = image.Rect(0, y0, ow, y0+ch)
		}
	}
	if dw <= 0 || dh <= 0 || int64(dw)*int64(dh) > maxPixels {
		return nil, fmt.Errorf("%w: thumbnail of %dx%d pixels exceeds the limit", ErrNoThumb, dw, dh)
	}

	sr := unorientRect(orientation, crop, sw, sh).Add(b.Min)
	tw, th := dw, dh
	if orientation >= 5 {
		tw, th = dh, dw
	}
	tmp := image.NewRGBA(image.Rect(0, 0, tw, th))
	// Catmull-Rom: sharp, no ringing worth noting, pure Go; fast enough at
	// thumbnail sizes since the cost follows the output more than the input.
	draw.CatmullRom.Scale(tmp, tmp.Bounds(), src, sr, draw.Src, nil)
	return orient(tmp, orientation), nil
}

// scaleDim returns round(a*num/den), at least 1.
func scaleDim(a, num, den int) int {
	return max(1, int(math.Round(float64(a)*float64(num)/float64(den))))
}

// unorientRect maps a rectangle of the displayed image back to the stored
// (unrotated) image of size sw×sh, for EXIF orientations 1–8.
func unorientRect(o int, r image.Rectangle, sw, sh int) image.Rectangle {
	x0, y0, x1, y1 := r.Min.X, r.Min.Y, r.Max.X, r.Max.Y
	switch o {
	case 2: // mirrored horizontally
		return image.Rect(sw-x1, y0, sw-x0, y1)
	case 3: // rotated 180°
		return image.Rect(sw-x1, sh-y1, sw-x0, sh-y0)
	case 4: // mirrored vertically
		return image.Rect(x0, sh-y1, x1, sh-y0)
	case 5: // transposed
		return image.Rect(y0, x0, y1, x1)
	case 6: // displayed rotated 90° clockwise
		return image.Rect(y0, sh-x1, y1, sh-x0)
	case 7: // transversed
		return image.Rect(sw-y1, sh-x1, sw-y0, sh-x0)
	case 8: // displayed rotated 90° counter-clockwise
		return image.Rect(sw-y1, x0, sw-y0, x1)
	}
	return r
}

// orient turns a stored-orientation image into its displayed form.
func orient(src *image.RGBA, o int) *image.RGBA {
	if o < 2 || o > 8 {
		return src
	}
	w, h := src.Rect.Dx(), src.Rect.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := range h {
		for x := range w {
			var dx, dy int
			switch o {
			case 2:
				dx, dy = w-1-x, y
			case 3:
				dx, dy = w-1-x, h-1-y
			case 4:
				dx, dy = x, h-1-y
			case 5:
				dx, dy = y, x
			case 6:
				dx, dy = h-1-y, x
			case 7:
				dx, dy = h-1-y, w-1-x
			case 8:
				dx, dy = y, w-1-x
			}
			si := src.PixOffset(x, y)
			di := dst.PixOffset(dx, dy)
			copy(dst.Pix[di:di+4], src.Pix[si:si+4])
		}
	}
	return dst
}

// ThumbOptions tune a [Thumbnailer]. The zero value is usable.
type ThumbOptions struct {
	// MaxPixels caps the pixels of an original (0: DefaultMaxPixels).
	MaxPixels int64
	// MaxDecodeBytes caps the memory of decoding one original (0:
	// DefaultMaxDecodeBytes); see GenerateThumb.
	MaxDecodeBytes int64
	// MaxConcurrent bounds how many thumbnails are made at once, a CPU
	// bound (0: GOMAXPROCS, between 1 and 4).
	MaxConcurrent int
	// DecodeMemory bounds the decode memory of all the thumbnails being
	// made at once (0: twice MaxDecodeBytes; never less than it): a
	// generation waits until its original's decode fits.
	DecodeMemory int64
	// Timeout bounds one generation, which runs on even if the request
	// that started it goes away (0: one minute).
	Timeout time.Duration
	// Logger receives generation failures (nil: slog.Default()).
	Logger *slog.Logger
}

// Thumbnailer makes thumbnails on demand and caches them in the storage
// under [ThumbKey]. A thumbnail is made once; it is made again when the
// original's ModTime is newer than the thumbnail's. Concurrent requests
// for the same thumbnail share one generation.
type Thumbnailer struct {
	st      Storage
	opts    ThumbOptions
	group   singleflight.Group
	slots   chan struct{}
	memory  *semaphore.Weighted
	timeout time.Duration
	log     *slog.Logger
}

// NewThumbnailer returns a Thumbnailer over st.
func NewThumbnailer(st Storage, opts ThumbOptions) *Thumbnailer {
	if opts.MaxPixels <= 0 {
		opts.MaxPixels = DefaultMaxPixels
	}
	if opts.MaxDecodeBytes <= 0 {
		opts.MaxDecodeBytes = DefaultMaxDecodeBytes
	}
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = min(max(runtime.GOMAXPROCS(0), 1), 4)
	}
	if opts.DecodeMemory <= 0 {
		opts.DecodeMemory = 2 * opts.MaxDecodeBytes
	}
	opts.DecodeMemory = max(opts.DecodeMemory, opts.MaxDecodeBytes)
	if opts.Timeout <= 0 {
		opts.Timeout = time.Minute
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Thumbnailer{st: st, opts: opts, slots: make(chan struct{}, opts.MaxConcurrent), memory: semaphore.NewWeighted(opts.DecodeMemory), timeout: opts.Timeout, log: log}
}

// Thumb returns the key of the spec's thumbnail of the original, making it
// first if needed; serve it with [Serve]. The caller checks [AllowedThumb]
// first. Errors: [ErrNotFound] for a missing original, [ErrNoThumb] when no
// thumbnail can be made (serve the original), the context's error, or a
// storage error.
func (t *Thumbnailer) Thumb(ctx context.Context, originalKey, spec string) (string, error) {
	ts, err := ParseThumbSpec(spec)
	if err != nil {
		return "", err
	}
	thumbKey, err := ThumbKey(originalKey, ts.String())
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrNoThumb, err)
	}
	fresh, err := t.fresh(ctx, originalKey, thumbKey)
	if err != nil || fresh {
		return thumbKey, err
	}
	for {
		ch := t.group.DoChan(thumbKey, func() (any, error) {
			// The wait for a slot and for decode memory ends with the
			// request that started the flight; the work itself is
			// detached from it: the others share the result, and a
			// finished thumbnail is worth keeping anyway.
			gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.timeout)
			defer cancel()
			return nil, t.generate(ctx, gctx, originalKey, thumbKey, ts)
		})
		select {
		case res := <-ch:
			if errors.Is(res.Err, errStarterGone) && ctx.Err() == nil {
				continue // joined a flight whose starter left while it queued
			}
			if res.Err != nil {
				return "", res.Err
			}
			return thumbKey, nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// errStarterGone ends a generation whose starting request went away while
// it waited for a slot or for decode memory.
var errStarterGone = errors.New("files: thumbnail request gone while queued")

// fresh reports whether the thumbnail exists and is not older than the
// original. It fails for a missing original or a non-image.
func (t *Thumbnailer) fresh(ctx context.Context, originalKey, thumbKey string) (bool, error) {
	orig, err := t.st.Attributes(ctx, originalKey)
	if err != nil {
		return false, err
	}
	if !IsThumbable(orig.ContentType) {
		return false, fmt.Errorf("%w: %s is %s", ErrNoThumb, originalKey, orig.ContentType)
	}
	th, err := t.st.Attributes(ctx, thumbKey)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return !orig.ModTime.After(th.ModTime), nil
}

// generate makes one thumbnail. It waits for a slot, then for its
// original's decode memory, as long as wait lasts; it works under ctx.
func (t *Thumbnailer) generate(wait, ctx context.Context, originalKey, thumbKey string, spec ThumbSpec) error {
	select {
	case t.slots <- struct{}{}:
		defer func() { <-t.slots }()
	case <-wait.Done():
		return fmt.Errorf("%w: %w", errStarterGone, wait.Err())
	}
	// Another flight may have finished it while this one waited.
	if fresh, err := t.fresh(ctx, originalKey, thumbKey); err != nil || fresh {
		return err
	}
	obj, err := t.st.Open(ctx, originalKey)
	if err != nil {
		return err
	}
	defer obj.Close()
	img, err := probeImage(obj, spec, t.opts.MaxPixels, t.opts.MaxDecodeBytes)
	if err != nil {
		t.log.Warn("files: thumbnail failed", "key", originalKey, "thumb", spec.String(), "err", err)
		return err
	}
	if err := t.memory.Acquire(wait, img.decodeBytes); err != nil {
		return fmt.Errorf("%w: %w", errStarterGone, err)
	}
	data, ct, err := img.thumb(obj, spec)
	t.memory.Release(img.decodeBytes)
	if err != nil {
		t.log.Warn("files: thumbnail failed", "key", originalKey, "thumb", spec.String(), "err", err)
		return err
	}
	if err := t.st.Put(ctx, thumbKey, bytes.NewReader(data), int64(len(data)), ct); err != nil {
		return fmt.Errorf("files: store thumbnail: %w", err)
	}
	return nil
}
