package assign

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	for _, c := range []Config{DefaultConfig(), Local(), DefaultConfig().Scaled(1.0 / 180), Local().Fast(time.Second)} {
		if err := c.Validate(); err != nil {
			t.Fatalf("Validate: %v", err)
		}
	}
	for name, mutate := range map[string]func(*Config){
		"negative target":    func(c *Config) { c.TargetActive = -1 },
		"no changes":         func(c *Config) { c.MaxChanges = 0 },
		"NaN margin":         func(c *Config) { c.ReplaceRatio = math.NaN() },
		"negative points":    func(c *Config) { c.MinPointsActive = -1 },
		"v4 prefix":          func(c *Config) { c.SpreadV4 = 33 },
		"v6 prefix":          func(c *Config) { c.ServerNetV6 = 129 },
		"account limit":      func(c *Config) { c.AccountMaxTotal = -1 },
		"negative interval":  func(c *Config) { c.ActiveInterval = -1 },
		"negative rescore":   func(c *Config) { c.MinRescore = -time.Second },
		"zero health window": func(c *Config) { c.HealthWindow = 0 },
	} {
		c := DefaultConfig()
		mutate(&c)
		if err := c.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: Validate = %v, want ErrConfig", name, err)
		}
	}
}

func TestScaled(t *testing.T) {
	c := DefaultConfig().Scaled(1.0 / 180)
	if c.ActiveInterval != 3*time.Second || c.SlowInterval != 40*time.Second || c.HealthWindow != 8*time.Minute {
		t.Errorf("scaled intervals %v %v %v", c.ActiveInterval, c.SlowInterval, c.HealthWindow)
	}
	if c.TargetActive != 7 || c.MinPointsActive != 32 {
		t.Error("Scaled changed counts")
	}
}

func TestNextRun(t *testing.T) {
	c := DefaultConfig()
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	if got := c.NextRun(t0, false); !got.Equal(t0.Add(20 * time.Minute)) {
		t.Errorf("NextRun unchanged = %v", got)
	}
	if got := c.NextRun(t0, true); !got.Equal(t0.Add(time.Hour)) {
		t.Errorf("NextRun changed = %v", got)
	}
}
