package realtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Default limits on what a client may subscribe to. They match PocketBase's
// validation of the subscribe form (at most 1000 subscriptions of at most
// 2500 characters each).
const (
	DefaultMaxSubscriptions = 1000
	DefaultMaxTopicLength   = 2500
	// DefaultMaxOptionSets bounds the distinct options (filter, expand,
	// fields, headers) among one client's subscriptions. Each distinct set
	// is one more rule and filter query per matching write, so without a
	// bound one client could make every write run a thousand queries.
	DefaultMaxOptionSets = 16
)

// MaxCustomTopicLength bounds the name of a custom topic (see
// Subscription.Custom), its options excluded.
const MaxCustomTopicLength = 100

// ErrInvalidSubscription is wrapped by every error about a malformed
// subscription request: a bad topic, bad options, or too many topics. The
// HTTP layer answers it with 400 and the error's message.
var ErrInvalidSubscription = errors.New("invalid subscription")

// Subscription is one parsed topic a client listens to: a record topic
// ("collection/*" or "collection/RECORDID") or a custom topic.
type Subscription struct {
	// Topic is the raw topic string as the client sent it. It is the SSE
	// event name (and the WebSocket "topic") of the frames it produces, so
	// the SDK can route them back to the right callback.
	Topic string
	// Custom marks a custom topic: a name without "/" (for example
	// "@oauth2", which the PocketBase SDK's OAuth2 popup flow listens on).
	// Record events never match it; only Broker.SendToClient delivers to
	// it. Collection and RecordID are then empty.
	Custom bool
	// Collection is the collection name or id before the slash; empty for
	// a custom topic.
	Collection string
	// RecordID is "*" for every record of the collection, or one record
	// id; empty for a custom topic.
	RecordID string
	// Query holds the options' "query" values (for example filter, expand,
	// fields), each rendered as a string. Nil when there are none.
	Query map[string]string
	// Headers holds the options' "headers" values. Nil when there are none.
	Headers map[string]string

	// optKey is a canonical encoding of Query and Headers, so that two
	// subscriptions whose options differ only in key order share one
	// Authorizer call.
	optKey string
}

// Wildcard reports whether the subscription covers every record of the
// collection ("collection/*"), in which case PocketBase applies the list
// rule rather than the view rule. It is false for a custom topic.
func (s Subscription) Wildcard() bool { return !s.Custom && s.RecordID == "*" }

// ParseTopic parses one topic: "collection/*" or "collection/RECORDID", or
// a custom topic: a name without "/" matching @?[A-Za-z0-9_.:-]{1,100}
// (such as "@oauth2"). Either may be followed by
// "?options=<url-encoded JSON>" where the JSON is
// {"query":{k:v},"headers":{k:v}} with scalar values. maxLen <= 0 means
// DefaultMaxTopicLength. Errors wrap ErrInvalidSubscription.
func ParseTopic(topic string, maxLen int) (Subscription, error) {
	if maxLen <= 0 {
		maxLen = DefaultMaxTopicLength
	}
	bad := func(format string, args ...any) (Subscription, error) {
		shown := topic
		if len(shown) > 100 {
			shown = shown[:100] + "..."
		}
		return Subscription{}, fmt.Errorf("%w %q: %s", ErrInvalidSubscription, shown, fmt.Sprintf(format, args...))
	}
	if len(topic) > maxLen {
		return bad("topic longer than %d bytes", maxLen)
	}
	if !utf8.ValidString(topic) {
		return bad("topic is not valid UTF-8")
	}
	// The topic becomes an SSE "event:" line, so a line break in it would
	// let a client forge frames; any control character is refused.
	if i := strings.IndexFunc(topic, func(r rune) bool { return r < 0x20 || r == 0x7f }); i >= 0 {
		return bad("topic contains a control character")
	}
	path, rawQuery, hasQuery := strings.Cut(topic, "?")
	var sub Subscription
	if collection, record, ok := strings.Cut(path, "/"); ok {
		if !validCollection(collection) {
			return bad("collection must be a non-empty name or id of letters, digits and underscores")
		}
		if !validRecordID(record) {
			return bad(`record must be "*" or a record id without "/", spaces or "*"`)
		}
		sub = Subscription{Topic: topic, Collection: collection, RecordID: record}
	} else {
		if !validCustomTopic(path) {
			return bad(`topic must be "collection/*", "collection/recordId" or a custom topic of 1 to %d letters, digits, "_", ".", ":" or "-", optionally after "@"`, MaxCustomTopicLength)
		}
		sub = Subscription{Topic: topic, Custom: true}
	}
	if hasQuery {
		values, err := url.ParseQuery(rawQuery)
		if err != nil {
			return bad("malformed query string: %v", err)
		}
		if raw := values.Get("options"); raw != "" {
			if err := sub.parseOptions(raw); err != nil {
				return bad("invalid options: %v", err)
			}
		}
	}
	sub.optKey = optionsKey(sub.Query, sub.Headers)
	return sub, nil
}

// ParseTopics parses a whole subscription list. Empty strings are skipped
// and repeated topics are kept once, as in PocketBase, whose client keeps
// its subscriptions in a map keyed by topic. maxCount and maxLen <= 0 mean
// the defaults.
//
// maxOptionSets bounds the distinct options among them (see
// DefaultMaxOptionSets); 0 or less selects the defaults.
func ParseTopics(topics []string, maxCount, maxLen, maxOptionSets int) ([]Subscription, error) {
	if maxCount <= 0 {
		maxCount = DefaultMaxSubscriptions
	}
	if maxOptionSets <= 0 {
		maxOptionSets = DefaultMaxOptionSets
	}
	if len(topics) > maxCount {
		return nil, fmt.Errorf("%w: %d subscriptions, at most %d allowed", ErrInvalidSubscription, len(topics), maxCount)
	}
	subs := make([]Subscription, 0, len(topics))
	seen := make(map[string]struct{}, len(topics))
	for _, t := range topics {
		if t == "" {
			continue
		}
		if _, dup := seen[t]; dup {
			continue
		}
		seen[t] = struct{}{}
		s, err := ParseTopic(t, maxLen)
		if err != nil {
			return nil, err
		}
		subs = append(subs, s)
	}
	sets := make(map[string]struct{})
	for _, s := range subs {
		if s.optKey == "" {
			continue
		}
		if sets[s.optKey] = struct{}{}; len(sets) > maxOptionSets {
			return nil, fmt.Errorf("%w: more than %d distinct subscription options (filters, expands, fields)", ErrInvalidSubscription, maxOptionSets)
		}
	}
	return subs, nil
}

func validCollection(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// validCustomTopic reports whether s matches @?[A-Za-z0-9_.:-]{1,100}.
func validCustomTopic(s string) bool {
	s = strings.TrimPrefix(s, "@")
	if s == "" || len(s) > MaxCustomTopicLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c == '.' || c == ':' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// validRecordID accepts "*" or any id without separators: PocketBase lets a
// collection define its own id pattern, so only characters that would make
// the topic ambiguous are refused.
func validRecordID(s string) bool {
	if s == "*" {
		return true
	}
	return s != "" && !strings.ContainsAny(s, "/*? \t#")
}

// parseOptions decodes {"query":{...},"headers":{...}}. Values may be
// strings, numbers, booleans or null (rendered as PocketBase's cast.ToString
// would: numbers as written, booleans as true/false, null as ""); objects
// and arrays are refused because rules only ever see strings there.
func (s *Subscription) parseOptions(raw string) error {
	// Unknown keys are ignored so a newer SDK adding one does not break.
	var opts struct {
		Query   map[string]json.RawMessage `json:"query"`
		Headers map[string]json.RawMessage `json:"headers"`
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	if err := dec.Decode(&opts); err != nil {
		return fmt.Errorf("options must be a JSON object with \"query\" and \"headers\": %w", err)
	}
	if dec.More() {
		return errors.New("trailing data after the options object")
	}
	var err error
	if s.Query, err = scalarMap("query", opts.Query); err != nil {
		return err
	}
	if s.Headers, err = scalarMap("headers", opts.Headers); err != nil {
		return err
	}
	// Header names are case-insensitive; PocketBase's rules see them
	// lowercased (@request.headers.x_token), so one spelling is kept.
	if s.Headers != nil {
		norm := make(map[string]string, len(s.Headers))
		for k, v := range s.Headers {
			norm[strings.ToLower(k)] = v
		}
		s.Headers = norm
	}
	return nil
}

func scalarMap(field string, in map[string]json.RawMessage) (map[string]string, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(in))
	for k, raw := range in {
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 {
			continue
		}
		switch raw[0] {
		case '"':
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, fmt.Errorf("%s.%s: %w", field, k, err)
			}
			out[k] = s
		case 'n':
			out[k] = ""
		case 't', 'f':
			out[k] = string(raw)
		case '{', '[':
			return nil, fmt.Errorf("%s.%s must be a string, number or boolean", field, k)
		default:
			// A number: keep its text so 1e3 or 0.10 reach the rules as sent.
			if _, err := strconv.ParseFloat(string(raw), 64); err != nil {
				return nil, fmt.Errorf("%s.%s: invalid number %s", field, k, raw)
			}
			out[k] = string(raw)
		}
	}
	return out, nil
}

// optionsKey encodes query and headers canonically (sorted keys,
// length-prefixed) so equal options give equal keys whatever the order the
// client wrote them in.
func optionsKey(query, headers map[string]string) string {
	if len(query) == 0 && len(headers) == 0 {
		return ""
	}
	var b strings.Builder
	write := func(tag byte, m map[string]string) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			b.WriteByte(tag)
			b.WriteString(strconv.Itoa(len(k)))
			b.WriteByte(':')
			b.WriteString(k)
			b.WriteString(strconv.Itoa(len(m[k])))
			b.WriteByte(':')
			b.WriteString(m[k])
		}
	}
	write('q', query)
	write('h', headers)
	return b.String()
}
