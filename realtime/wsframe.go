package realtime

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net/url"
	"path"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// The frame level of the WebSocket protocol (RFC 6455) as the realtime
// server needs it: gobwas/ws parses headers and masks; this file turns
// frames into messages and builds the server's own frames, unmasked and
// whole, so that one event frame is encoded once and written to every
// subscriber with a single write.

// maxWSHeader is the longest header of an unmasked frame.
const maxWSHeader = 10

// appendWSHeader appends the header of a final, unmasked frame of n
// payload bytes.
func appendWSHeader(dst []byte, op ws.OpCode, n int) []byte {
	dst = append(dst, 0x80|byte(op))
	switch {
	case n < 126:
		return append(dst, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(dst, 126), uint16(n))
	default:
		return binary.BigEndian.AppendUint64(append(dst, 127), uint64(n))
	}
}

// wsFrame returns a whole frame carrying p.
func wsFrame(op ws.OpCode, p []byte) []byte {
	return append(appendWSHeader(make([]byte, 0, maxWSHeader+len(p)), op, len(p)), p...)
}

// wsCloseFrame returns a close frame with code and reason (gobwas/ws cuts
// the reason to fit a control frame).
func wsCloseFrame(code ws.StatusCode, reason string) []byte {
	return wsFrame(ws.OpClose, ws.NewCloseFrameBody(code, reason))
}

// wsPingFrame is the server's ping; clients answer with a pong.
var wsPingFrame = wsFrame(ws.OpPing, nil)

// wsProtocolError is a client frame the server must refuse; code is the
// close code that says why.
type wsProtocolError struct {
	code ws.StatusCode
	msg  string
}

func (e *wsProtocolError) Error() string { return "websocket: " + e.msg }

// errWSPeerClosed is the client's close frame (answered by the control
// handler).
var errWSPeerClosed = errors.New("websocket: closed by the peer")

// wsControl handles the control frames that may arrive between (and within)
// messages.
type wsControl interface {
	// onPing answers a ping with a pong carrying p.
	onPing(p []byte) error
	// onPong notes a pong.
	onPong()
	// onClose answers the client's close frame (payload p).
	onClose(p []byte)
}

// readWSMessage reads the next data message from a client: its frames
// reassembled, unmasked and at most limit bytes; control frames on the way
// go to ctl.
func readWSMessage(r *bufio.Reader, limit int64, ctl wsControl) (ws.OpCode, []byte, error) {
	var (
		op  ws.OpCode
		msg []byte
		ctb [125]byte
	)
	for {
		h, err := ws.ReadHeader(r)
		if err != nil {
			return 0, nil, err
		}
		switch {
		case !h.Masked:
			return 0, nil, &wsProtocolError{ws.StatusProtocolError, "unmasked client frame"}
		case h.Rsv != 0:
			return 0, nil, &wsProtocolError{ws.StatusProtocolError, "reserved bits set without an extension"}
		case h.OpCode.IsReserved():
			return 0, nil, &wsProtocolError{ws.StatusProtocolError, "reserved opcode"}
		}
		if h.OpCode.IsControl() {
			if !h.Fin || h.Length > int64(len(ctb)) {
				return 0, nil, &wsProtocolError{ws.StatusProtocolError, "fragmented or oversized control frame"}
			}
			p := ctb[:h.Length]
			if _, err := io.ReadFull(r, p); err != nil {
				return 0, nil, err
			}
			ws.Cipher(p, h.Mask, 0)
			switch h.OpCode {
			case ws.OpPing:
				if err := ctl.onPing(p); err != nil {
					return 0, nil, err
				}
			case ws.OpPong:
				ctl.onPong()
			case ws.OpClose:
				ctl.onClose(p)
				return 0, nil, errWSPeerClosed
			}
			continue
		}
		if (h.OpCode == ws.OpContinuation) != (op != 0) {
			return 0, nil, &wsProtocolError{ws.StatusProtocolError, "unexpected continuation frame"}
		}
		if op == 0 {
			op = h.OpCode
		}
		if int64(len(msg))+h.Length > limit {
			return 0, nil, &wsProtocolError{ws.StatusMessageTooBig, "message too big"}
		}
		n := len(msg)
		msg = slices.Grow(msg, int(h.Length))[:n+int(h.Length)]
		if _, err := io.ReadFull(r, msg[n:]); err != nil {
			return 0, nil, err
		}
		ws.Cipher(msg[n:], h.Mask, 0)
		if h.Fin {
			if op == ws.OpText && !utf8.Valid(msg) {
				return 0, nil, &wsProtocolError{ws.StatusInvalidFramePayloadData, "text message is not UTF-8"}
			}
			return op, msg, nil
		}
	}
}

// wsCloseReply is the answer to a client's close frame with payload p: the
// same status code, or none when the client gave none (RFC 6455 5.5.1).
func wsCloseReply(p []byte) []byte {
	if len(p) < 2 {
		return wsFrame(ws.OpClose, nil)
	}
	code, _ := ws.ParseCloseFrameData(p)
	return wsCloseFrame(code, "")
}

// originAllowed reports whether a WebSocket upgrade may come from the
// request's Origin: none (not a browser), the request's own host, or a
// host matching one of patterns (path.Match, case-insensitive; a pattern
// with "://" matches scheme://host).
func originAllowed(origin, host string, patterns []string) bool {
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, host) {
		return true
	}
	for _, p := range patterns {
		target := u.Host
		if strings.Contains(p, "://") {
			target = u.Scheme + "://" + u.Host
		}
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(target)); ok {
			return true
		}
	}
	return false
}

// wsStatusTryAgainLater (1013, registered after RFC 6455) asks the client
// to reconnect later.
const wsStatusTryAgainLater ws.StatusCode = 1013
