package schema

import (
	"encoding/json"
	"math"
	"testing"
)

func TestGeoPointNormalize(t *testing.T) {
	t.Parallel()
	f := newTestField(t, "geoPoint", nil, false)
	runNormalize(t, f, []normCase{
		{name: "object", in: map[string]any{"lon": 23.5, "lat": -42.25}, want: GeoPoint{Lon: 23.5, Lat: -42.25}},
		{name: "missing lat", in: map[string]any{"lon": 1.0}, want: GeoPoint{Lon: 1}},
		{name: "extra keys ignored", in: map[string]any{"lon": 1.0, "lat": 2.0, "alt": 3.0}, want: GeoPoint{Lon: 1, Lat: 2}},
		{name: "null", in: nil, want: GeoPoint{}},
		{name: "empty string", in: "", want: GeoPoint{}},
		{name: "json text", in: `{"lon":5,"lat":6}`, want: GeoPoint{Lon: 5, Lat: 6}},
		{name: "raw message", in: json.RawMessage(`{"lat":6}`), want: GeoPoint{Lat: 6}},
		{name: "json null text", in: "null", want: GeoPoint{}},
		{name: "value", in: GeoPoint{Lon: 1, Lat: 2}, want: GeoPoint{Lon: 1, Lat: 2}},
		{name: "string coordinate", in: map[string]any{"lon": "1", "lat": 2.0}, code: "validation_invalid_geo_point"},
		{name: "array", in: []any{1.0, 2.0}, code: "validation_invalid_geo_point"},
		{name: "json array text", in: `[1,2]`, code: "validation_invalid_geo_point"},
		{name: "bad text", in: "here", code: "validation_invalid_geo_point"},
		{name: "number", in: 1.0, code: "validation_invalid_geo_point"},
	})
}

func TestGeoPointValidate(t *testing.T) {
	t.Parallel()
	plain := newTestField(t, "geoPoint", nil, false)
	req := newTestField(t, "geoPoint", nil, true)
	runValidate(t, []valCase{
		{"zero optional", plain, GeoPoint{}, ""},
		{"zero required", req, GeoPoint{}, "validation_required"},
		{"corners", req, GeoPoint{Lon: -180, Lat: 90}, ""},
		{"lon too big", plain, GeoPoint{Lon: 180.1}, "validation_invalid_geo_point"},
		{"lat too small", plain, GeoPoint{Lat: -90.1}, "validation_invalid_geo_point"},
		{"NaN", plain, GeoPoint{Lon: math.NaN()}, "validation_invalid_geo_point"},
		{"wrong type", plain, map[string]any{}, "validation_invalid_geo_point"},
	})
}

func TestGeoPointCheckOptions(t *testing.T) {
	t.Parallel()
	runCheckOptions(t, "geoPoint", nil, nil, []optCase{{name: "none", opts: &GeoPointOptions{}}})
}
