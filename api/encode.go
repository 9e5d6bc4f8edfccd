package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"

	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"status":500,"message":"Something went wrong while processing your request.","data":{}}`)
	}
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// bufPool recycles encode buffers across responses.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// encodeOptions decides, per record, what a viewer may see.
type encodeOptions struct {
	projection *schema.Projection
	viewer     *schema.Record
}

// schemaOptions is the schema-level form of o, built once per response
// (not per record: its Hide closure is shared by every record written).
func (o encodeOptions) schemaOptions() schema.EncodeOptions {
	viewer := o.viewer
	return schema.EncodeOptions{
		Projection: o.projection,
		ShowHidden: isSuperuser(viewer),
		Hide: func(r *schema.Record) map[string]bool {
			if r.Collection.IsAuth() && !canSeeEmail(viewer, r) {
				return hideEmail
			}
			return nil
		},
	}
}

var hideEmail = map[string]bool{"email": true}

// canSeeEmail: an auth record's email is shown to itself, to superusers,
// and to everyone when emailVisibility is on.
func canSeeEmail(viewer, r *schema.Record) bool {
	if v, _ := r.Get("emailVisibility").(bool); v {
		return true
	}
	if viewer == nil {
		return false
	}
	if viewer.Collection.ID == superusersID {
		return true
	}
	return viewer.Collection.ID == r.Collection.ID && viewer.ID() == r.ID()
}

func writeRecord(w http.ResponseWriter, status int, r *schema.Record, o encodeOptions) {
	bp := bufPool.Get().(*[]byte)
	buf := r.AppendJSON((*bp)[:0], o.schemaOptions())
	writeRaw(w, status, buf)
	putBuf(bp, buf)
}

// putBuf returns a buffer to the pool unless one large response grew it
// past what is worth keeping.
func putBuf(bp *[]byte, buf []byte) {
	if cap(buf) > 1<<20 {
		return
	}
	*bp = buf
	bufPool.Put(bp)
}

func writePage(w http.ResponseWriter, page *store.Page, pageNo, perPage int, o encodeOptions) {
	bp := bufPool.Get().(*[]byte)
	buf := appendPage((*bp)[:0], page, pageNo, perPage, o)
	writeRaw(w, http.StatusOK, buf)
	putBuf(bp, buf)
}

// appendPage appends a list answer ({page, perPage, totalItems,
// totalPages, items}) to buf.
func appendPage(buf []byte, page *store.Page, pageNo, perPage int, o encodeOptions) []byte {
	total, totalPages := page.TotalItems, -1
	if total >= 0 {
		totalPages = (total + perPage - 1) / perPage
	}
	buf = append(buf, `{"page":`...)
	buf = strconv.AppendInt(buf, int64(pageNo), 10)
	buf = append(buf, `,"perPage":`...)
	buf = strconv.AppendInt(buf, int64(perPage), 10)
	buf = append(buf, `,"totalItems":`...)
	buf = strconv.AppendInt(buf, int64(total), 10)
	buf = append(buf, `,"totalPages":`...)
	buf = strconv.AppendInt(buf, int64(totalPages), 10)
	buf = append(buf, `,"items":[`...)
	eo := o.schemaOptions()
	for i, r := range page.Items {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = r.AppendJSON(buf, eo)
	}
	return append(buf, "]}"...)
}
