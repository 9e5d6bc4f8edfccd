package main

import (
	"encoding/json"
	"net/http"
)

func jsonDecode(res *http.Response, out any) error { return json.NewDecoder(res.Body).Decode(out) }
