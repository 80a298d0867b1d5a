package score

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	for name, mutate := range map[string]func(*Config){
		"decay 1":          func(c *Config) { c.Decay = 1 },
		"decay NaN":        func(c *Config) { c.Decay = math.NaN() },
		"bands":            func(c *Config) { c.GoodOffset = 0.2 },
		"far below poor":   func(c *Config) { c.FarOffset = 0.5 },
		"stratum":          func(c *Config) { c.HighStratum = 12 },
		"zero window":      func(c *Config) { c.TestingWindow = 0 },
		"negative margin":  func(c *Config) { c.DeletionMargin = -time.Second },
		"NaN min score":    func(c *Config) { c.MinScore = math.NaN() },
		"negative ramp":    func(c *Config) { c.RampWidth = -1 },
		"ramp floor above": func(c *Config) { c.RampFloor = 1.5 },
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
	if c.ActiveWindow != 6666666666 || c.AnyWindow != 40*time.Second || c.DeletionMargin != 14*24*time.Hour {
		t.Errorf("scaled: %v %v %v", c.ActiveWindow, c.AnyWindow, c.DeletionMargin)
	}
	if c := DefaultConfig().Scaled(0); c.ActiveWindow != time.Millisecond {
		t.Errorf("scaled to 0: %v, want the 1 ms floor", c.ActiveWindow)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}
