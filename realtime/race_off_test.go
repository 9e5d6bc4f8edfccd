//go:build !race

package realtime

// raceEnabled: the race detector changes memory figures.
const raceEnabled = false
