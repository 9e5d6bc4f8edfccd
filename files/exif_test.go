package files

import (
	"encoding/binary"
	"testing"
)

func exifJPEG(order binary.AppendByteOrder, o uint16) []byte {
	var tiff []byte
	if order == binary.LittleEndian {
		tiff = []byte("II*\x00")
	} else {
		tiff = []byte("MM\x00*")
	}
	tiff = order.AppendUint32(tiff, 8)
	tiff = order.AppendUint16(tiff, 2)
	// An unrelated tag first, then Orientation.
	tiff = order.AppendUint16(tiff, 0x010F)
	tiff = order.AppendUint16(tiff, 2)
	tiff = order.AppendUint32(tiff, 4)
	tiff = append(tiff, 'A', 'B', 'C', 0)
	tiff = order.AppendUint16(tiff, 0x0112)
	tiff = order.AppendUint16(tiff, 3)
	tiff = order.AppendUint32(tiff, 1)
	tiff = order.AppendUint16(tiff, o)
	tiff = append(tiff, 0, 0, 0, 0, 0, 0)
	payload := append([]byte("Exif\x00\x00"), tiff...)
	b := []byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00} // SOI, a small APP0
	b = append(b, 0xFF, 0xE1)
	b = binary.BigEndian.AppendUint16(b, uint16(len(payload)+2))
	b = append(b, payload...)
	return append(b, 0xFF, 0xDA, 0x00, 0x02)
}

func TestJPEGOrientation(t *testing.T) {
	t.Parallel()
	for o := uint16(1); o <= 8; o++ {
		for _, order := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} {
			if got := jpegOrientation(exifJPEG(order, o)); got != int(o) {
				t.Errorf("%v orientation %d: got %d", order, o, got)
			}
		}
	}
	for name, b := range map[string][]byte{
		"empty":           nil,
		"not jpeg":        []byte("\x89PNG\r\n\x1a\n"),
		"out of range":    exifJPEG(binary.BigEndian, 9),
		"zero":            exifJPEG(binary.BigEndian, 0),
		"truncated":       exifJPEG(binary.BigEndian, 6)[:30],
		"no exif":         {0xFF, 0xD8, 0xFF, 0xDA, 0, 2},
		"garbage segment": {0xFF, 0xD8, 0x12, 0x34},
	} {
		if got := jpegOrientation(b); got != 1 {
			t.Errorf("%s: %d, want 1", name, got)
		}
	}
}

func FuzzJPEGOrientation(f *testing.F) {
	f.Add(exifJPEG(binary.BigEndian, 6))
	f.Add(exifJPEG(binary.LittleEndian, 3))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x02})
	f.Fuzz(func(t *testing.T, b []byte) {
		if o := jpegOrientation(b); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
	})
}
