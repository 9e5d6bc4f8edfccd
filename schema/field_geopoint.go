package schema

import (
	"encoding/json"
	"strings"
)

func init() { Register("geoPoint", func() Options { return &GeoPointOptions{} }) }

// GeoPointOptions are the options of a geoPoint field; it has none. The
// value is a GeoPoint, {"lon":0,"lat":0} when unset; a required geoPoint
// must not be (0, 0).
type GeoPointOptions struct{}

// Storage implements Options.
func (o *GeoPointOptions) Storage(*Field) Storage { return StoreJSON }

// Zero implements Options.
func (o *GeoPointOptions) Zero(*Field) any { return GeoPoint{} }

// CheckOptions implements Options.
func (o *GeoPointOptions) CheckOptions(*Field, *Collection, Lookup) Errors { return Errors{} }

// Normalize implements Options. It accepts an object {"lon":x,"lat":y}
// with numeric coordinates (a missing one is 0), the same object as JSON
// text (form values, stored columns), a GeoPoint, and null or "" for (0, 0).
func (o *GeoPointOptions) Normalize(_ *Field, v any) (any, *FieldError) {
	switch x := v.(type) {
	case nil:
		return GeoPoint{}, nil
	case GeoPoint:
		return x, nil
	case *GeoPoint:
		if x == nil {
			return GeoPoint{}, nil
		}
		return *x, nil
	case map[string]any:
		var p GeoPoint
		for key, dst := range map[string]*float64{"lon": &p.Lon, "lat": &p.Lat} {
			switch n := x[key].(type) {
			case nil:
			case float64:
				*dst = n
			case int:
				*dst = float64(n)
			case int64:
				*dst = float64(n)
			default:
				return nil, errInvalidGeoPoint()
			}
		}
		return p, nil
	case string:
		if strings.TrimSpace(x) == "" {
			return GeoPoint{}, nil
		}
		return o.Normalize(nil, json.RawMessage(x))
	case []byte:
		return o.Normalize(nil, json.RawMessage(x))
	case json.RawMessage:
		var decoded any
		if err := json.Unmarshal(x, &decoded); err != nil {
			return nil, errInvalidGeoPoint()
		}
		if _, isObject := decoded.(map[string]any); !isObject && decoded != nil {
			return nil, errInvalidGeoPoint()
		}
		return o.Normalize(nil, decoded)
	}
	return nil, errInvalidGeoPoint()
}

func errInvalidGeoPoint() *FieldError {
	return NewFieldError("validation_invalid_geo_point", `Must be an object {"lon":-180..180,"lat":-90..90}.`)
}

// Validate implements Options.
func (o *GeoPointOptions) Validate(f *Field, v any) *FieldError {
	p, ok := v.(GeoPoint)
	if !ok {
		return errInvalidGeoPoint()
	}
	// The negated comparisons also reject NaN.
	if !(p.Lon >= -180 && p.Lon <= 180) || !(p.Lat >= -90 && p.Lat <= 90) {
		return errInvalidGeoPoint()
	}
	if f.Required && p.Lon == 0 && p.Lat == 0 {
		return ErrRequired()
	}
	return nil
}
