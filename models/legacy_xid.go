package models

import (
	"fmt"
	"time"

	"gorm.io/gorm"
)

// legacyXIDEvents turns the XID counts of hourly rollups folded before the
// collector counted events into events. Those rows counted the samples
// whose last-XID value was non-zero, and they are the only ones with a count
// but no last XID (the collector records the last value whenever it counts
// an event). DCGM keeps a GPU's last XID until it restarts, so a run of
// consecutive hours with XID samples is one event that stayed shown: the
// run's first hour counts 1, the others 0. This is the fewest events the
// samples show; a second event inside a run cannot be told apart. The KST
// days of the changed rows are summed again.
func legacyXIDEvents(tx *gorm.DB) error {
	var rows []struct {
		DeviceKey string    `gorm:"column:device_key"`
		Hour      time.Time `gorm:"column:hour"`
		XIDCount  int       `gorm:"column:xid_count"`
	}
	err := tx.Table("gpu_rollups").Select("device_key, hour, xid_count").
		Where("xid_count > 0 AND last_xid IS NULL").Order("device_key, hour").Scan(&rows).Error
	if err != nil {
		return fmt.Errorf("legacy XID counts: %w", err)
	}
	days := map[Date][]string{}
	for i, r := range rows {
		events := 1
		if i > 0 && rows[i-1].DeviceKey == r.DeviceKey && rows[i-1].Hour.UTC().Add(time.Hour).Equal(r.Hour.UTC()) {
			events = 0
		}
		if events == r.XIDCount {
			continue
		}
		err := tx.Table("gpu_rollups").Where("device_key = ? AND hour = ?", r.DeviceKey, r.Hour).
			Update("xid_count", events).Error
		if err != nil {
			return fmt.Errorf("legacy XID counts: %w", err)
		}
		d := DateOf(r.Hour)
		days[d] = append(days[d], r.DeviceKey)
	}
	now := tx.NowFunc().UTC()
	for d, keys := range days {
		if err := refreshDays(tx, d, keys, now); err != nil {
			return fmt.Errorf("legacy XID counts of %s: %w", d, err)
		}
	}
	return nil
}
