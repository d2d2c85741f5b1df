package launcher

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// MaxInstances bounds Config.Instances per service.
const MaxInstances = 9

// InstanceName returns the name of instance k (from 1) of a service: the
// service's own name for the first, "<name>-<k>" for the others, such as
// "email-2". System methods that take a service name take an instance
// name too.
func InstanceName(name string, k int) string {
	if k <= 1 {
		return name
	}
	return name + "-" + strconv.Itoa(k)
}

// instances returns how many instances of a service to run (at least 1).
func (c *Config) instances(name string) int {
	return max(c.Instances[name], 1)
}

// instanceNames returns every instance of every service, in start order
// (all instances of a service together).
func (c *Config) instanceNames() []string {
	var names []string
	for _, name := range c.Services {
		for k := 1; k <= c.instances(name); k++ {
			names = append(names, InstanceName(name, k))
		}
	}
	return names
}

// instancePort returns the port of instance k: the service's port for the
// first; under Fixed, the service's fixed port plus 100 per further
// instance (email 8083, email-2 8183); otherwise 0 (a free one).
func (c *Config) instancePort(name string, k int) int {
	if k == 1 {
		return c.port(name)
	}
	if p := c.Ports[InstanceName(name, k)]; p != 0 {
		return p
	}
	if c.Fixed {
		return fixedPorts()[name] + 100*(k-1)
	}
	return 0
}

func (c *Config) validateInstances(started map[string]bool) []error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(c.Instances)) {
		n := c.Instances[name]
		if !started[name] {
			errs = append(errs, fmt.Errorf("instances of service %q, which is not started", name))
		}
		if n < 1 || n > MaxInstances {
			errs = append(errs, fmt.Errorf("instances of %s: %d, want 1 to %d", name, n, MaxInstances))
		}
	}
	return errs
}

// ParseInstances parses the -instances flag of orderbus-run: a number for
// every service ("2"), or name=number pairs ("order=2,email=3"), or both
// ("2,sms=1": every service twice but sms). It returns the count per
// service for Config.Instances.
func ParseInstances(spec string, services []string) (map[string]int, error) {
	out := map[string]int{}
	if strings.TrimSpace(spec) == "" {
		return out, nil
	}
	for part := range strings.SplitSeq(spec, ",") {
		part = strings.TrimSpace(part)
		name, count, named := strings.Cut(part, "=")
		if !named {
			count = name
		}
		n, err := strconv.Atoi(count)
		if err != nil || n < 1 || n > MaxInstances {
			return nil, fmt.Errorf("instances %q: want a count from 1 to %d", part, MaxInstances)
		}
		if !named {
			for _, s := range services {
				if _, set := out[s]; !set {
					out[s] = n
				}
			}
			continue
		}
		out[name] = n
	}
	return out, nil
}

// Instances returns the instance names of a service (see InstanceName),
// or nil when the system does not run it.
func (s *System) Instances(name string) []string {
	if !slices.Contains(s.cfg.Services, name) {
		return nil
	}
	var names []string
	for k := 1; k <= s.cfg.instances(name); k++ {
		names = append(names, InstanceName(name, k))
	}
	return names
}
