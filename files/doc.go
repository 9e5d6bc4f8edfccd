// Package files stores, validates, transforms and serves the files of file
// fields.
//
// The pieces, each usable alone:
//
//   - [Storage] is a small blob store addressed by keys of the form
//     <collectionId>/<recordId>/<filename> (thumbnails under
//     <collectionId>/<recordId>/thumbs_<filename>/<WxH>_<filename>).
//     [Local] keeps them under a directory, [S3] in an S3-compatible bucket.
//     Keys are validated by every method, so a bad key is an error and never
//     a path outside the store.
//   - [Upload] is one uploaded file: a sanitized, randomised stored name and
//     a content type sniffed from the bytes, checked against the field's
//     [schema.FileOptions] before anything is written.
//   - [Thumbnailer] makes PocketBase-style thumbnails once, caches them in
//     the storage and regenerates them when the original is newer.
//   - [Serve] writes a stored file to an HTTP response with Range, ETag and
//     conditional-request support and the headers that keep an uploaded
//     HTML or SVG file from running script in the API's origin.
//   - [Changes] collects the files written and the files to drop during one
//     database transaction, so that a commit deletes the replaced files and a
//     rollback the new ones; [Sweeper] removes what a crash left behind.
package files
