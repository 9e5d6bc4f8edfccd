package filter

import "time"

// DateLayout is how date macros are rendered, matching PocketBase's
// stored date format.
const DateLayout = "2006-01-02 15:04:05.000Z"

// macroValue evaluates a date macro at now (in UTC): dates as text in
// DateLayout, parts (@second ... @year) as numbers, @weekday with Sunday = 0.
func macroValue(name string, now time.Time) (any, bool) {
	now = now.UTC()
	y, m, d := now.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	const endOff = -time.Millisecond
	switch name {
	case "@now":
		return now.Format(DateLayout), true
	case "@second":
		return float64(now.Second()), true
	case "@minute":
		return float64(now.Minute()), true
	case "@hour":
		return float64(now.Hour()), true
	case "@weekday":
		return float64(now.Weekday()), true
	case "@day":
		return float64(d), true
	case "@month":
		return float64(m), true
	case "@year":
		return float64(y), true
	case "@yesterday":
		return now.AddDate(0, 0, -1).Format(DateLayout), true
	case "@tomorrow":
		return now.AddDate(0, 0, 1).Format(DateLayout), true
	case "@todayStart":
		return day.Format(DateLayout), true
	case "@todayEnd":
		return day.AddDate(0, 0, 1).Add(endOff).Format(DateLayout), true
	case "@monthStart":
		return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC).Format(DateLayout), true
	case "@monthEnd":
		return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1, 0).Add(endOff).Format(DateLayout), true
	case "@yearStart":
		return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC).Format(DateLayout), true
	case "@yearEnd":
		return time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC).Add(endOff).Format(DateLayout), true
	}
	return nil, false
}
