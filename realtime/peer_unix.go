//go:build unix

package realtime

import (
	"errors"
	"net"
	"syscall"
)

// peerClosed reports, without blocking, whether the peer of a connection
// that nobody reads has closed or reset it: a non-blocking recv with
// MSG_PEEK returns 0 bytes at the end of the stream, an error after a
// reset, and EAGAIN while the connection is open and quiet. Bytes the
// peer sent anyway (an SSE client sends nothing after its request) are
// read and dropped, so they cannot hide a later end of stream.
func peerClosed(conn net.Conn) bool {
	if tc, ok := conn.(interface{ NetConn() net.Conn }); ok {
		conn = tc.NetConn() // *tls.Conn: look at the TCP connection below
	}
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	closed := false
	err = raw.Read(func(fd uintptr) bool {
		closed = peekClosed(int(fd))
		return true // done: do not wait for the socket to become readable
	})
	// An error here means the connection was closed on our side.
	return closed || err != nil
}

// peekClosed looks at a non-blocking socket; see peerClosed.
func peekClosed(fd int) bool {
	var buf [512]byte
	for range 16 {
		n, _, err := syscall.Recvfrom(fd, buf[:1], syscall.MSG_PEEK)
		if err != nil {
			return !wouldBlock(err)
		}
		if n == 0 {
			return true
		}
		if n, _, err = syscall.Recvfrom(fd, buf[:], 0); err != nil {
			return !wouldBlock(err)
		}
		if n == 0 {
			return true
		}
	}
	return false // a chatty peer: look again at the next check
}

func wouldBlock(err error) bool {
	return errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK) || errors.Is(err, syscall.EINTR)
}
