package realtime

import (
	"bufio"
	"bytes"
	"errors"
	"testing"

	"github.com/gobwas/ws"
)

// recordingControl notes the control frames readWSMessage hands over.
type recordingControl struct {
	pings  [][]byte
	pongs  int
	closes [][]byte
}

func (c *recordingControl) onPing(p []byte) error {
	c.pings = append(c.pings, bytes.Clone(p))
	return nil
}
func (c *recordingControl) onPong()          { c.pongs++ }
func (c *recordingControl) onClose(p []byte) { c.closes = append(c.closes, bytes.Clone(p)) }

// clientFrame is a frame as a client sends it: masked.
func clientFrame(op ws.OpCode, fin bool, p string) []byte {
	f := ws.MaskFrameInPlace(ws.NewFrame(op, fin, []byte(p)))
	return ws.MustCompileFrame(f)
}

func TestReadWSMessage(t *testing.T) {
	t.Parallel()
	cat := func(frames ...[]byte) []byte { return bytes.Join(frames, nil) }
	unmasked := ws.MustCompileFrame(ws.NewTextFrame([]byte("hi")))
	rsv := clientFrame(ws.OpText, true, "hi")
	rsv[0] |= 0x40
	tests := []struct {
		name   string
		in     []byte
		op     ws.OpCode
		msg    string
		code   ws.StatusCode // protocol error expected
		closed bool          // the peer's close frame expected
		pings  int
		pongs  int
	}{
		{name: "text", in: clientFrame(ws.OpText, true, `{"type":"ping"}`), op: ws.OpText, msg: `{"type":"ping"}`},
		{name: "binary", in: clientFrame(ws.OpBinary, true, "\x00\x01"), op: ws.OpBinary, msg: "\x00\x01"},
		{name: "fragments with control frames between",
			in: cat(clientFrame(ws.OpText, false, "he"), clientFrame(ws.OpPing, true, "p"), clientFrame(ws.OpContinuation, false, "ll"),
				clientFrame(ws.OpPong, true, ""), clientFrame(ws.OpContinuation, true, "o")),
			op: ws.OpText, msg: "hello", pings: 1, pongs: 1},
		{name: "exactly the limit", in: clientFrame(ws.OpText, true, "0123456789abcdef"), op: ws.OpText, msg: "0123456789abcdef"},
		{name: "over the limit", in: clientFrame(ws.OpText, true, "0123456789abcdefg"), code: ws.StatusMessageTooBig},
		{name: "over the limit across fragments", in: cat(clientFrame(ws.OpText, false, "0123456789"), clientFrame(ws.OpContinuation, true, "abcdefg")), code: ws.StatusMessageTooBig},
		{name: "unmasked", in: unmasked, code: ws.StatusProtocolError},
		{name: "reserved bits", in: rsv, code: ws.StatusProtocolError},
		{name: "reserved opcode", in: clientFrame(ws.OpCode(0x3), true, "x"), code: ws.StatusProtocolError},
		{name: "continuation first", in: clientFrame(ws.OpContinuation, true, "x"), code: ws.StatusProtocolError},
		{name: "new message inside a fragmented one", in: cat(clientFrame(ws.OpText, false, "a"), clientFrame(ws.OpText, true, "b")), code: ws.StatusProtocolError},
		{name: "fragmented control frame", in: clientFrame(ws.OpPing, false, "x"), code: ws.StatusProtocolError},
		{name: "invalid UTF-8", in: clientFrame(ws.OpText, true, "\xff\xfe"), code: ws.StatusInvalidFramePayloadData},
		{name: "close", in: clientFrame(ws.OpClose, true, string(ws.NewCloseFrameBody(ws.StatusNormalClosure, "bye"))), closed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctl := &recordingControl{}
			op, msg, err := readWSMessage(bufio.NewReader(bytes.NewReader(tt.in)), 16, ctl)
			pe, isProto := errors.AsType[*wsProtocolError](err)
			switch {
			case tt.code != 0:
				if !isProto || pe.code != tt.code {
					t.Fatalf("err %v, want a protocol error with code %d", err, tt.code)
				}
			case tt.closed:
				if !errors.Is(err, errWSPeerClosed) || len(ctl.closes) != 1 {
					t.Fatalf("err %v, closes %d", err, len(ctl.closes))
				}
			case err != nil:
				t.Fatal(err)
			case op != tt.op || string(msg) != tt.msg:
				t.Fatalf("got %v %q, want %v %q", op, msg, tt.op, tt.msg)
			}
			if len(ctl.pings) != tt.pings || ctl.pongs != tt.pongs {
				t.Fatalf("pings %d pongs %d", len(ctl.pings), ctl.pongs)
			}
		})
	}
}

// TestWSFrameEncoding checks the server's frames decode as RFC 6455
// frames, across the three payload length forms.
func TestWSFrameEncoding(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 125, 126, 0xffff, 0x10000} {
		p := bytes.Repeat([]byte{'x'}, n)
		f, err := ws.ReadFrame(bytes.NewReader(wsFrame(ws.OpText, p)))
		if err != nil || !f.Header.Fin || f.Header.Masked || f.Header.OpCode != ws.OpText || !bytes.Equal(f.Payload, p) {
			t.Fatalf("%d bytes: %+v %v", n, f.Header, err)
		}
	}
	code, reason := ws.ParseCloseFrameData(wsCloseReply(ws.NewCloseFrameBody(ws.StatusGoingAway, "later"))[2:])
	if code != ws.StatusGoingAway || reason != "" {
		t.Fatalf("close reply %d %q", code, reason)
	}
	if got := wsCloseReply(nil); !bytes.Equal(got, []byte{0x88, 0}) {
		t.Fatalf("close reply to an empty close %x", got)
	}
}

func TestOriginAllowed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		origin, host string
		patterns     []string
		want         bool
	}{
		{"", "api.example.com", nil, true},
		{"https://api.example.com", "api.example.com", nil, true},
		{"https://API.example.com", "api.example.com", nil, true},
		{"https://evil.example", "api.example.com", nil, false},
		{"https://app.example.com", "api.example.com", []string{"*.example.com"}, true},
		{"https://example.org", "api.example.com", []string{"*.example.com"}, false},
		{"http://app.example.com", "api.example.com", []string{"https://*.example.com"}, false},
		{"https://app.example.com", "api.example.com", []string{"https://*.example.com"}, true},
		{"null", "api.example.com", []string{"*"}, false},
		{"::not a url", "api.example.com", []string{"*"}, false},
	}
	for _, tt := range tests {
		if got := originAllowed(tt.origin, tt.host, tt.patterns); got != tt.want {
			t.Errorf("originAllowed(%q, %q, %q) = %v", tt.origin, tt.host, tt.patterns, got)
		}
	}
}

// FuzzReadWSMessage: any bytes from a client end in a message within the
// limit or an error, never a panic or an oversized allocation.
func FuzzReadWSMessage(f *testing.F) {
	f.Add(clientFrame(ws.OpText, true, `{"type":"subscribe"}`))
	f.Add(append(clientFrame(ws.OpText, false, "a"), clientFrame(ws.OpContinuation, true, "b")...))
	f.Add(clientFrame(ws.OpPing, true, "x"))
	f.Add([]byte{0x81, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bufio.NewReader(bytes.NewReader(in))
		for {
			_, msg, err := readWSMessage(r, 64, &recordingControl{})
			if err != nil {
				return
			}
			if len(msg) > 64 {
				t.Fatalf("message of %d bytes over the limit", len(msg))
			}
		}
	})
}
