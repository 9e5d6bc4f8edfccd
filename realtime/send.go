package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// errNotHere: this instance does not hold the client (another may).
var errNotHere = errors.New("realtime: client not on this instance")

// SendToClient delivers one message to one client: a frame
// "event:<topic>" with data on SSE, {"type":"event","topic":..,"data":..}
// on WebSocket, if the client is subscribed to exactly topic (usually a
// custom topic such as "@oauth2"; see Subscription.Custom). No Authorizer
// is involved: the caller decides what the client may receive. data must
// be valid JSON; indented JSON is compacted.
//
// The frame is queued on the client's send buffer like any other, so the
// call never waits for the client; a full buffer disconnects the client
// as a slow consumer and reports ErrUnknownClient. A nil error means the
// frame was queued, not that the client has read it.
//
// When the client is connected to another instance, the message goes over
// the bus and the call waits (Config.BusRequestTimeout) for that
// instance's answer. Errors: ErrUnknownClient when no instance holds the
// client (or it ended meanwhile), ErrNotSubscribed when it is not
// subscribed to topic, ErrClosed and ErrBusUnavailable, and a plain error
// for invalid data or an empty topic.
func (b *Broker) SendToClient(ctx context.Context, clientID, topic string, data json.RawMessage) error {
	if topic == "" {
		return errors.New("realtime: SendToClient needs a topic")
	}
	line, err := sendData(data)
	if err != nil {
		return err
	}
	if clientID == "" {
		return ErrUnknownClient
	}
	err = b.sendLocal(clientID, topic, line)
	if !errors.Is(err, errNotHere) {
		return err
	}
	if b.cfg.Bus == nil {
		return ErrUnknownClient
	}
	reply, err := b.request(ctx, "forward message",
		envelope{Type: msgSend, Client: clientID, Topic: topic, Data: line})
	if err != nil {
		return err
	}
	switch reply.Status {
	case statusOK:
		return nil
	case statusNotSubscribed:
		return ErrNotSubscribed
	case statusGone:
		return &messageError{msg: reply.Message, err: ErrUnknownClient}
	default:
		return fmt.Errorf("realtime: send to a client on instance %s: %s %s", reply.From, reply.Status, reply.Message)
	}
}

// sendData checks SendToClient's data and returns it on one line.
func sendData(data []byte) ([]byte, error) {
	if len(data) == 0 || !json.Valid(data) {
		return nil, errors.New("realtime: SendToClient data must be valid JSON")
	}
	return singleLine(data)
}

// sendLocal queues a frame for a client of this instance. data is valid
// single-line JSON. errNotHere means the client is not on this instance.
func (b *Broker) sendLocal(clientID, topic string, data []byte) error {
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return ErrClosed
	}
	c := b.clients[clientID]
	if c == nil {
		b.mu.RUnlock()
		return errNotHere
	}
	if c.closed() {
		b.mu.RUnlock()
		return ErrUnknownClient // ending; no other instance has it either
	}
	if !slices.ContainsFunc(c.subs, func(s Subscription) bool { return s.Topic == topic }) {
		b.mu.RUnlock()
		return ErrNotSubscribed
	}
	// Queued under the read lock, so a concurrent unsubscribe either
	// happens before the check or after the frame is queued.
	ok := b.push(c, encodeFrame(topic, data, c.kind == kindWS))
	b.mu.RUnlock()
	if !ok {
		b.remove(c, reasonSlow)
		return fmt.Errorf("%w: its send buffer was full and it was disconnected", ErrUnknownClient)
	}
	return nil
}

// handleRemoteSend delivers another instance's SendToClient when the client
// is ours, and answers; instances without the client stay silent, so the
// requester's timeout means "unknown client".
func (b *Broker) handleRemoteSend(env envelope) {
	if env.Client == "" || env.Req == "" {
		return
	}
	b.mu.RLock()
	_, ours := b.clients[env.Client]
	b.mu.RUnlock()
	if !ours {
		return
	}
	reply := envelope{Type: msgSent, Req: env.Req, To: env.From, Status: statusOK}
	data, err := sendData(env.Data)
	if err == nil {
		err = b.sendLocal(env.Client, env.Topic, data)
	}
	switch {
	case errors.Is(err, errNotHere), errors.Is(err, ErrClosed):
		return // gone in the meantime, or shutting down: no answer is "unknown"
	case errors.Is(err, ErrNotSubscribed):
		reply.Status = statusNotSubscribed
	case errors.Is(err, ErrUnknownClient):
		reply.Status, reply.Message = statusGone, err.Error()
	case err != nil:
		reply.Status, reply.Message = statusInvalid, err.Error()
	}
	_ = b.sendBus(reply)
}
